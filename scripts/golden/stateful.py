"""Record Apache Spark 4.3's streaming aggregation semantics (watermarks, windows) as a golden file.

Run with the *oracle* environment (classic PySpark 4.3.0 on a local JVM), from the repository root:

    /work/spark-venv/bin/python scripts/golden/stateful.py [--out tests/golden/stateful.json]

Each scenario is a query over one or two JSON file streams (`k STRING, ts TIMESTAMP, v INT`), read
with `maxFilesPerTrigger` 1 and written in append mode to a Parquet sink. The query text
(`scenario["query"]`) is Python evaluated with `F` (pyspark.sql.functions) and `inputs` (the
streaming DataFrames, in order); lakesmith's tests evaluate the very same text in a pipeline. A
scenario with `sql` instead is a SQL query over the inputs as streaming temp views `{src0}`, ...
(Spark 4.3 reads Databricks' WATERMARK clause); lakesmith's tests run the same text in a pipeline
SQL file with `{src0}` read as `STREAM(src0)`.

Recorded per scenario: every micro-batch Spark ran, in order, including no-data batches: which input
batch it read, the rows it wrote to the sink (from the sink's `_spark_metadata` log), the batch's
watermark (`batchWatermarkMs` in the offset log: it evicts state), the one after it
(`nextBatchWatermarkMs` in the commit log) and the state operator's progress metrics; or, for a
query Spark refuses, the error class and message.

Feed modes (as in streaming_dedup.py): ``incremental`` writes one file per input and waits for
`processAllAvailable()` (Spark runs the no-data batches it wants in between); ``backlog`` writes
all files first and runs `availableNow` (data batches back to back, one trailing no-data batch).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "golden" / "stateful.json"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SCHEMA_DDL = "k STRING, ts TIMESTAMP, v INT"

SPARK_CONF = {
    "spark.master": "local[2]",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
}


def ts(seconds: float) -> str:
    d = EPOCH + timedelta(microseconds=round(seconds * 1_000_000))
    frac = f".{d.microsecond:06d}" if d.microsecond else ""
    return d.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def r(k: str, seconds: float, v: int) -> dict:
    return {"k": k, "ts": ts(seconds), "v": v}


# Tumbling 10 s windows, watermark delay 10 s. Comments: the expected effect (Spark decides).
TUMBLING = [
    [r("a", 1, 1), r("a", 5, 2), r("b", 7, 3), r("a", 12, 4)],        # max 12 -> wm 2
    [r("a", 3, 5), r("b", 15, 6), r("a", 25, 7)],                       # [0,10) still open
    [r("a", 9, 8), r("a", 10, 9), r("b", 20, 10), r("c", 30, 11)],      # [0,10) late; wm 20
    [r("a", 15, 12), r("a", 29.5, 13), r("b", 31, 14)],                 # [10,20) end == wm: late
    [r("c", 45, 15), r("c", 45, 16)],                                   # wm 35: no-data emits
]

# Per key at most one row per window per batch: first/last/collect_list follow arrival order.
ORDERED = [
    [r("a", 1, 1), r("b", 2, 2)],
    [r("a", 4, 3), r("b", 11, 4)],
    [r("a", 6, 5), r("a", 14, 6), r("b", 12, 7)],
    [r("a", 40, 8)],
]

TWO_A = [
    [r("a", 10, 1)],
    [r("a", 40, 2)],                      # input A's watermark 30; B's still -20 (min) or 30 (max)
    [r("a", 25, 3), r("a", 12, 4)],
    [r("a", 70, 5)],
]
TWO_B = [
    [r("b", 10, 10)],
    [r("b", 15, 20)],
    [r("b", 45, 30), r("b", 21, 40)],
    [r("b", 50, 50)],
]

# Session windows with a 5 s gap: a row exactly at a session's end, sessions merging across
# batches, a row bridging two sessions, a late row.
SESSIONS = [
    [r("a", 1, 1), r("a", 3, 2), r("b", 2, 3), r("a", 20, 4)],         # max 20 -> wm 10
    [r("a", 8, 5), r("b", 6, 6), r("a", 14, 7), r("c", 30, 8)],         # max 30 -> wm 20
    [r("a", 4, 9), r("a", 17, 10), r("b", 25, 11), r("a", 19, 12)],     # a 4: late
    [r("a", 50, 13)],                                                   # wm 40
]

# Stream-stream joins on k: matches within a batch, with earlier batches of the other side,
# late rows on either side.
JOIN_LEFT = [
    [r("a", 10, 1), r("b", 11, 2)],
    [r("a", 30, 3), r("c", 31, 4), r("d", 35, 8)],     # d: never matched
    [r("b", 5, 5), r("a", 40, 6)],           # b 5: late once the watermark is past it
    [r("c", 60, 7)],
]
JOIN_RIGHT = [
    [r("a", 12, 10)],
    [r("b", 14, 20), r("a", 33, 30), r("e", 36, 80)],  # e: never matched
    [r("c", 32, 40), r("a", 9, 50)],         # a 9: late
    [r("a", 41, 60), r("c", 61, 70)],
]
JOINED = ('.select(F.col("l.k").alias("k"), F.col("l.ts").alias("lts"), '
          'F.col("l.v").alias("lv"), F.col("r.ts").alias("rts"), F.col("r.v").alias("rv"))')

AGGS = ('F.count("*").alias("n"), F.sum("v").alias("total"), F.avg("v").alias("mean"), '
        'F.min("v").alias("lo"), F.max("v").alias("hi"), '
        'F.approx_count_distinct("v").alias("approx"), F.array_sort(F.collect_set("v")).alias("vals")')
FLAT = 'F.col("window.start").alias("start"), F.col("window.end").alias("end")'

SCENARIOS = [
    {
        "name": "tumbling_incremental",
        "description": "Tumbling 10 s windows per key, watermark 10 s; one file per run, so "
                       "no-data batches run between files: late rows dropped and counted, a window "
                       "straddling batches, a window whose end equals the watermark.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds")'
                 f'.groupBy(F.window("ts", "10 seconds"), "k").agg({AGGS})'
                 f'.select({FLAT}, "k", "n", "total", "mean", "lo", "hi", "approx", "vals")',
        "feed": "incremental", "conf": {}, "inputs": [TUMBLING],
    },
    {
        "name": "tumbling_backlog",
        "description": "Same as tumbling_incremental, all files present before the query: "
                       "data batches back to back, late rows judged by the watermark of two "
                       "batches back.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds")'
                 f'.groupBy(F.window("ts", "10 seconds"), "k").agg({AGGS})'
                 f'.select({FLAT}, "k", "n", "total", "mean", "lo", "hi", "approx", "vals")',
        "feed": "backlog", "conf": {}, "inputs": [TUMBLING],
    },
    {
        "name": "sliding_incremental",
        "description": "Sliding 10 s windows every 5 s, no other key: a row in two windows, one "
                       "of which may be late.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds")'
                 '.groupBy(F.window("ts", "10 seconds", "5 seconds"))'
                 '.agg(F.count("*").alias("n"), F.sum("v").alias("total"))'
                 f'.select({FLAT}, "n", "total")',
        "feed": "incremental", "conf": {}, "inputs": [TUMBLING],
    },
    {
        "name": "ordered_aggregates",
        "description": "first/last/collect_list: one row per key and window per batch, so "
                       "the order is the order of batches.",
        "query": 'inputs[0].withWatermark("ts", "5 seconds")'
                 '.groupBy(F.window("ts", "10 seconds"), "k")'
                 '.agg(F.first("v").alias("first"), F.last("v").alias("last"), '
                 'F.collect_list("v").alias("all"))'
                 f'.select({FLAT}, "k", "first", "last", "all")',
        "feed": "incremental", "conf": {}, "inputs": [ORDERED],
    },
    {
        "name": "two_inputs_min",
        "description": "A union of two streams with watermarks of 10 s and 30 s: the global "
                       "watermark is the minimum of the inputs' (the default policy).",
        "query": '(inputs[0].withWatermark("ts", "10 seconds")'
                 '.unionByName(inputs[1].withWatermark("ts", "30 seconds")))'
                 '.groupBy(F.window("ts", "10 seconds")).agg(F.count("*").alias("n"), '
                 'F.sum("v").alias("total"))'
                 f'.select({FLAT}, "n", "total")',
        "feed": "incremental", "conf": {}, "inputs": [TWO_A, TWO_B],
    },
    {
        "name": "two_inputs_max",
        "description": "two_inputs_min with spark.sql.streaming.multipleWatermarkPolicy=max.",
        "query": '(inputs[0].withWatermark("ts", "10 seconds")'
                 '.unionByName(inputs[1].withWatermark("ts", "30 seconds")))'
                 '.groupBy(F.window("ts", "10 seconds")).agg(F.count("*").alias("n"), '
                 'F.sum("v").alias("total"))'
                 f'.select({FLAT}, "n", "total")',
        "feed": "incremental", "conf": {"spark.sql.streaming.multipleWatermarkPolicy": "max"},
        "inputs": [TWO_A, TWO_B],
    },
    {
        "name": "session_incremental",
        "description": "Session windows with a 5 s gap per key, watermark 10 s.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds")'
                 '.groupBy(F.session_window("ts", "5 seconds"), "k")'
                 '.agg(F.count("*").alias("n"), F.sum("v").alias("total"))'
                 '.select(F.col("session_window.start").alias("start"), '
                 'F.col("session_window.end").alias("end"), "k", "n", "total")',
        "feed": "incremental", "conf": {}, "inputs": [SESSIONS],
    },
    {
        "name": "session_backlog",
        "description": "session_incremental with all files present before the query.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds")'
                 '.groupBy(F.session_window("ts", "5 seconds"), "k")'
                 '.agg(F.count("*").alias("n"), F.sum("v").alias("total"))'
                 '.select(F.col("session_window.start").alias("start"), '
                 'F.col("session_window.end").alias("end"), "k", "n", "total")',
        "feed": "backlog", "conf": {}, "inputs": [SESSIONS],
    },
    {
        "name": "session_dynamic_gap",
        "description": "Session windows whose gap depends on the row: 3 s for key a, 8 s "
                       "otherwise.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds")'
                 '.groupBy(F.session_window("ts", F.when(F.col("k") == "a", "3 seconds")'
                 '.otherwise("8 seconds")), "k")'
                 '.agg(F.count("*").alias("n"), F.sum("v").alias("total"))'
                 '.select(F.col("session_window.start").alias("start"), '
                 'F.col("session_window.end").alias("end"), "k", "n", "total")',
        "feed": "incremental", "conf": {}, "inputs": [SESSIONS],
    },
    {
        "name": "join_inner_no_watermark",
        "description": "An inner stream-stream join on k without watermarks: every pair "
                       "matches, whenever its rows arrive (state kept forever).",
        "query": 'inputs[0].alias("l").join(inputs[1].alias("r"), F.expr("l.k = r.k"))' + JOINED,
        "feed": "incremental", "conf": {}, "inputs": [JOIN_LEFT, JOIN_RIGHT],
    },
    {
        "name": "join_inner_time_range",
        "description": "An inner stream-stream join on k with watermarks (10 s) on both sides "
                       "and a time range: r.ts between l.ts - 5 s and l.ts + 5 s; late rows of "
                       "either side are dropped.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds").alias("l").join('
                 'inputs[1].withWatermark("ts", "10 seconds").alias("r"), F.expr('
                 '"l.k = r.k AND r.ts BETWEEN l.ts - INTERVAL 5 SECONDS '
                 'AND l.ts + INTERVAL 5 SECONDS"))' + JOINED,
        "feed": "incremental", "conf": {}, "inputs": [JOIN_LEFT, JOIN_RIGHT],
    },
    {
        "name": "join_left_outer",
        "description": "join_inner_time_range as a left outer join: a left row that found no "
                       "match is output with nulls when the watermark shows none can come.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds").alias("l").join('
                 'inputs[1].withWatermark("ts", "10 seconds").alias("r"), F.expr('
                 '"l.k = r.k AND r.ts BETWEEN l.ts - INTERVAL 5 SECONDS '
                 'AND l.ts + INTERVAL 5 SECONDS"), "left_outer")' + JOINED,
        "feed": "incremental", "conf": {}, "inputs": [JOIN_LEFT, JOIN_RIGHT],
    },
    {
        "name": "join_right_outer_backlog",
        "description": "The same as a right outer join, all files present before the query.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds").alias("l").join('
                 'inputs[1].withWatermark("ts", "10 seconds").alias("r"), F.expr('
                 '"l.k = r.k AND r.ts BETWEEN l.ts - INTERVAL 5 SECONDS '
                 'AND l.ts + INTERVAL 5 SECONDS"), "right_outer")'
                 '.select(F.col("r.k").alias("k"), F.col("l.ts").alias("lts"), '
                 'F.col("l.v").alias("lv"), F.col("r.ts").alias("rts"), F.col("r.v").alias("rv"))',
        "feed": "backlog", "conf": {}, "inputs": [JOIN_LEFT, JOIN_RIGHT],
    },
    {
        "name": "join_left_semi",
        "description": "join_inner_time_range as a left semi join: a left row is output once, "
                       "when its first match arrives.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds").alias("l").join('
                 'inputs[1].withWatermark("ts", "10 seconds").alias("r"), F.expr('
                 '"l.k = r.k AND r.ts BETWEEN l.ts - INTERVAL 5 SECONDS '
                 'AND l.ts + INTERVAL 5 SECONDS"), "left_semi")'
                 '.select("k", F.col("ts").alias("lts"), F.col("v").alias("lv"))',
        "feed": "incremental", "conf": {}, "inputs": [JOIN_LEFT, JOIN_RIGHT],
    },
    {
        "name": "join_inner_columns",
        "description": "join_inner_time_range with the condition built from Columns "
                       "(between of Column arithmetic): state evicted as with SQL text.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds").alias("l").join('
                 'inputs[1].withWatermark("ts", "10 seconds").alias("r"), '
                 '(F.col("l.k") == F.col("r.k")) & F.col("r.ts").between('
                 'F.col("l.ts") - F.expr("INTERVAL 5 SECONDS"), '
                 'F.col("l.ts") + F.expr("INTERVAL 5 SECONDS")))' + JOINED,
        "feed": "incremental", "conf": {}, "inputs": [JOIN_LEFT, JOIN_RIGHT],
    },
    {
        "name": "join_left_outer_columns",
        "description": "join_left_outer with the condition built from Columns.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds").alias("l").join('
                 'inputs[1].withWatermark("ts", "10 seconds").alias("r"), '
                 '(F.col("l.k") == F.col("r.k")) '
                 '& (F.col("r.ts") >= F.col("l.ts") - F.expr("INTERVAL 5 SECONDS")) '
                 '& (F.col("r.ts") <= F.col("l.ts") + F.expr("INTERVAL 5 SECONDS")), '
                 '"left_outer")' + JOINED,
        "feed": "incremental", "conf": {}, "inputs": [JOIN_LEFT, JOIN_RIGHT],
    },
    {
        "name": "join_window_key",
        "description": "An inner join of two streams on their 10 s window and k (a window of "
                       "the watermarked column as a join key, no time range): state evicted "
                       "when the watermark passes a key's window end.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds")'
                 '.select(F.window("ts", "10 seconds").alias("w"), "k", "v").alias("l").join('
                 'inputs[1].withWatermark("ts", "10 seconds")'
                 '.select(F.window("ts", "10 seconds").alias("w"), "k", "v").alias("r"), '
                 'F.expr("l.w = r.w AND l.k = r.k"))'
                 '.select(F.col("l.w.start").alias("start"), F.col("l.k").alias("k"), '
                 'F.col("l.v").alias("lv"), F.col("r.v").alias("rv"))',
        "feed": "incremental", "conf": {}, "inputs": [JOIN_LEFT, JOIN_RIGHT],
    },
    {
        "name": "sql_tumbling_watermark_clause",
        "description": "tumbling_incremental in SQL: Databricks' WATERMARK clause on the FROM "
                       "item and GROUP BY window(...), the select list naming window.start.",
        "sql": "SELECT window.start AS start, window.end AS end, k, count(*) AS n, "
               "sum(v) AS total, avg(v) AS mean, min(v) AS lo, max(v) AS hi, "
               "approx_count_distinct(v) AS approx, array_sort(collect_set(v)) AS vals "
               "FROM {src0} WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS s "
               "GROUP BY window(ts, '10 seconds'), k",
        "feed": "incremental", "conf": {}, "inputs": [TUMBLING],
    },
    {
        "name": "sql_sliding_computed_watermark",
        "description": "Sliding windows in SQL over a watermark on a computed column "
                       "(WATERMARK expr AS name), with WHERE and HAVING; all files present "
                       "before the query.",
        "sql": "SELECT window(et, '10 seconds', '5 seconds').start AS start, "
               "window.end AS end, count(*) AS n, sum(v) AS total "
               "FROM {src0} WATERMARK ts + INTERVAL 1 SECOND AS et DELAY OF INTERVAL 10 SECONDS "
               "WHERE v <> 3 GROUP BY window(et, '10 seconds', '5 seconds') "
               "HAVING count(*) > 1",
        "feed": "backlog", "conf": {}, "inputs": [TUMBLING],
    },
    {
        "name": "sql_ordered_aggregates",
        "description": "ordered_aggregates in SQL: first, last, collect_list as select items "
                       "with aliases, in arrival order.",
        "sql": "SELECT window.start AS start, window.end AS end, k, first(v) AS first, "
               "last(v) AS last, collect_list(v) AS all "
               "FROM {src0} WATERMARK ts DELAY OF INTERVAL 5 SECONDS "
               "GROUP BY window(ts, '10 seconds'), k",
        "feed": "incremental", "conf": {}, "inputs": [ORDERED],
    },
    {
        "name": "sql_session_window",
        "description": "session_incremental in SQL: GROUP BY session_window(ts, '5 seconds'), "
                       "k, the select list naming session_window.start.",
        "sql": "SELECT session_window.start AS start, session_window.end AS end, k, "
               "count(*) AS n, sum(v) AS total "
               "FROM {src0} WATERMARK ts DELAY OF INTERVAL 10 SECONDS "
               "GROUP BY session_window(ts, '5 seconds'), k",
        "feed": "incremental", "conf": {}, "inputs": [SESSIONS],
    },
    {
        "name": "sql_join_left_outer",
        "description": "join_left_outer in SQL: a WATERMARK clause on each side of a LEFT OUTER "
                       "JOIN with a time range in ON.",
        "sql": "SELECT l.k AS k, l.ts AS lts, l.v AS lv, r.ts AS rts, r.v AS rv "
               "FROM {src0} WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS l "
               "LEFT OUTER JOIN {src1} WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS r "
               "ON l.k = r.k AND r.ts BETWEEN l.ts - INTERVAL 5 SECONDS "
               "AND l.ts + INTERVAL 5 SECONDS",
        "feed": "incremental", "conf": {}, "inputs": [JOIN_LEFT, JOIN_RIGHT],
    },
    {
        "name": "no_watermark",
        "description": "An aggregation without a watermark in append mode: refused.",
        "query": 'inputs[0].groupBy(F.window("ts", "10 seconds")).count()',
        "feed": "incremental", "conf": {}, "inputs": [TUMBLING[:1]],
    },
    {
        "name": "distinct_aggregate",
        "description": "count_distinct on a stream: refused.",
        "query": 'inputs[0].withWatermark("ts", "10 seconds")'
                 '.groupBy(F.window("ts", "10 seconds")).agg(F.count_distinct("v"))',
        "feed": "incremental", "conf": {}, "inputs": [TUMBLING[:1]],
    },
]


def iso(value) -> object:
    if isinstance(value, datetime):
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
        us = round((value - EPOCH).total_seconds() * 1_000_000)
        return ts(us / 1_000_000)
    if isinstance(value, list):
        return [iso(v) for v in value]
    return value


def read_log(path: Path) -> list[dict]:
    out = []
    for line in path.read_text().splitlines()[1:]:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def log_value(path: Path, key: str) -> int:
    for obj in read_log(path):
        if isinstance(obj, dict) and key in obj:
            return int(obj[key])
    raise RuntimeError(f"no {key} in {path}")


def write_file(rows: list[dict], staging: Path, folder: Path, index: int) -> None:
    name = f"batch_{index:03d}.json"
    tmp = staging / name
    tmp.write_text("".join(json.dumps(x) + "\n" for x in rows))
    os.utime(tmp, (1_700_000_000 + index, 1_700_000_000 + index))
    os.replace(tmp, folder / name)


def run_scenario(spark, sc: dict, root: Path) -> dict:
    from pyspark.sql import functions as F

    work = root / sc["name"]
    staging, ckpt, sink = work / "staging", work / "checkpoint", work / "sink"
    staging.mkdir(parents=True)
    folders = [work / f"src{i}" for i in range(len(sc["inputs"]))]
    for folder in folders:
        folder.mkdir()
    result = {k: sc[k] for k in ("name", "description", "query", "sql", "feed", "conf", "inputs")
              if k in sc}
    for k, v in sc["conf"].items():
        spark.conf.set(k, v)

    def feed(index: int) -> None:
        for folder, batches in zip(folders, sc["inputs"]):
            if index < len(batches):
                write_file(batches[index], staging, folder, index)

    count = max(len(b) for b in sc["inputs"])
    try:
        if sc["feed"] == "backlog":
            for i in range(count):
                feed(i)
        inputs = [spark.readStream.schema(SCHEMA_DDL).option("maxFilesPerTrigger", 1)
                  .json(str(folder)) for folder in folders]
        if "sql" in sc:  # the inputs as streaming views src0, src1, ...
            for i, stream in enumerate(inputs):
                stream.createOrReplaceTempView(f"src{i}")
            query = spark.sql(sc["sql"].format(**{f"src{i}": f"src{i}" for i in
                                                  range(len(inputs))}))
        else:
            query = eval(sc["query"], {"F": F, "inputs": inputs})  # noqa: S307 (our own text)
        writer = (query.writeStream.format("parquet").outputMode("append")
                  .option("checkpointLocation", str(ckpt)).option("path", str(sink)))
        try:
            if sc["feed"] == "backlog":
                q = writer.trigger(availableNow=True).start()
                q.awaitTermination()
            else:
                q = writer.start()
                try:
                    for i in range(count):
                        feed(i)
                        q.processAllAvailable()
                finally:
                    q.stop()
        except Exception as e:  # a refusal is the scenario's answer
            result["error"] = {"class": getattr(e, "getCondition", lambda: None)(),
                               "message": str(e).split("\n")[0]}
            return result
        progress = {p["batchId"]: p for p in q.recentProgress}
    finally:
        for k in sc["conf"]:
            spark.conf.unset(k)

    batches = []
    seen: set[str] = set()
    ids = sorted(int(p.name) for p in (ckpt / "commits").iterdir() if p.name.isdigit())
    for b in ids:
        offsets = read_log(ckpt / "offsets" / str(b))
        files = []
        for i in range(len(folders)):
            # The file source's own log names the files each of its log offsets added.
            offset = offsets[1 + i] if 1 + i < len(offsets) else None
            previous = (read_log(ckpt / "offsets" / str(b - 1))[1 + i] if b > 0 else None)
            if offset is not None and offset != previous:
                files += [Path(o["path"]).name for o in
                          read_log(ckpt / "sources" / str(i) / str(offset["logOffset"]))]
        # Every 10th entry of the sink's log is compacted (`9.compact`): all files so far.
        meta = sink / "_spark_metadata" / str(b)
        if not meta.exists():
            meta = meta.with_name(f"{b}.compact")
        output = []
        if meta.exists():
            paths = [o["path"] for o in read_log(meta) if o["path"] not in seen]
            seen.update(paths)
            if paths:
                df = spark.read.schema(query.schema).parquet(*paths)
                output = [{k: iso(v) for k, v in row.asDict(recursive=True).items()}
                          for row in df.collect()]
        output.sort(key=lambda x: json.dumps(x, sort_keys=True))
        p = progress.get(b, {})
        op = (p.get("stateOperators") or [{}])[0]
        batches.append({
            "batch_id": b,
            "input_batch": int(files[0][6:9]) if files else None,
            "num_input_rows": p.get("numInputRows"),
            "watermark_ms": log_value(ckpt / "offsets" / str(b), "batchWatermarkMs"),
            "next_watermark_ms": log_value(ckpt / "commits" / str(b), "nextBatchWatermarkMs"),
            "output": output,
            "state": {key: op.get(key) for key in (
                "operatorName", "numRowsTotal", "numRowsUpdated", "numRowsRemoved",
                "numRowsDroppedByWatermark")},
        })
    result["batches"] = batches
    result["total"] = sorted((x for b in batches for x in b["output"]),
                             key=lambda x: json.dumps(x, sort_keys=True))
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", action="append", help="run only the named scenario(s)")
    args = ap.parse_args()

    import pyspark
    from pyspark.sql import SparkSession

    root = Path(tempfile.mkdtemp(prefix="lakesmith-golden-stateful-"))
    builder = SparkSession.builder.appName("lakesmith-golden-stateful")
    for k, v in SPARK_CONF.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    results = []
    try:
        for sc in SCENARIOS:
            if args.only and sc["name"] not in args.only:
                continue
            t0 = time.monotonic()
            results.append(run_scenario(spark, sc, root))
            print(f"{sc['name']}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
    finally:
        spark.stop()
        shutil.rmtree(root, ignore_errors=True)
    doc = {
        "generated_by": "scripts/golden/stateful.py",
        "run_with": "/work/spark-venv/bin/python scripts/golden/stateful.py",
        "spark_version": pyspark.__version__,
        "spark_conf": SPARK_CONF,
        "input_schema": SCHEMA_DDL,
        "notes": [
            "Timestamps are UTC ISO-8601; watermarks are epoch milliseconds.",
            "Output rows of a batch are those its Parquet sink commit lists, sorted by their "
            "JSON text; `total` is all batches' rows.",
            "watermark_ms evicts state (emits windows with end <= it); the previous batch's "
            "watermark_ms judges late rows.",
        ],
        "scenarios": results,
    }
    if args.only and args.out.exists():  # the other scenarios as they were recorded
        fresh = {sc["name"]: sc for sc in results}
        earlier = json.loads(args.out.read_text())["scenarios"]
        names = [sc["name"] for sc in SCENARIOS]
        kept = {sc["name"]: sc for sc in earlier if sc["name"] in names}
        doc["scenarios"] = [fresh.get(n) or kept[n] for n in names if n in fresh or n in kept]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
