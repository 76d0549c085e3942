"""Every input problem of a case as one line with its reason, for the terminal and the report.

A file's problems are its account's ``errors`` (:class:`evtxmpio.ingest.base.FileAccount`): a
file that could not be opened or sniffed has only those, no :class:`IngestIssue`; an issue met
while reading is in both, and then the issue's own line is used because it names the offset.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evtxmpio.detect import CaseResult


def input_problems(case: CaseResult) -> list[str]:
    """One line per problem, ``file[ at offset N]: reason``, in input order."""
    by_text: dict[tuple[str, str], list[str]] = defaultdict(list)
    for issue in case.issues:
        by_text[(issue.source_path, f"{issue.code}: {issue.detail}")].append(issue.line())
    lines: list[str] = []
    for account in case.accounts:
        for error in account.errors:
            matching = by_text.get((account.file, error))
            lines.append(matching.pop(0) if matching else f"{account.file}: {error}")
    # issues no account holds (none today) are still shown
    lines.extend(line for remaining in by_text.values() for line in remaining)
    return lines


def problem_counts(case: CaseResult) -> tuple[int, int]:
    """(inputs with a problem, problems in all)."""
    counts = [len(account.errors) for account in case.accounts]
    return sum(1 for count in counts if count), sum(counts)
