"""Record Apache Spark 4.3's streaming deduplication semantics as a golden file.

Run with the *oracle* environment (classic PySpark 4.3.0 on a local JVM, never lakesmith's own
environment), from the repository root:

    python3.11 -m venv /work/spark-venv && /work/spark-venv/bin/pip install pyspark==4.3.0
    /work/spark-venv/bin/python scripts/golden/streaming_dedup.py [--out tests/golden/streaming_dedup.json]

Needs Java 17 and nothing else: only Spark's built-in JSON file source and `foreachBatch` are used.

What it records (tests/golden/streaming_dedup.json), for each scenario:

* the operator call, the dedup keys, the watermark column and delay, the feed mode and any conf;
* the input micro-batches, each a list of rows ``{"id", "ts", "v"}`` (``ts`` an ISO-8601 UTC
  timestamp, microsecond precision);
* every micro-batch Spark ran, in order, *including no-data batches*: its batch id, whether it
  had data and which input batch it read, the rows it output (sorted by id, ts, v), and
  - ``watermark_ms``: the batch's own watermark (``batchWatermarkMs`` in the offset log, the value
    ``lastProgress["eventTime"]["watermark"]`` shows); Spark evicts state with it;
  - ``late_rows_watermark_ms``: the watermark that drops late input rows in this batch, i.e. the
    previous batch's ``watermark_ms`` (0 for batch 0) -- see ``PropagateWatermarkSimulator
    .getInputWatermarkForLateEvents``;
  - ``next_watermark_ms``: the watermark after the batch (``nextBatchWatermarkMs`` in the commit
    log), which the next batch gets as its ``watermark_ms``;
  - state-operator metrics from the progress report (rows in state, rows removed, rows dropped
    as late, duplicates dropped).

Feed modes:

* ``incremental``: one long-running query; each input batch is written as one JSON file into the
  watched folder and followed by ``processAllAvailable()``, so Spark runs the data batch and then
  any no-data batch it wants (``spark.sql.streaming.noDataMicroBatches.enabled``) before the next
  file arrives -- what a continuously running stream does.
* ``backlog``: all input files exist before the query starts; ``maxFilesPerTrigger=1`` with
  ``trigger(availableNow=True)`` turns each file into one data batch, back to back, so no no-data
  batch runs between them (Spark only runs one when there is no new data) -- what catching up on a
  backlog does.

Deterministic and rerunnable: timestamps are fixed, seconds after the Unix epoch (UTC); every
temporary folder is created under one temp root that is deleted at the end (and on failure). Each
input file holds one micro-batch in a single partition, so "which duplicate of a key within one
batch wins" is the first one in file order here -- Spark does not promise that in general.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "golden" / "streaming_dedup.json"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

SPARK_CONF = {
    "spark.master": "local[2]",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    "spark.sql.streaming.metricsEnabled": "false",
}


def ts(seconds: float) -> str:
    """ISO-8601 UTC for `seconds` after the epoch, microsecond precision, e.g. 1970-01-01T00:00:10Z."""
    us = round(seconds * 1_000_000)
    return iso_from_us(us)


def iso_from_us(us: int) -> str:
    d = EPOCH + timedelta(microseconds=us)
    frac = f".{d.microsecond:06d}" if d.microsecond else ""
    return d.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def iso_from_ms(ms: int) -> str:
    return iso_from_us(ms * 1000)


def row(id_: int, seconds: float, v: str) -> dict:
    return {"id": id_, "ts": ts(seconds), "v": v}


# --------------------------------------------------------------------------------------------
# Scenarios. Comments give the expected effect (the golden file holds what Spark actually did).
# --------------------------------------------------------------------------------------------

# (a) dropDuplicatesWithinWatermark(["id"]), delay 10 s. State: id -> expiresAt = ts + delay.
WITHIN_WATERMARK_BATCHES = [
    [  # input batch 0: duplicate within the batch; a row AT the initial watermark 0 (epoch)
        row(1, 10, "a"),
        row(1, 12, "b"),        # same key, same batch -> dropped (first in file order wins)
        row(2, 5, "c"),
        row(9, 0, "epoch"),     # ts == 0 == initial late-row watermark -> dropped as late
    ],
    [  # input batch 1 (watermark now 12 - 10 = 2)
        row(1, 15, "d"),        # duplicate of a key still in state -> dropped
        row(4, 2, "e"),         # ts == watermark (2) -> late, dropped
        row(5, 3, "f"),         # ts > watermark -> kept; expiresAt 13
        row(6, 25, "g"),        # advances watermark to 15
    ],
    [  # input batch 2 (watermark 15: ids 2 (expiresAt 15) and 5 (13) evicted by then)
        row(2, 16, "h"),        # id 2 expired -> output again
        row(1, 17, "i"),        # id 1 expiresAt 20 > 15 -> still a duplicate
        row(7, 15, "j"),        # ts == watermark -> late
        row(10, 4, "n"),        # far behind -> late here; in backlog mode kept then evicted at once
        row(11, 15.0005, "sub-ms"),  # 500 us after the watermark -> kept (compare in micros)
        row(8, 16, "k"),
    ],
    [  # input batch 3: max ts 30.0009 s -> watermark floor(30000.9 ms) - 10000 = 20000 ms
        row(1, 30.0009, "l"),   # id 1 (expiresAt 20) still in state at watermark 15 -> dropped
    ],
    [  # input batch 4 (watermark 20: id 1 expiresAt 20 evicted, >= is inclusive)
        row(1, 21, "m"),        # id 1 expired -> output again
        row(12, 20, "late-eq"),  # ts == watermark -> late
    ],
    [  # input batch 5: advances the watermark to 30 -> a trailing no-data batch evicts
        row(2, 20.5, "h2"),     # id 2 (expiresAt 26) still in state -> duplicate
        row(13, 40, "advance"),
    ],
]

# (b) dropDuplicates(["id"]) without a watermark: state grows forever, nothing is late.
NO_WATERMARK_BATCHES = [
    [row(1, 10, "a"), row(1, 12, "b"), row(2, 5, "c")],
    [row(1, 100, "d"), row(3, 0, "e")],           # ts 0 is fine: no watermark, no late rows
    [row(2, 1000, "f"), row(4, 1, "g"), row(4, 1, "g")],
]

# (c) dropDuplicates(["id", "ts"]) with withWatermark("ts", "10 seconds"): the event-time column
# is a key, so state rows (id, ts) are evicted when ts <= watermark, and rows with
# ts <= watermark are dropped as late.
KEYS_WITH_TS_BATCHES = [
    [row(1, 10, "a"), row(1, 10, "b"), row(1, 12, "c"), row(2, 5, "d")],
    [  # watermark 2
        row(1, 10, "e"),        # (1, 10) still in state -> duplicate
        row(2, 2, "f"),         # ts == watermark -> late
        row(3, 3, "g"),
        row(4, 20, "h"),        # watermark -> 10
    ],
    [  # watermark 10: (1,10), (2,5), (3,3) evicted
        row(1, 10, "i"),        # evicted key, but ts == watermark -> late, never output again
        row(1, 12, "j"),        # (1, 12) still in state -> duplicate
        row(1, 11, "k"),        # new (id, ts) -> output
    ],
]

# (d) dropDuplicates(["id"]) with a watermark on ts, which is NOT a key: late rows are still
# dropped (the filter is on the child's event-time column) but state is never evicted.
KEYS_WITHOUT_TS_BATCHES = [
    [row(1, 10, "a"), row(1, 12, "b"), row(2, 5, "c"), row(9, 0, "epoch")],
    [row(1, 100, "d"), row(3, 2, "e"), row(4, 3, "f")],   # watermark 2 -> id 3 late; then 90
    [row(2, 95, "g"), row(5, 90, "h"), row(6, 91, "i")],  # id 2 never evicted; id 5 late
]

WM = ("ts", "10 seconds", 10_000)

SCENARIOS = [
    {
        "name": "within_watermark_incremental",
        "description": "dropDuplicatesWithinWatermark(['id']), delay 10 s; one file per "
                       "processAllAvailable(), so no-data batches run between data batches.",
        "operator": 'df.withWatermark("ts", "10 seconds").dropDuplicatesWithinWatermark(["id"])',
        "method": "dropDuplicatesWithinWatermark",
        "keys": ["id"],
        "watermark": WM,
        "feed": "incremental",
        "conf": {},
        "input_batches": WITHIN_WATERMARK_BATCHES,
    },
    {
        "name": "within_watermark_backlog",
        "description": "Same input as within_watermark_incremental, but all files exist before "
                       "the query starts (availableNow, maxFilesPerTrigger=1): data batches run "
                       "back to back, so late rows are judged against the watermark of two "
                       "batches back while eviction uses the newer one.",
        "operator": 'df.withWatermark("ts", "10 seconds").dropDuplicatesWithinWatermark(["id"])',
        "method": "dropDuplicatesWithinWatermark",
        "keys": ["id"],
        "watermark": WM,
        "feed": "backlog",
        "conf": {},
        "input_batches": WITHIN_WATERMARK_BATCHES,
    },
    {
        "name": "within_watermark_no_data_batches_disabled",
        "description": "Same as within_watermark_incremental with "
                       "spark.sql.streaming.noDataMicroBatches.enabled=false: no no-data "
                       "batches, so eviction and late-row filtering lag one data batch.",
        "operator": 'df.withWatermark("ts", "10 seconds").dropDuplicatesWithinWatermark(["id"])',
        "method": "dropDuplicatesWithinWatermark",
        "keys": ["id"],
        "watermark": WM,
        "feed": "incremental",
        "conf": {"spark.sql.streaming.noDataMicroBatches.enabled": "false"},
        "input_batches": WITHIN_WATERMARK_BATCHES,
    },
    {
        "name": "dedup_no_watermark",
        "description": "dropDuplicates(['id']) on a stream without a watermark.",
        "operator": 'df.dropDuplicates(["id"])',
        "method": "dropDuplicates",
        "keys": ["id"],
        "watermark": None,
        "feed": "incremental",
        "conf": {},
        "input_batches": NO_WATERMARK_BATCHES,
    },
    {
        "name": "dedup_keys_with_event_time",
        "description": "dropDuplicates(['id', 'ts']) with withWatermark('ts', '10 seconds'): "
                       "late-row drop and eviction of (id, ts) state rows with ts <= watermark.",
        "operator": 'df.withWatermark("ts", "10 seconds").dropDuplicates(["id", "ts"])',
        "method": "dropDuplicates",
        "keys": ["id", "ts"],
        "watermark": WM,
        "feed": "incremental",
        "conf": {},
        "input_batches": KEYS_WITH_TS_BATCHES,
    },
    {
        "name": "dedup_keys_without_event_time",
        "description": "dropDuplicates(['id']) with withWatermark('ts', '10 seconds'), ts not "
                       "a key: late rows dropped, state never evicted.",
        "operator": 'df.withWatermark("ts", "10 seconds").dropDuplicates(["id"])',
        "method": "dropDuplicates",
        "keys": ["id"],
        "watermark": WM,
        "feed": "incremental",
        "conf": {},
        "input_batches": KEYS_WITHOUT_TS_BATCHES,
    },
]

SCHEMA_DDL = "id INT, ts TIMESTAMP, v STRING"


# --------------------------------------------------------------------------------------------
# Running a scenario
# --------------------------------------------------------------------------------------------

def write_batch_file(rows: list[dict], staging: Path, target_dir: Path, index: int, mtime: float):
    """Write one input batch as a JSON-lines file; move it into the watched folder atomically."""
    name = f"batch_{index:03d}.json"
    tmp = staging / name
    with tmp.open("w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, target_dir / name)


def read_log_json(path: Path) -> list[dict]:
    """Lines after the version header of a checkpoint log file, parsed as JSON where possible."""
    out = []
    for line in path.read_text().splitlines()[1:]:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def batch_watermark_ms(ckpt: Path, batch_id: int) -> int:
    for obj in read_log_json(ckpt / "offsets" / str(batch_id)):
        if isinstance(obj, dict) and "batchWatermarkMs" in obj:
            return int(obj["batchWatermarkMs"])
    raise RuntimeError(f"no batchWatermarkMs in offsets/{batch_id}")


def next_watermark_ms(ckpt: Path, batch_id: int) -> int:
    for obj in read_log_json(ckpt / "commits" / str(batch_id)):
        if isinstance(obj, dict) and "nextBatchWatermarkMs" in obj:
            return int(obj["nextBatchWatermarkMs"])
    raise RuntimeError(f"no nextBatchWatermarkMs in commits/{batch_id}")


def source_log_offset(ckpt: Path, batch_id: int) -> int | None:
    """The file source's logOffset recorded for this batch in offsets/<id> (None if absent)."""
    for obj in read_log_json(ckpt / "offsets" / str(batch_id)):
        if isinstance(obj, dict) and "logOffset" in obj:
            return int(obj["logOffset"])
    return None


def files_of_log_offset(ckpt: Path, log_offset: int) -> list[str]:
    """Files the file source added at `log_offset` (its own log, sources/0/<logOffset>)."""
    p = ckpt / "sources" / "0" / str(log_offset)
    return sorted(Path(o["path"]).name for o in read_log_json(p) if "path" in o)


def run_scenario(spark, sc: dict, root: Path) -> dict:
    work = root / sc["name"]
    src, staging, ckpt = work / "src", work / "staging", work / "checkpoint"
    for d in (src, staging):
        d.mkdir(parents=True)

    for k, v in sc["conf"].items():
        spark.conf.set(k, v)
    try:
        outputs: dict[int, list[dict]] = {}

        def collect(df, batch_id):
            rows = df.selectExpr("id", "unix_micros(ts) AS ts_us", "v").collect()
            outputs[batch_id] = sorted(
                ({"id": r["id"], "ts": iso_from_us(r["ts_us"]), "v": r["v"], "_us": r["ts_us"]}
                 for r in rows),
                key=lambda r: (r["id"], r["_us"], r["v"]))
            for r in outputs[batch_id]:
                del r["_us"]

        base_mtime = 1_700_000_000.0
        if sc["feed"] == "backlog":
            for i, rows in enumerate(sc["input_batches"]):
                write_batch_file(rows, staging, src, i, base_mtime + i)

        df = (spark.readStream.schema(SCHEMA_DDL).option("maxFilesPerTrigger", 1)
              .json(str(src)))
        if sc["watermark"] is not None:
            col, delay, _ = sc["watermark"]
            df = df.withWatermark(col, delay)
        df = getattr(df, sc["method"])(sc["keys"])

        writer = (df.writeStream.foreachBatch(collect).outputMode("append")
                  .option("checkpointLocation", str(ckpt)).queryName(sc["name"]))
        if sc["feed"] == "backlog":
            q = writer.trigger(availableNow=True).start()
            q.awaitTermination()
        else:
            q = writer.start()
            try:
                for i, rows in enumerate(sc["input_batches"]):
                    write_batch_file(rows, staging, src, i, base_mtime + i)
                    q.processAllAvailable()
            finally:
                q.stop()
        if q.exception() is not None:
            raise RuntimeError(str(q.exception()))
        progress = {p["batchId"]: p for p in q.recentProgress}
    finally:
        for k in sc["conf"]:
            spark.conf.unset(k)

    file_index = {f"batch_{i:03d}.json": i for i in range(len(sc["input_batches"]))}
    batch_ids = sorted(int(p.name) for p in (ckpt / "commits").iterdir() if p.name.isdigit())
    batches = []
    prev_wm = 0
    prev_offset = None
    for b in batch_ids:
        offset = source_log_offset(ckpt, b)
        files = (files_of_log_offset(ckpt, offset)
                 if offset is not None and offset != prev_offset else [])
        prev_offset = offset
        assert len(files) <= 1, (sc["name"], b, files)
        wm = batch_watermark_ms(ckpt, b)
        nxt = next_watermark_ms(ckpt, b)
        p = progress.get(b, {})
        ops = p.get("stateOperators") or [{}]
        op = ops[0]
        entry = {
            "batch_id": b,
            "kind": "data" if files else "no-data",
            "input_batch": file_index[files[0]] if files else None,
            "num_input_rows": p.get("numInputRows"),
            "output": outputs.get(b, []),
        }
        if sc["watermark"] is not None:
            entry.update({
                "late_rows_watermark_ms": prev_wm,
                "late_rows_watermark": iso_from_ms(prev_wm),
                "watermark_ms": wm,
                "watermark": iso_from_ms(wm),
                "progress_watermark": (p.get("eventTime") or {}).get("watermark"),
                "next_watermark_ms": nxt,
                "next_watermark": iso_from_ms(nxt),
            })
        entry["state"] = {
            "operator": op.get("operatorName"),
            "rows_total": op.get("numRowsTotal"),
            "rows_updated": op.get("numRowsUpdated"),
            "rows_removed": op.get("numRowsRemoved"),
            "rows_dropped_by_watermark": op.get("numRowsDroppedByWatermark"),
            "duplicates_dropped": (op.get("customMetrics") or {}).get("numDroppedDuplicateRows"),
        }
        batches.append(entry)
        prev_wm = wm

    col, delay, delay_ms = sc["watermark"] if sc["watermark"] else (None, None, None)
    return {
        "name": sc["name"],
        "description": sc["description"],
        "operator": sc["operator"],
        "method": sc["method"],
        "keys": sc["keys"],
        "watermark_column": col,
        "delay": delay,
        "delay_ms": delay_ms,
        "feed": sc["feed"],
        "conf": sc["conf"],
        "input_batches": sc["input_batches"],
        "batches": batches,
    }


def java_version() -> str:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
        return out.splitlines()[0].strip()
    except Exception:  # pragma: no cover
        return "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", action="append", help="run only the named scenario(s)")
    args = ap.parse_args()

    import pyspark
    from pyspark.sql import SparkSession

    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="lakesmith-golden-dedup-"))
    builder = SparkSession.builder.appName("lakesmith-golden-streaming-dedup")
    for k, v in SPARK_CONF.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        defaults = {
            k: spark.conf.get(k) for k in (
                "spark.sql.streaming.noDataMicroBatches.enabled",
                "spark.sql.streaming.statefulOperator.allowMultiple",
                "spark.sql.streaming.multipleWatermarkPolicy",
                "spark.sql.streaming.statefulOperator.incrementalCleanupFactor",
                "spark.sql.streaming.stateStore.providerClass",
            )
        }
        results = []
        for sc in SCENARIOS:
            if args.only and sc["name"] not in args.only:
                continue
            t0 = time.monotonic()
            results.append(run_scenario(spark, sc, root))
            print(f"{sc['name']}: {len(results[-1]['batches'])} batches, "
                  f"{time.monotonic() - t0:.1f} s", file=sys.stderr)
    finally:
        spark.stop()
        shutil.rmtree(root, ignore_errors=True)

    doc = {
        "generated_by": "scripts/golden/streaming_dedup.py",
        "run_with": "/work/spark-venv/bin/python scripts/golden/streaming_dedup.py",
        "spark_version": pyspark.__version__,
        "java": java_version(),
        "spark_conf": SPARK_CONF,
        "spark_conf_defaults_observed": defaults,
        "input_schema": SCHEMA_DDL,
        "notes": [
            "Timestamps are UTC ISO-8601 with microsecond precision; watermarks are epoch "
            "milliseconds (Spark keeps them in ms).",
            "Rows are output in batch order; within a batch they are sorted by (id, ts, v).",
            "watermark_ms is the batch's own watermark (offset log batchWatermarkMs, also "
            "progress eventTime.watermark) and is the one that evicts state; "
            "late_rows_watermark_ms is the previous batch's watermark_ms (0 for batch 0) and is "
            "the one that drops late input rows (ts <= it); next_watermark_ms is the commit "
            "log's nextBatchWatermarkMs.",
            "Within one input batch, the first duplicate in file order is the one kept.",
            "Order within a batch (statefulOperators.scala, BaseStreamingDeduplicateExec."
            "doExecute): drop rows with ts <= late_rows_watermark; keep a row iff its key is not "
            "in state, and put it (dropDuplicatesWithinWatermark stores expiresAt = ts + delay); "
            "after all rows, evict with watermark_ms (withinWatermark: expiresAt <= watermark; "
            "dropDuplicates: only if the event-time column is a key, key ts <= watermark).",
        ],
        "scenarios": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
