"""Shared fixtures: where the repository, the samples and the shared corpus are."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
CORPUS = REPO.parent / "shared" / "corpus"
RACE_XML_CASE = SAMPLES / "kb2406705-race-xml" / "case"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared real-world .evtx corpus (``../shared/corpus`` beside the checkout)."""
    if not (CORPUS / "reference-counts.json").is_file():
        pytest.skip(f"shared corpus not found at {CORPUS} (README: tests that need ../shared)")
    return CORPUS


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
