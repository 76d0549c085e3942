"""What the storage incidents cost the cluster, as the report and the terminal show it.

One sentence per incident (:func:`evtxmpio.detect.impact.incident_costs`), the cluster events
that were not attributed with their reason, and the nodes of each cluster with their clock
offset. Texts come from the customer's logs: the template autoescapes them, the terminal
prints them literally (:func:`evtxmpio.report.terminal.print_impact`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evtxmpio.detect.impact import incident_costs
from evtxmpio.report.jsonout import evidence_refs, iso

if TYPE_CHECKING:
    from evtxmpio.detect import CaseResult

UNATTRIBUTED_COLUMNS = ("time (UTC)", "host", "kind", "name", "why not attributed")
NODE_COLUMNS = ("cluster", "node", "clock offset", "events compared", "applied")


def impact_views(case: CaseResult) -> dict[str, Any]:
    """``costs`` (sentences), ``attributed`` (with the chain of records), ``unattributed``
    and ``nodes`` rows for the report."""
    impacts = getattr(case, "impact", None) or []
    unattributed = tuple(
        {"time": iso(i.time), "host": i.host, "kind": i.kind, "name": i.name or "",
         "reason": i.reason, "candidates": tuple(
             f"MPIODisk{c.mpio_disk} on {c.host}" for c in i.candidates)}
        for i in impacts if i.incident is None)
    attributed = tuple(
        {"time": iso(i.time), "host": i.host, "kind": i.kind, "name": i.name or "",
         "cause": f"MPIODisk{i.incident.mpio_disk} on {i.incident.host}", "reason": i.reason,
         "chain": tuple(f"{ref['file']} #{ref['record_id']}"
                        for ref in evidence_refs(case, i.chain))}
        for i in impacts if i.incident is not None)
    nodes = tuple(
        {"cluster": c.name or "(name not in the logs)", "host": k.host,
         "offset": _offset(k.offset, k.host == c.reference), "pairs": k.pairs,
         "applied": "yes" if k.applied else "no",
         "evidence": "; ".join(c.evidence) if k.host == c.reference else "as above"}
        for c in getattr(case, "clusters", None) or [] for k in c.clocks)
    return {"costs": tuple(cost.sentence for cost in incident_costs(impacts)),
            "attributed": attributed, "unattributed": unattributed, "nodes": nodes,
            "total": len(impacts)}


def _offset(offset: Any, reference: bool) -> str:
    if reference:
        return "reference clock"
    if offset is None:
        return "unknown (no event both nodes logged)"
    return f"{offset.total_seconds() * 1000:+.1f} ms"
