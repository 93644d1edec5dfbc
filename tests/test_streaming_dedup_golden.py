"""Streaming deduplication gives Apache Spark 4.3's answers, batch by batch: the rows output, late
rows dropped by the watermark, state evicted by it, no-data batches that advance it. The expected
results are recorded from Spark itself by scripts/golden/streaming_dedup.py (no JVM needed here).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from conftest import read_rows
from lakesmith.runtime.events import UpdateState

GOLDEN = json.loads((Path(__file__).parent / "golden" / "streaming_dedup.json").read_text())
# lakesmith always runs Spark's default no-data batches.
SCENARIOS = [s for s in GOLDEN["scenarios"]
             if s["conf"].get("spark.sql.streaming.noDataMicroBatches.enabled") != "false"]


def micros(value) -> int:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return round(value.timestamp() * 1_000_000)


def rows_key(rows) -> list[tuple]:
    return sorted((r["id"], micros(r["ts"]), r["v"]) for r in rows)


def append(spark, source: Path, batch: list[dict]) -> None:
    data = [(r["id"], datetime.fromisoformat(r["ts"].replace("Z", "+00:00")), r["v"])
            for r in batch]
    spark.createDataFrame(data, "id BIGINT, ts TIMESTAMP, v STRING").coalesce(1) \
        .write.format("delta").mode("append").save(str(source))


def assert_progress(result, ran: list[dict], where: str) -> None:
    """The update's `stateOperators` are Spark's counts over the batches it ran."""
    (flow,) = result.flows
    (operator,) = flow.metrics.details["stateOperators"]
    assert operator["operatorName"] == ran[-1]["state"]["operator"], where
    assert operator["numRowsTotal"] == ran[-1]["state"]["rows_total"], where
    for ours, spark_name in (("numRowsUpdated", "rows_updated"), ("numRowsRemoved", "rows_removed"),
                             ("numRowsDroppedByWatermark", "rows_dropped_by_watermark")):
        assert operator[ours] == sum(b["state"][spark_name] for b in ran), (ours, where)
    assert operator["customMetrics"]["numDroppedDuplicateRows"] == sum(
        b["state"]["duplicates_dropped"] for b in ran), where


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_deduplication_matches_spark(project, tmp_path, spark, scenario) -> None:
    source = tmp_path / "source"
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", f"""
        from pyspark import pipelines as dp

        @dp.table
        def deduped():
            df = (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
                  .load(spark.conf.get("source")))
            return {scenario["operator"]}
    """)
    expected_batches = scenario["batches"]
    if scenario["feed"] == "backlog":
        for batch in scenario["input_batches"]:
            append(spark, source, batch)
        result = project.run()
        assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]
        assert_progress(result, expected_batches, "backlog")
    else:
        ran_before = 0
        for i, batch in enumerate(scenario["input_batches"]):
            append(spark, source, batch)
            result = project.run()
            assert result.state == UpdateState.COMPLETED, [str(r.error)
                                                          for r in result.failed_flows]
            done = [b for b in expected_batches
                    if b["input_batch"] is None or b["input_batch"] <= i]
            done = done[:max(j for j, b in enumerate(expected_batches)
                             if b["input_batch"] == i) + 1]
            expected = [row for b in done for row in b["output"]]
            assert rows_key(project.rows("deduped")) == rows_key(expected), f"after batch {i}"
            # This run's batches: up to the next data batch (a trailing no-data batch included).
            last = len(done) - 1
            while last + 1 < len(expected_batches) \
                    and expected_batches[last + 1]["input_batch"] is None:
                last += 1
            assert_progress(result, expected_batches[ran_before:last + 1], f"after batch {i}")
            ran_before = last + 1
    expected = [row for b in expected_batches for row in b["output"]]
    assert rows_key(project.rows("deduped")) == rows_key(expected)

    offsets = project.root / "storage/checkpoints/spark_catalog.default.deduped/deduped/offsets"
    records = {int(p.name): json.loads(p.read_text()) for p in offsets.iterdir()}
    ran = {b: (r["watermark_ms"] or 0, r["previous_watermark_ms"] or 0)
           for b, r in records.items()}
    if scenario["watermark_column"] is None:
        assert all(r["watermark_ms"] is None for r in records.values())
        assert sorted(ran) == [b["batch_id"] for b in expected_batches]
    else:
        assert ran == {b["batch_id"]: (b["watermark_ms"], b["late_rows_watermark_ms"])
                       for b in expected_batches}


def test_state_of_deduplication_within_watermark_stays_bounded(project, tmp_path, spark) -> None:
    """Evicted keys leave the state table: it holds only keys that can still be duplicated."""
    (scenario,) = [s for s in GOLDEN["scenarios"] if s["name"] == "within_watermark_incremental"]
    test_deduplication_matches_spark(project, tmp_path, spark, scenario)
    state_root = (project.root / "storage/checkpoints/spark_catalog.default.deduped/deduped"
                  / "state")
    # Besides the state: the scratch table of the last batch's deduplicated rows.
    (state,) = [d for d in state_root.iterdir() if not d.name.startswith("scratch-")]
    final = scenario["batches"][-1]
    kept = read_rows(state)
    assert len(kept) == final["state"]["rows_total"]
    assert all(r["__lakesmith_expires_at_micros"] > final["watermark_ms"] * 1000 for r in kept)
