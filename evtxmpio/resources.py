"""Locate the shipped ``rules/`` and ``reports/`` folders, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

from evtxmpio.errors import Error

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder ``name`` (``rules`` or ``reports``).

    A wheel carries them as ``evtxmpio/_data/<name>``; a checkout or an editable install has
    them at the repository top level, beside the package.

    Raises:
        Error: when neither location exists (a broken installation).
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise Error(f"{name}/: folder not found beside the evtxmpio package (broken installation?)")
