"""Fixtures of the ingest tests: the shared corpus and the hand-written samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CORPUS as CORPUS_DIR
from tests.conftest import require_corpus

DATA = Path(__file__).resolve().parent / "data"


def corpus_files() -> list[Path]:
    """Every .evtx of the corpus (empty when the corpus is absent)."""
    return sorted((CORPUS_DIR / "evtx").glob("*/*.evtx")) if CORPUS_DIR.is_dir() else []


def corpus_key(path: Path) -> str:
    """The file's key in ``reference-counts.json``."""
    return f"evtx/{path.parent.name}/{path.name}"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return require_corpus()


@pytest.fixture(scope="session")
def references(corpus_dir: Path) -> dict:
    return json.loads((corpus_dir / "reference-counts.json").read_text(encoding="utf-8"))
