"""An AUTO CDC flow's options resolved against its source (`cdc/spec.py`): the types of the
sequence and the conditions come from the source's schema and at most one more request, and a
wrong option still fails naming it."""

from __future__ import annotations

from typing import Any

import pytest
from pyspark.sql.connect import functions as F
from pyspark.sql.types import LongType, StructType

from lakesmith.cdc.spec import resolve
from lakesmith.errors import LakesmithError
from lakesmith.graph.flows import AutoCdcFlow
from lakesmith.source_location import SourceLocation


def _flow(**options: Any) -> AutoCdcFlow:
    return AutoCdcFlow(**{"name": "f", "target": "t", "location": SourceLocation("p.py"),
                          "source": "changes", "keys": ("id",), **options})


def _source(spark: Any) -> Any:
    return spark.sql("SELECT 1L AS id, 'a' AS name, 'UPSERT' AS op, 3L AS seq, "
                     "named_struct('major', 1, 'minor', 2) AS version")


def test_plain_sequence_column_and_no_conditions_ask_once(spark: Any,
                                                          schema_requests: list[str]) -> None:
    spec = resolve(_flow(sequence_by=F.col("seq")), _source(spark))
    assert len(schema_requests) == 1  # the source's schema
    assert spec.sequence_fields == ("",)  # a scalar: the value itself
    assert spec.deletes is None


def test_expressions_are_typed_in_one_request(spark: Any, schema_requests: list[str]) -> None:
    spec = resolve(_flow(sequence_by="seq", apply_as_deletes=F.expr("op = 'DELETE'"),
                         apply_as_truncates="op = 'TRUNCATE'"), _source(spark))
    assert len(schema_requests) == 2
    assert spec.deletes is not None and spec.truncates is not None


def test_a_struct_sequence_orders_by_its_fields(spark: Any) -> None:
    spec = resolve(_flow(sequence_by=F.struct("seq", "version")), _source(spark))
    assert spec.sequence_fields == ("`seq`", "`version`.`major`", "`version`.`minor`")
    typed = _source(spark).select(spec.sequence.alias("s")).schema
    assert isinstance(typed.fields[0].dataType, StructType)
    assert typed.fields[0].dataType.fields[0].dataType == LongType()


def test_an_invalid_sequence_names_sequence_by(spark: Any) -> None:
    with pytest.raises(LakesmithError, match="sequence_by 'sequ' is not a valid expression"):
        resolve(_flow(sequence_by="sequ", apply_as_deletes="op = 'DELETE'"), _source(spark))


def test_an_invalid_condition_names_its_option(spark: Any) -> None:
    with pytest.raises(LakesmithError, match="apply_as_truncates 'opp = 1' is not a valid "
                                             "condition"):
        resolve(_flow(sequence_by="seq", apply_as_deletes="op = 'DELETE'",
                      apply_as_truncates="opp = 1"), _source(spark))


def test_a_condition_that_is_not_boolean_is_refused(spark: Any) -> None:
    with pytest.raises(LakesmithError, match="apply_as_deletes 'name' must be a boolean "
                                             "condition, not string"):
        resolve(_flow(sequence_by="seq", apply_as_deletes="name"), _source(spark))
    with pytest.raises(LakesmithError, match="apply_as_deletes .* must be a boolean condition, "
                                             "not bigint"):
        resolve(_flow(sequence_by="seq", apply_as_deletes=F.expr("seq + 1")), _source(spark))


def test_a_batch_resolves_comparisons_without_asking(spark: Any,
                                                     schema_requests: list[str]) -> None:
    """A batch resolves the options again over its slice, whose schema lakesmith knows (its
    plan): conditions that are a comparison or a test are BOOLEAN without a request (the
    graph's analysis checked them with the engine); anything else is still asked."""
    source = _source(spark)
    schema = source.schema
    asked = len(schema_requests)
    for deletes in ("op = 'DELETE'", F.expr("op IN ('DELETE', 'D')"), F.col("op") == "DELETE",
                    "op IS NULL"):
        spec = resolve(_flow(sequence_by="seq", apply_as_deletes=deletes), source, schema,
                       analysed=True)
        assert spec.deletes is not None
    assert schema_requests[asked:] == []
    resolve(_flow(sequence_by="seq", apply_as_deletes="upper(op) = 'DELETE'"), source, schema,
            analysed=True)
    assert len(schema_requests) == asked + 1
    with pytest.raises(LakesmithError, match="apply_as_deletes"):  # the analysis's check
        resolve(_flow(sequence_by="seq", apply_as_deletes="opp = 'DELETE'"), source, schema)


def test_a_spec_is_resolved_once_per_flow_and_columns(spark: Any,
                                                      schema_requests: list[str]) -> None:
    """The graph's analysis resolves a flow; its batches over a source of the same columns
    and types reuse that spec; other columns resolve again."""
    flow = _flow(sequence_by="seq", apply_as_deletes="upper(op) = 'DELETE'")
    source = _source(spark)
    first = resolve(flow, source)
    asked = len(schema_requests)
    assert resolve(flow, source, source.schema, analysed=True) is first
    assert schema_requests[asked:] == []
    other = source.withColumn("extra", F.lit(1))
    assert resolve(flow, other).columns == (*first.columns, "extra")
