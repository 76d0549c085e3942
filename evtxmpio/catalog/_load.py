"""Read one YAML file of the catalogue (shipped inside the package, so a wheel carries it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from evtxmpio.errors import Error

_HERE = Path(__file__).resolve().parent


@cache
def load(name: str) -> dict[str, Any]:
    """The mapping in ``evtxmpio/catalog/<name>.yaml`` (read once per process).

    Raises:
        Error: the file is missing or does not hold a mapping (a broken installation).
    """
    path = _HERE / f"{name}.yaml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
                         if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise Error(f"{path}: cannot read the catalogue: {exc}") from exc
    if not isinstance(data, dict):
        raise Error(f"{path}: the catalogue file must hold a mapping")
    return data


def fail(name: str, problem: str) -> Error:
    """An error naming the catalogue file and what is wrong in it."""
    return Error(f"{_HERE / (name + '.yaml')}: {problem}")
