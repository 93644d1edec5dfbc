"""Stateful operators of a streaming query found in its plan, and the batch equivalent of a
streaming plan (watermarks removed) that the engine can analyse and run."""

from __future__ import annotations

import pytest
from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto

from lakesmith.engine.plans import (
    PlanRead,
    PlanRewriter,
    TableBinding,
    all_relations,
    dataframe_of,
    relation_of,
)
from lakesmith.engine.stateful import StatefulOperator, batch_equivalent, stateful_operators
from lakesmith.engine.streaming_aggregate import DISTINCT, NO_WATERMARK, NO_WATERMARK_HINT


def kinds(relation: proto.Relation) -> list[str]:
    return [r.WhichOneof("rel_type") for r in all_relations(relation)]


def streams(read: PlanRead) -> bool:
    return read.streaming


@pytest.fixture
def clicks(spark):
    spark.createDataFrame(
        [(1, "2024-01-01 00:00:00"), (1, "2024-01-01 00:05:00"), (2, "2024-01-01 00:01:00")],
        "id BIGINT, ts STRING").selectExpr("id", "CAST(ts AS TIMESTAMP) AS ts") \
        .createOrReplaceTempView("clicks_slice")
    yield "clicks_slice"
    spark.catalog.dropTempView("clicks_slice")


def test_batch_equivalent_removes_the_watermark_and_keeps_plan_ids(spark, clicks) -> None:
    stream = spark.readStream.table("clicks")
    watermarked = stream.withWatermark("ts", "10 minutes")
    df = watermarked.dropDuplicatesWithinWatermark(["id"]).select(watermarked["id"])
    original = relation_of(df)
    assert kinds(original) == ["project", "deduplicate", "with_watermark", "read"]
    watermark = next(r for r in all_relations(original)
                     if r.WhichOneof("rel_type") == "with_watermark")
    batch = batch_equivalent(original)
    assert kinds(batch) == ["project", "deduplicate", "read"]
    dedup = batch.project.input
    assert not dedup.deduplicate.within_watermark
    assert list(dedup.deduplicate.column_names) == ["id"]
    assert dedup.common.plan_id == original.project.input.common.plan_id
    # The watermark's input took its place under the watermark's plan id: watermarked["id"]
    # still resolves.
    assert dedup.deduplicate.input.common.plan_id == watermark.common.plan_id
    assert dedup.deduplicate.input.read == watermark.with_watermark.input.read
    assert original.project.input.deduplicate.within_watermark  # the original is not changed
    assert kinds(original) == ["project", "deduplicate", "with_watermark", "read"]
    runnable = PlanRewriter(spark, lambda read: TableBinding(clicks)).rewrite(batch)
    assert sorted(r.id for r in dataframe_of(spark, runnable).collect()) == [1, 2]


def test_batch_equivalent_of_nested_watermarks_and_plain_dedup(spark) -> None:
    df = spark.readStream.table("a").withWatermark("ts", "1 minute") \
        .withWatermark("ts", "2 minutes").dropDuplicates(["id"])
    batch = batch_equivalent(relation_of(df))
    assert kinds(batch) == ["deduplicate", "read"]
    assert batch == batch_equivalent(batch)  # nothing left to remove
    plain = relation_of(spark.read.table("a").where("id > 0"))
    assert batch_equivalent(plain) == plain


def test_stateful_operators_on_streams(spark) -> None:
    stream = spark.readStream.table("events")
    static = spark.read.table("dim")
    assert stateful_operators(relation_of(stream.join(static, "id").where("id > 0")),
                              streams) == []
    assert stateful_operators(relation_of(static.groupBy("id").count()), streams) == []
    assert stateful_operators(relation_of(stream.groupBy("id").count()), streams) == [
        StatefulOperator("aggregation (groupBy/agg)", False, NO_WATERMARK, NO_WATERMARK_HINT)]
    assert stateful_operators(relation_of(stream.dropDuplicates(["id"])), streams) == [
        StatefulOperator("dropDuplicates", True)]
    watermarked = stream.withWatermark("ts", "1 minute")
    assert stateful_operators(relation_of(watermarked.dropDuplicatesWithinWatermark(["id"])),
                              streams) == [StatefulOperator("watermark", True),
                                           StatefulOperator("dropDuplicatesWithinWatermark",
                                                            True)]
    assert stateful_operators(relation_of(watermarked.groupBy(F.window("ts", "1 minute"))
                                          .count()), streams) == [
        StatefulOperator("watermark", True), StatefulOperator("aggregation (groupBy/agg)", True)]
    assert stateful_operators(relation_of(watermarked.groupBy("id").count()), streams) == [
        StatefulOperator("watermark", False),
        StatefulOperator("aggregation (groupBy/agg)", False, NO_WATERMARK, NO_WATERMARK_HINT)]
    assert stateful_operators(relation_of(watermarked.groupBy(F.window("ts", "1 minute"))
                                          .agg(F.count_distinct("id"))), streams) == [
        StatefulOperator("watermark", False),
        StatefulOperator("aggregation (groupBy/agg)", False, DISTINCT)]
    other = spark.readStream.table("other")
    assert stateful_operators(relation_of(stream.join(other, "id")), streams) == [
        StatefulOperator("stream-stream join", True)]
    assert stateful_operators(relation_of(stream.join(other, "id", "left_anti")), streams) == [
        StatefulOperator("left_anti stream-stream join", False)]
    assert stateful_operators(relation_of(stream.orderBy("id").limit(3)), streams) == [
        StatefulOperator("sorting (orderBy)", False), StatefulOperator("limit", False)]


def test_session_window_is_analysed_through_a_stand_in_of_its_type(spark) -> None:
    """The engine has no session_window: analysis sees struct(ts AS start, ts AS end) named
    session_window, so `session_window.end` resolves."""
    from google.protobuf import json_format

    stream = spark.readStream.table("events").withWatermark("ts", "1 minute")
    grouped = stream.groupBy(F.session_window("ts", "5 minutes")).count()
    text = json_format.MessageToJson(batch_equivalent(relation_of(grouped)))
    assert "session_window" in text and '"functionName": "struct"' in text
    assert '"functionName": "session_window"' not in text
