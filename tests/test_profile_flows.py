"""`benchmarks/profile_flows.py` on the medallion example at a tiny size: per flow, the engine
round trips of an update with new data, which keep the fixed costs of a small update in check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def profile(project: Path) -> dict:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "profile_flows.py"), str(project),
         "--timeline"], cwd=project, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "silver_orders" in result.stdout and "execute" in result.stdout  # table, timeline
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_update_with_new_data_makes_few_round_trips_per_flow(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO))
    from benchmarks.medallion import generator, lakesmith_project

    landing = tmp_path / "landing"
    generate = generator()
    generate.generate(landing, events=2000, files=2)
    project = lakesmith_project(tmp_path / "project", landing)
    full = profile(project)
    assert full["state"] == "COMPLETED"
    generate.generate(landing, events=2000, files=2, more=True)

    report = profile(project)

    assert report["state"] == "COMPLETED"
    flows = report["flows"]
    assert set(flows) == {"bronze_orders", "bronze_customers", "customer_changes",
                          "silver_orders", "silver_customers", "gold_daily_revenue",
                          "gold_current_customers", "gold_customer_orders"}
    # silver_orders: the batch's rows counted, its candidates written, the kept rows counted,
    # expectations counted, the output and the state written (no second scratch, no count of the
    # state)
    assert flows["silver_orders"]["execute"] <= 6
    # a materialized view: its input registered when read, its result written (not registered)
    assert flows["gold_daily_revenue"]["execute"] <= 2
    # SCD type 2 (silver_customers): its source's schema and the options' types known, no
    # analysis (2 before); the changes (with the NULL check), the rewrite and the event
    # state's append (6 before: the check, CREATE DATABASE and the target's registration
    # too, which now runs on a thread of its own), and perhaps one of silver_orders'
    # expectation counts, whose threads the profile counts in any flow's span
    assert flows["silver_customers"]["analyze"] == 0
    assert flows["silver_customers"]["execute"] <= 4
    # gold_current_customers registers itself once written (gold_customer_orders reads it):
    # its reader does not wait for that request
    assert flows["gold_current_customers"]["execute"] <= 2
    assert all(flow["wall_s"] >= 0 for flow in flows.values())
