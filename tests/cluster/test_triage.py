"""Triage stores what each incident cost the cluster in one table, ``impact`` (issue 18)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from evtxmpio.triage import TriageOptions, run_triage
from tests import handwritten as hw
from tests.cluster.test_impact import A, B, node_a, node_b
from tests.triage.test_local import Collect

# The README's example query, word for word.
RACE_PAUSED_A_CSV = """
SELECT c.name, i.host, i.name AS csv, i.time, i.sentence
FROM impact i JOIN cases c USING (case_id)
WHERE i.kind = 'csv-paused' AND i.attributed AND c.verdict = 'kb2406705-race'
ORDER BY c.name, i.time;
"""


def test_the_impact_table_answers_which_race_paused_a_csv(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "two-nodes").mkdir(parents=True)
    hw.write(inbox / "two-nodes" / "System-A.xml", node_a())
    hw.write(inbox / "two-nodes" / "System-B.xml", node_b())
    db = tmp_path / "cases.duckdb"
    run_triage(TriageOptions(inbox, db, workers=1), Collect())
    with duckdb.connect(str(db), read_only=True) as connection:
        rows = connection.execute(RACE_PAUSED_A_CSV).fetchall()
        kinds = connection.execute(
            "SELECT kind, attributed, count(*) FROM impact GROUP BY ALL ORDER BY ALL").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [("two-nodes", A, "Volume1"),
                                                  ("two-nodes", B, "Volume1")]
    assert rows[0][4].startswith("CSV Volume1 paused on")
    assert kinds == [("csv-paused", False, 1), ("csv-paused", True, 2),
                     ("node-removed", False, 1), ("resource-failed", True, 1),
                     ("role-moved", True, 1)]
