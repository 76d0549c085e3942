"""Shared fixtures: where the repository, the samples and the shared corpus are."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
# The shared real-world .evtx corpus: ../shared/corpus beside the checkout, or EVTXMPIO_CORPUS.
CORPUS = Path(os.environ.get("EVTXMPIO_CORPUS") or REPO.parent / "shared" / "corpus")
RACE_XML_CASE = SAMPLES / "kb2406705-race-xml" / "case"


def in_ci() -> bool:
    """``CI=true`` (or 1/yes): a missing corpus is then a failure, never a skip."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def corpus_present() -> bool:
    """Whether the shared corpus is there (its ``reference-counts.json``)."""
    return (CORPUS / "reference-counts.json").is_file()


def require_corpus() -> Path:
    """The corpus folder; skip the test without it, or fail it under ``CI=true``."""
    if corpus_present():
        return CORPUS.resolve()
    message = f"shared corpus not found at {CORPUS} (README: tests that need ../shared)"
    if in_ci():
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


def pytest_configure(config: pytest.Config) -> None:
    """Under ``CI=true`` a missing corpus stops the run before any test is collected: tests
    parametrized over the corpus files would otherwise quietly become no tests at all."""
    del config
    if in_ci() and not corpus_present():
        raise pytest.UsageError(f"CI=true but the shared corpus is missing at {CORPUS}: the "
                                "corpus tests would skip or parametrize to nothing")


def evtx_rendered(path: Path, as_json: bool = False) -> Iterator[str]:
    """Every record the Rust ``evtx`` package renders from ``path`` (XML, or JSON text), read
    independently of ingest; a record it fails on (damaged corpus files) is passed over."""
    from evtx import PyEvtxParser

    parser = PyEvtxParser(str(path))
    records = parser.records_json() if as_json else parser.records()
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except RuntimeError:  # a damaged record: read by no reader compared with it
            continue
        yield record["data"]


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared real-world .evtx corpus."""
    return require_corpus()


@pytest.fixture(scope="session")
def reference_counts(corpus: Path) -> dict:
    """``reference-counts.json`` of the corpus."""
    return json.loads((corpus / "reference-counts.json").read_text(encoding="utf-8"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files (samples/*/expected/) instead of comparing")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite golden files."""
    return bool(request.config.getoption("--update-golden"))


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A deflated zip archive holding ``members`` (name -> bytes), as bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
