"""Benchmark: what typing comparison operands costs an SQL flow's analysis.

A DOUBLE compared with a DECIMAL column is cast as Spark casts it (`engine/semantics/
comparisons.py`, `decimal_lists.py`), which needs the types of both sides of every comparison of
two columns; `operand_types.py` types a query's operands together: from the tables' schemas
when lakesmith knows them (a pipeline's tables: no round trip), else one probe per SELECT that
has such comparisons. This rewrites (`spark_semantics`) and analyses (`.schema`, as a flow's
analysis does) typical flow queries over temporary views of a Delta table, each with a fresh
type cache, in four modes, alternating:

- `before`: comparisons typed only beside a DECIMAL literal (the rule before column pairs), each
  typed argument asked alone,
- `after`: column pairs typed, a query's typed arguments together (a probe per SELECT),
- `..., tables known`: as a pipeline flow over its tables (schemas from the Delta log),

and prints, per query and mode, the analysis round trips and the median wall time.

    python benchmarks/comparison_operands.py [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

QUERIES = {
    "no column comparison": "SELECT region, sum(amount) AS total FROM sales WHERE qty > 5 "
                            "GROUP BY region",
    "join on BIGINT ids": "SELECT s.id, r.name FROM sales s JOIN regions r ON s.rid = r.rid "
                          "WHERE s.qty > r.min_qty",
    "DOUBLE vs DECIMAL pairs": "SELECT id, price > amount AS above, price BETWEEN amount AND "
                               "amount * 2 AS near FROM sales WHERE price IN (amount, limit_)",
    "pairs in two SELECTs": "WITH big AS (SELECT * FROM sales WHERE price > amount) "
                            "SELECT b.id FROM big b JOIN regions r ON b.rid = r.rid "
                            "WHERE b.price >= r.floor",
}
MODES = ("before", "before, tables known", "after", "after, tables known")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("RUST_LOG", "error")
    from pyspark.sql.connect.session import SparkSession

    from lakesmith.testing import TestEngine

    engine = TestEngine()
    spark = SparkSession.builder.remote(engine.url).create()
    try:
        with tempfile.TemporaryDirectory(prefix="comparison-operands-") as folder:
            schemas = _tables(spark, Path(folder))
            results = {name: _measure(spark, text, schemas, args.runs)
                       for name, text in QUERIES.items()}
    finally:
        spark.stop()
        engine.stop()
    print(json.dumps({"load": os.getloadavg(), "runs": args.runs, "results": results}, indent=1))


def _tables(spark: Any, root: Path) -> dict[str, Any]:
    """Two Delta tables as temporary views; their schemas by the name a flow's text reads."""
    spark.range(10_000).selectExpr(
        "id", "CAST(id % 17 AS INT) AS qty", "id * 1.005D AS price",
        "CAST(id % 1000 / 100 AS DECIMAL(12,2)) AS amount",
        "CAST(5 AS DECIMAL(12,2)) AS limit_", "id % 3 AS rid",
        "CASE id % 3 WHEN 0 THEN 'east' WHEN 1 THEN 'west' ELSE 'north' END AS region",
    ).write.format("delta").save(str(root / "sales"))
    spark.range(3).selectExpr("id AS rid", "CAST(id AS STRING) AS name", "2 AS min_qty",
                              "CAST(1.5 AS DECIMAL(10,2)) AS floor") \
        .write.format("delta").save(str(root / "regions"))
    schemas = {}
    for name in ("sales", "regions"):
        df = spark.read.format("delta").load(str(root / name))
        df.createOrReplaceTempView(name)
        schemas[f"`{name}`"] = df.schema
    return schemas


def _measure(spark: Any, text: str, schemas: dict[str, Any], runs: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    trips: dict[str, int] = {}
    for _ in range(runs):
        for mode in MODES:
            with _mode(mode), _counted() as count:
                start = time.perf_counter()
                _analyse(spark, text, schemas.get if mode.endswith("known") else None)
                times[mode].append(time.perf_counter() - start)
            trips[mode] = count()
    return {mode: {"round_trips": trips[mode],
                   "median_ms": round(statistics.median(times[mode]) * 1000, 2)}
            for mode in MODES}


def _analyse(spark: Any, text: str, tables: Callable[[str], Any] | None) -> None:
    from pyspark.sql.connect import proto

    from lakesmith.engine.plans import dataframe_of
    from lakesmith.engine.semantics.plan_rewrite import spark_semantics

    relation = proto.Relation()
    relation.sql.query = text
    _ = dataframe_of(spark, spark_semantics(spark, relation, {}, tables=tables)).schema


@contextmanager
def _mode(mode: str) -> Iterator[None]:
    """`before`: the comparison rules' candidates as they were (a DECIMAL literal beside), no
    operand prefetch."""
    if not mode.startswith("before"):
        yield
        return
    from pyspark.sql.types import DecimalType

    from lakesmith.engine.semantics import plan_rewrite
    from lakesmith.engine.semantics.comparisons import COMPARISONS, _boolean_like
    from lakesmith.engine.semantics.decimal_lists import DECIMAL_LIST_NAMES
    from lakesmith.engine.semantics.literal_types import literal_type
    from lakesmith.engine.semantics.registry import RULES_BY_NAME

    def decimal(a: str) -> bool:
        return isinstance(literal_type(a), DecimalType)

    saved = {n: RULES_BY_NAME[n] for n in COMPARISONS | DECIMAL_LIST_NAMES}
    prefetch = plan_rewrite.sql_prefetch
    for name in COMPARISONS:
        RULES_BY_NAME[name] = replace(saved[name], candidate=lambda args: len(args) == 2 and any(
            _boolean_like(a) or decimal(a) for a in args))
    for name in DECIMAL_LIST_NAMES:
        RULES_BY_NAME[name] = replace(saved[name],
                                      candidate=lambda args: any(map(decimal, args[1:])))
    plan_rewrite.sql_prefetch = lambda *a: (lambda text, calls: set())  # type: ignore[assignment]
    try:
        yield
    finally:
        RULES_BY_NAME.update(saved)
        plan_rewrite.sql_prefetch = prefetch  # type: ignore[assignment]


@contextmanager
def _counted() -> Iterator[Callable[[], int]]:
    """The analysis requests sent inside (a probe, or the query's own analysis)."""
    from pyspark.sql.connect.client.core import SparkConnectClient

    analyze = SparkConnectClient._analyze
    sent = [0]

    def counted(self: Any, method: str, **kwargs: Any) -> Any:
        sent[0] += 1
        return analyze(self, method, **kwargs)

    SparkConnectClient._analyze = counted  # type: ignore[method-assign]
    try:
        yield lambda: sent[0]
    finally:
        SparkConnectClient._analyze = analyze  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
