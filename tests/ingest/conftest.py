"""Fixtures of the ingest tests: the shared corpus and the hand-written samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
CORPUS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def corpus_files() -> list[Path]:
    """Every .evtx of the corpus (empty when the corpus is absent)."""
    return sorted((CORPUS_DIR / "evtx").glob("*/*.evtx")) if CORPUS_DIR.is_dir() else []


def corpus_key(path: Path) -> str:
    """The file's key in ``reference-counts.json``."""
    return f"evtx/{path.parent.name}/{path.name}"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS_DIR / "reference-counts.json").is_file():
        pytest.skip(f"shared corpus not found at {CORPUS_DIR}")
    return CORPUS_DIR.resolve()


@pytest.fixture(scope="session")
def references(corpus_dir: Path) -> dict:
    return json.loads((corpus_dir / "reference-counts.json").read_text(encoding="utf-8"))
