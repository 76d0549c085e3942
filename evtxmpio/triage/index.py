"""The ranked case index (``index.html``) of a reports folder, rendered from the database.

Cases rank by verdict (the KB 2406705 race first), then by their worst finding's severity,
confidence and data loss; failed cases are listed first, apart, because they need a person.
The template is ``templates/index.html.j2`` (autoescape and ``StrictUndefined``: case names
and failure reasons come from customers; every printed string also shows control and bidi
characters visibly, :func:`evtxmpio.report.visible.show_hidden_line`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from evtxmpio import __version__
from evtxmpio.detect import SEVERITY_RANK, verdict_ranks
from evtxmpio.errors import ReportError
from evtxmpio.report.outputs import write_atomic
from evtxmpio.report.visible import finalize_line
from evtxmpio.triage.store import CaseStore

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "index.html.j2"
INDEX_COLUMNS = ("case_id, name, status, failure_reason, verdict, confidence, max_severity, "
                 "hosts, first_event, last_event, findings_count, delayed_write_count, "
                 "data_loss, input_problems")


def report_name(case_id: str) -> str:
    """The report file of a case inside the reports folder (never the customer's name)."""
    return f"{case_id}.html"


def report_complete(path: Path) -> bool:
    """Whether ``path`` is a whole HTML report (it ends with ``</html>``; a report cut by a
    full disk, or an older version's interrupted write, does not)."""
    try:
        with path.open("rb") as stream:
            stream.seek(max(path.stat().st_size - 64, 0))
            return b"</html>" in stream.read()
    except OSError:
        return False


def rank_key(case: dict[str, Any]) -> tuple[Any, ...]:
    """Sort key: verdict, then worst severity, confidence and data loss (all descending)."""
    ranks = verdict_ranks()  # rules/verdicts.yaml; a verdict it does not know ranks last
    return (ranks.get(case["verdict"], len(ranks)),
            -SEVERITY_RANK.get(case["max_severity"] or "", -1),
            -(case["confidence"] or 0.0), not case["data_loss"], case["name"])


@dataclass(frozen=True, slots=True)
class IndexContext:
    """What ``index.html.j2`` renders.

    Attributes:
        generator: ``evtxmpio <version>``.
        generated_at: when the index was written (UTC, ISO-8601).
        database: the database file name.
        cases: successful cases, ranked; each with ``report`` (link or ``None``).
        failed: failed cases, by name.
        verdict_counts: verdict -> number of cases, in rank order.
    """

    generator: str
    generated_at: str
    database: str
    cases: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    verdict_counts: list[tuple[str, int]]


def build_index(store: CaseStore, reports: Path) -> IndexContext:
    """The index context of every case in the database."""
    rows = store.query(f"SELECT {INDEX_COLUMNS} FROM cases")
    for row in rows:
        complete = report_complete(reports / report_name(row["case_id"]))
        row["report"] = report_name(row["case_id"]) if complete else None
    ok = sorted((row for row in rows if row["status"] == "ok"), key=rank_key)
    counts: dict[str, int] = {}
    for row in ok:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    return IndexContext(
        generator=f"evtxmpio {__version__}",
        generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        database=store.path.name, cases=ok,
        failed=sorted((row for row in rows if row["status"] != "ok"), key=lambda r: r["name"]),
        verdict_counts=list(counts.items()))


def render_index(context: IndexContext) -> str:
    """``index.html`` as text."""
    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              finalize=finalize_line)
    try:
        return environment.get_template(TEMPLATE).render(
            generator=context.generator, generated_at=context.generated_at,
            database=context.database, cases=context.cases, failed=context.failed,
            verdict_counts=context.verdict_counts)
    except TemplateError as exc:
        raise ReportError(f"{TEMPLATE}: {exc}") from exc


def write_index(store: CaseStore, reports: Path) -> Path:
    """Write ``reports/index.html`` atomically; return its path.

    Raises:
        ReportError: when it cannot be written (the previous index stays whole).
    """
    out = reports / "index.html"
    write_atomic(out, render_index(build_index(store, reports)), "the index")
    return out
