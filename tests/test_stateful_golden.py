"""Streaming aggregations give Apache Spark 4.3's answers, batch by batch: windows emitted once
when the watermark passes their end, late rows dropped and counted, sliding windows, ordered
aggregates, two inputs with different delays (min and max policy), no-data batches that emit.
The expected results are recorded from Spark by scripts/golden/stateful.py (no JVM needed here).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

GOLDEN = json.loads((Path(__file__).parent / "golden" / "stateful.json").read_text())
SCENARIOS = [s for s in GOLDEN["scenarios"] if "error" not in s]
REFUSED = [s for s in GOLDEN["scenarios"] if "error" in s]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def iso(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
        d = value.astimezone(timezone.utc)
        frac = f".{d.microsecond:06d}" if d.microsecond else ""
        return d.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"
    if isinstance(value, list):
        return [iso(v) for v in value]
    return value


def normalized(rows: list[dict]) -> list[str]:
    return sorted(json.dumps({k: iso(v) for k, v in row.items()}, sort_keys=True) for row in rows)


def append(spark, source: Path, batch: list[dict]) -> None:
    data = [(r["k"], datetime.fromisoformat(r["ts"].replace("Z", "+00:00")), r["v"])
            for r in batch]
    spark.createDataFrame(data, "k STRING, ts TIMESTAMP, v INT").coalesce(1) \
        .write.format("delta").mode("append").save(str(source))


def write_pipeline(project, sources: list[Path], scenario: dict) -> None:
    project.write_spec(configuration={"sources": ",".join(str(s) for s in sources),
                                      **scenario["conf"]})
    if "sql" in scenario:
        write_sql_pipeline(project, sources, scenario)
        return
    project.write("transformations/t.py", f"""
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.table
        def result():
            inputs = [spark.readStream.format("delta").option("maxFilesPerTrigger", "1").load(p)
                      for p in spark.conf.get("sources").split(",")]
            return {scenario["query"]}
    """)


def write_sql_pipeline(project, sources: list[Path], scenario: dict) -> None:
    """The scenario's SQL in a pipeline SQL file, reading each input as `STREAM(srcN)`: a
    temporary view of the Delta input read one file per batch, as Spark read its files."""
    project.write("transformations/inputs.py", """
        from pyspark import pipelines as dp

        def stream(path):
            return lambda: (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
                            .load(path))

        for i, path in enumerate(spark.conf.get("sources").split(",")):
            dp.temporary_view(stream(path), name=f"src{i}")
    """)
    query = scenario["sql"].format(**{f"src{i}": f"STREAM(src{i})" for i in range(len(sources))})
    project.write("transformations/result.sql",
                  f"CREATE OR REFRESH STREAMING TABLE result AS\n{query};\n")


def feed(spark, sources: list[Path], scenario: dict, index: int) -> None:
    for source, batches in zip(sources, scenario["inputs"], strict=True):
        if index < len(batches):
            append(spark, source, batches[index])


def state_progress(result) -> dict[str, int]:
    (flow,) = [f for f in result.flows if f.metrics and "stateOperators" in f.metrics.details]
    (operator,) = flow.metrics.details["stateOperators"]
    return operator


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_aggregation_matches_spark(project, tmp_path, spark, scenario) -> None:
    sources = [tmp_path / f"source{i}" for i in range(len(scenario["inputs"]))]
    write_pipeline(project, sources, scenario)
    expected = scenario["batches"]
    count = max(len(b) for b in scenario["inputs"])
    if scenario["feed"] == "backlog":
        for i in range(count):
            feed(spark, sources, scenario, i)
        result = project.run()
        assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]
    else:
        done = 0
        for i in range(count):
            feed(spark, sources, scenario, i)
            result = project.run()
            assert result.state == UpdateState.COMPLETED, [str(r.error)
                                                          for r in result.failed_flows]
            last = max(j for j, b in enumerate(expected) if b["input_batch"] == i)
            while last + 1 < len(expected) and expected[last + 1]["input_batch"] is None:
                last += 1
            ran = expected[done:last + 1]
            done = last + 1
            assert normalized(project.rows("result")) == normalized(
                [row for b in expected[:done] for row in b["output"]]), f"after input {i}"
            progress = state_progress(result)
            assert progress["numRowsTotal"] == ran[-1]["state"]["numRowsTotal"], f"input {i}"
            for name in ("numRowsUpdated", "numRowsRemoved", "numRowsDroppedByWatermark"):
                assert progress[name] == sum(b["state"][name] for b in ran), (name, i)
    assert normalized(project.rows("result")) == normalized(scenario["total"])

    checkpoint = project.root / "storage/checkpoints/spark_catalog.default.result/result"
    records = {int(p.name): json.loads(p.read_text()) for p in (checkpoint / "offsets").iterdir()}
    assert {b: r["watermark_ms"] or 0 for b, r in records.items()} == {
        b["batch_id"]: b["watermark_ms"] for b in expected}
    commits = {int(p.name): json.loads(p.read_text()) for p in (checkpoint / "commits").iterdir()}
    assert {b: r["watermark_ms"] or 0 for b, r in commits.items()} == {
        b["batch_id"]: b["next_watermark_ms"] for b in expected}


@pytest.mark.parametrize("scenario", REFUSED, ids=[s["name"] for s in REFUSED])
def test_aggregation_refused_as_spark_refuses_it(project, tmp_path, spark, scenario) -> None:
    sources = [tmp_path / "source0"]
    feed(spark, sources, scenario, 0)
    write_pipeline(project, sources, scenario)
    with pytest.raises(GraphValidationError) as info:
        with project.open():
            pass
    text = str(info.value)
    message = scenario["error"]["message"].removesuffix(" SQLSTATE: 42KDE").removesuffix(";")
    assert message in text
    assert "streaming table 'result' (flow 'result') applies aggregation" in text
    if scenario["name"] == "no_watermark":
        assert "materialized view" in text


def test_sql_stateful_forms_refused_with_reasons(project, tmp_path, spark) -> None:
    """SQL shapes lakesmith does not run are refused at dry-run naming the flow and why: no
    watermark (Spark's message), a CTE, order-sensitive and distinct aggregates, an unnamed
    WATERMARK expression."""
    source = tmp_path / "source0"
    append(spark, source, SCENARIOS[0]["inputs"][0][0])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.sql", """
        CREATE OR REFRESH STREAMING TABLE no_watermark AS
        SELECT window(ts, '10 seconds') AS w, count(*) AS n
        FROM STREAM(delta.`${source}`) GROUP BY window(ts, '10 seconds');

        CREATE OR REFRESH STREAMING TABLE with_cte AS
        WITH s AS (SELECT * FROM STREAM(delta.`${source}`))
        SELECT k, count(*) AS n
        FROM s WATERMARK ts DELAY OF INTERVAL 10 SECONDS GROUP BY window(ts, '10 seconds'), k;

        CREATE OR REFRESH STREAMING TABLE ordered AS
        SELECT k, first(v) + 1 AS f FROM STREAM(delta.`${source}`)
        WATERMARK ts DELAY OF INTERVAL 10 SECONDS GROUP BY window(ts, '10 seconds'), k;

        CREATE OR REFRESH STREAMING TABLE distinct_values AS
        SELECT k, count(DISTINCT v) AS f FROM STREAM(delta.`${source}`)
        WATERMARK ts DELAY OF INTERVAL 10 SECONDS GROUP BY window(ts, '10 seconds'), k;

        CREATE OR REFRESH STREAMING TABLE unnamed AS
        SELECT * FROM STREAM(delta.`${source}`)
        WATERMARK ts + INTERVAL 1 SECOND DELAY OF INTERVAL 10 SECONDS;
    """)
    with pytest.raises(GraphValidationError) as info:
        with project.open():
            pass
    text = str(info.value)
    assert "streaming table 'no_watermark' (flow 'no_watermark') applies aggregation" in text
    assert "STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION" in text and "materialized view" in text
    assert ("flow 'with_cte': the WATERMARK clause is supported by lakesmith in a SELECT that "
            "reads tables or streams") in text and "temporary views" in text
    assert "flow 'ordered': FIRST(v): first, last and collect_list in a streaming SQL" in text
    assert "flow 'distinct_values': Distinct aggregations are not supported" in text
    assert "flow 'unnamed': [REQUIRES_EXPLICIT_NAME_IN_WATERMARK_CLAUSE]" in text
    assert "t.sql:" in text


def test_order_sensitive_aggregates_as_sql_text_are_refused(project, tmp_path, spark) -> None:
    """`F.expr("first(v)")` would not be put in arrival order: refused, never a different value."""
    source = tmp_path / "source0"
    append(spark, source, SCENARIOS[0]["inputs"][0][0])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.table
        def firsts():
            return (spark.readStream.format("delta").load(spark.conf.get("source"))
                    .withWatermark("ts", "10 seconds")
                    .groupBy(F.window("ts", "10 seconds"), "k")
                    .agg(F.expr("first(v)").alias("f")))
    """)
    with pytest.raises(GraphValidationError) as info:
        with project.open():
            pass
    assert ("first(...) written as SQL text (`F.expr(...)` / `selectExpr`) in a streaming "
            "aggregation is not supported by lakesmith yet") in str(info.value)
    assert "Write F.first(...) instead" in str(info.value)


def test_databricks_pipeline_aggregates_an_upstream_streaming_table(project, tmp_path,
                                                                    spark) -> None:
    """The issue's shape: `dlt.read_stream` of a pipeline table, a watermark, a window and other
    keys; the same rows as Spark for the backlog scenario."""
    (scenario,) = [s for s in GOLDEN["scenarios"] if s["name"] == "tumbling_backlog"]
    source = tmp_path / "source0"
    for batch in scenario["inputs"][0]:
        append(spark, source, batch)
    project.write_spec(configuration={"source": str(source)})
    query = scenario["query"].replace("inputs[0]", 'dlt.read_stream("bronze")')
    project.write("transformations/t.py", f"""
        import dlt
        from pyspark.sql import functions as F

        @dlt.table
        def bronze():
            return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
                    .load(spark.conf.get("source")))

        @dlt.table
        def result():
            return {query}
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]
    assert normalized(project.rows("result")) == normalized(scenario["total"])


def test_sql_watermark_clause_over_read_files(project, tmp_path, spark) -> None:
    """The Databricks shape: `STREAM read_files(...)` of JSON files (timestamps arrive as
    strings; `v` hinted as an INT), a computed WATERMARK column, GROUP BY window: Spark's rows of
    sql_tumbling_watermark_clause, whose input is the same rows one file per batch."""
    (scenario,) = [s for s in SCENARIOS if s["name"] == "sql_tumbling_watermark_clause"]
    landing = tmp_path / "landing"
    landing.mkdir()
    project.write_spec(configuration={"landing": str(landing)})
    query = scenario["sql"].format(src0=(
        "STREAM read_files('${landing}', format => 'json', schemaHints => 'v INT', "
        "maxFilesPerTrigger => 1)"
    )).replace("WATERMARK ts", "WATERMARK to_timestamp(ts) AS event_time").replace(
        "window(ts,", "window(event_time,")
    project.write("transformations/result.sql",
                  f"CREATE OR REFRESH STREAMING TABLE result AS\n{query};\n")
    for index, batch in enumerate(scenario["inputs"][0]):  # a file per run, as Spark was fed
        (landing / f"batch_{index:03d}.json").write_text(
            "".join(json.dumps(row) + "\n" for row in batch))
        result = project.run()
        assert result.state == UpdateState.COMPLETED, [str(r.error)
                                                      for r in result.failed_flows]
    assert normalized(project.rows("result")) == normalized(scenario["total"])
