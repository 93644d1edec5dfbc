"""The rows of a stateful operator's input told from its slice's metadata: only through plan nodes
and expressions that keep every row; anything else is unknown (the operator counts). Each known
answer is checked against the engine's count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyspark.sql.connect import functions as F

from lakesmith.engine.plans import PlanRead, relation_of
from lakesmith.runtime.streaming.known_rows import known_rows


@pytest.fixture
def stream(spark: Any, tmp_path: Path) -> Any:
    """A streaming read of a 5-row Delta table (its plan only is inspected; the engine counts
    the same plan read as a batch)."""
    path = str(tmp_path / "source")
    spark.sql("SELECT id, CAST(id AS STRING) AS s, array(id, id) AS a FROM range(5)") \
        .write.format("delta").save(path)
    return spark.readStream.format("delta").load(path), spark.read.format("delta").load(path)


def slice_rows(read: PlanRead) -> int | None:
    return 5 if read.streaming else None


CASES = {
    "the read": lambda df: df,
    "casts, aliases, scalar functions": lambda df: df.select(
        F.col("id").cast("string").alias("k"), F.to_date(F.lit("2024-01-02")).alias("d"),
        F.upper("s").alias("u"), (F.col("id") + 1).alias("n"),
        F.when(F.col("id") > 2, "big").otherwise("small").alias("w")),
    "withColumn, renamed, drop, toDF, alias": lambda df: df.withColumn("x", F.coalesce("s"))
    .withColumnRenamed("x", "y").drop("a").toDF("p", "q", "r").alias("t"),
}
UNKNOWN = {
    "a filter": lambda df: df.where("id > 1"),
    "a generator": lambda df: df.select(F.explode("a").alias("e")),
    "an aggregate function in a select": lambda df: df.select(F.count("id").alias("c")),
    "an unknown function": lambda df: df.select(F.expr("some_new_function(id)").alias("f")),
    "a union": lambda df: df.unionByName(df),
    "a limit": lambda df: df.limit(2),
    "SQL text in a select": lambda df: df.selectExpr("id + 1 AS n"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_row_keeping_plans_have_the_slices_rows(stream: Any, case: str) -> None:
    streaming, batch = stream
    assert known_rows(relation_of(CASES[case](streaming)), slice_rows) == 5
    assert CASES[case](batch).count() == 5


@pytest.mark.parametrize("case", UNKNOWN, ids=list(UNKNOWN))
def test_other_plans_are_unknown(stream: Any, case: str) -> None:
    streaming, _ = stream
    assert known_rows(relation_of(UNKNOWN[case](streaming)), slice_rows) is None


def test_a_batch_read_or_a_slice_without_a_count_is_unknown(stream: Any) -> None:
    streaming, batch = stream
    assert known_rows(relation_of(batch.select("id")), slice_rows) is None
    assert known_rows(relation_of(streaming.select("id")), lambda read: None) is None
