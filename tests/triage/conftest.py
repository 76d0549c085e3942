"""Inboxes for the triage tests, built from the committed samples."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

from tests.triage.faulty_child import CRASH_MARKER, HANG_MARKER

ROOT = Path(__file__).resolve().parents[2]
RACE_XML = ROOT / "samples" / "kb2406705-race-xml" / "case" / "System.xml"
# Replay samples: only the log files a customer would send (not the ground truth or stream).
REPLAY_SAMPLES = ("healthy-failover", "path-flapping", "all-paths-down", "cluster-race")
LOG_PATTERNS = ("*.evtx", "System-*.xml", "*.etw.xml", "*.etw.csv")


def race_variant(folder: Path, number: int) -> Path:
    """The race sample with its host renamed to ``FS<number>`` (so the content hash differs)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = RACE_XML.read_text(encoding="utf-8").replace("FS01.", f"FS{number:02d}.")
    (folder / "System.xml").write_text(text, encoding="utf-8")
    return folder


def copy_replay_sample(name: str, folder: Path) -> Path:
    """The log files of ``samples/<name>`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for pattern in LOG_PATTERNS:
        for path in (ROOT / "samples" / name).glob(pattern):
            shutil.copyfile(path, folder / path.name)
    return folder


def zip_folder(folder: Path, archive: Path) -> Path:
    """``folder``'s files as a zip."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(folder).as_posix())
    return archive


def build_inbox(root: Path, hang: bool = False, crash: bool = False) -> Path:
    """An inbox: race variants as folder, zip and gzip, replay samples, a broken case, and
    optionally a hanging and a crashing case (fault marker files for
    :mod:`tests.triage.faulty_child`)."""
    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    for number in (1, 2):
        race_variant(inbox / f"race-{number}", number)
    zip_folder(race_variant(root / "staging" / "race-3", 3), inbox / "race-3.zip")
    text = RACE_XML.read_bytes().replace(b"FS01.", b"FS04.")
    (inbox / "race-4-System.xml.gz").write_bytes(gzip.compress(text, mtime=0))
    for name in REPLAY_SAMPLES:
        copy_replay_sample(name, inbox / name)
    broken = inbox / "broken"
    broken.mkdir()
    (broken / "System.evtx").write_bytes(b"this is not a log\n" * 10)
    if hang:
        (race_variant(inbox / "hanging", 5) / HANG_MARKER).write_text("injected fault\n")
    if crash:
        (race_variant(inbox / "crashing", 6) / CRASH_MARKER).write_text("injected fault\n")
    return inbox

