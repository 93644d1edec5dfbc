"""The graph's vocabulary: one class per dataset and flow kind, each checking its own fields
(no engine)."""

from __future__ import annotations

import pytest

from lakesmith.engine.plans import PlanRead
from lakesmith.errors import InvalidDefinition
from lakesmith.graph.graph import FlowInput, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.graph.model import (
    AutoCdcFlow,
    Dataset,
    DatasetKind,
    DltTable,
    Expectation,
    ExpectationAction,
    Flow,
    MaterializedView,
    OnceFlow,
    PersistedView,
    QueryFlow,
    Sink,
    SqlQuery,
    StreamingTable,
    Table,
    TemporaryView,
)
from lakesmith.source_location import SourceLocation

HERE = SourceLocation("pipelines/t.py", 7)


def invalid(build, **fields) -> str:
    with pytest.raises(InvalidDefinition) as info:
        build(**fields)
    assert info.value.location == HERE
    return str(info.value)


def test_each_dataset_kind_is_a_class_with_its_kind() -> None:
    kinds = (MaterializedView, StreamingTable, DltTable, TemporaryView, PersistedView, Sink)
    assert [cls.kind for cls in kinds] \
        == [DatasetKind.MATERIALIZED_VIEW, DatasetKind.STREAMING_TABLE, DatasetKind.TABLE,
            DatasetKind.TEMPORARY_VIEW, DatasetKind.PERSISTED_VIEW, DatasetKind.SINK]
    assert [k.is_stored for k in DatasetKind] == [True, True, False, False, False, True]
    assert [k.is_view for k in DatasetKind] == [False, False, True, True, False, False]
    assert DatasetKind.MATERIALIZED_VIEW.label == "materialized view"


def test_only_stored_tables_have_table_fields() -> None:
    view = TemporaryView(name="v", location=HERE, comment="c")
    sink = Sink(name="s", location=HERE, format="kafka", options={"topic": "t"})
    with pytest.raises(TypeError, match="schema"):
        TemporaryView(name="v", location=HERE, schema="a INT")  # type: ignore[call-arg]
    assert not isinstance(view, Table) and not isinstance(sink, Table)
    assert not hasattr(view, "partition_cols") and not hasattr(sink, "table_properties")


def test_abstract_classes_cannot_be_built() -> None:
    with pytest.raises(TypeError, match="Dataset is abstract"):
        Dataset(name="x", location=HERE)
    with pytest.raises(TypeError, match="Table is abstract"):
        Table(name="x", location=HERE)
    with pytest.raises(TypeError, match="Flow is abstract"):
        Flow(name="f", target="t", location=HERE)


def test_dlt_table_becomes_a_materialized_view_or_streaming_table_with_the_same_fields() -> None:
    rule = Expectation("positive", "id > 0", ExpectationAction.DROP, HERE)
    table = DltTable(name="t", location=HERE, comment="c", expectations=(rule,),
                     table_properties={"a": "b"}, partition_cols=("day",), cluster_by=("id",),
                     schema="id INT, day DATE", format="delta")
    fields = dict(name="t", location=HERE, comment="c", expectations=(rule,),
                  table_properties={"a": "b"}, partition_cols=("day",), cluster_by=("id",),
                  schema="id INT, day DATE", format="delta")
    assert table.as_kind(StreamingTable) == StreamingTable(**fields)
    assert table.as_kind(MaterializedView) == MaterializedView(**fields)


def test_dataset_rules() -> None:
    assert invalid(MaterializedView, name=" ", location=HERE) == (
        "pipelines/t.py:7: a materialized view needs a non-empty string name, got ' '.")
    assert invalid(TemporaryView, name="silver.v", location=HERE) == (
        "pipelines/t.py:7: temporary view 'silver.v' must have a single-part name.")
    assert invalid(Sink, name="s", location=HERE, format="") == (
        "pipelines/t.py:7: sink 's' needs a format (e.g. 'kafka', 'delta'), got ''.")


def query_flow(cls=QueryFlow, **fields) -> QueryFlow:
    return cls(**{"name": "f", "target": "t", "query": SqlQuery("SELECT 1", HERE),
                  "location": HERE, **fields})


def test_query_flows_say_whether_they_run_once() -> None:
    assert (query_flow().once, query_flow().is_default) == (False, True)
    backfill = query_flow(OnceFlow)
    assert (backfill.once, backfill.is_default) == (True, False)
    assert isinstance(backfill, QueryFlow)
    assert invalid(query_flow, cls=OnceFlow, is_default=True) == (
        "pipelines/t.py:7: once flow 'f' cannot be the default flow of 't': a once flow appends "
        "to a dataset defined elsewhere.")
    assert invalid(query_flow, target="") == (
        "pipelines/t.py:7: a flow needs a non-empty string target, got ''.")


def cdc(**fields) -> AutoCdcFlow:
    return AutoCdcFlow(**{"name": "cdc", "target": "t", "source": "changes", "keys": ("id",),
                          "sequence_by": "ts", "location": HERE, **fields})


@pytest.mark.parametrize(("fields", "problem"), [
    ({"keys": ()}, "needs at least one key column (keys=[...]; SQL: KEYS (...))."),
    ({"source": None}, "the source must be a dataset name, got None."),
    ({"stored_as_scd_type": 3}, "stored_as_scd_type must be 1 or 2, got 3."),
    ({"stored_as_scd_type": "2"}, "stored_as_scd_type must be 1 or 2, got '2'."),
    ({"column_list": ("a",), "except_column_list": ("b",)},
     "pass only one of column_list and except_column_list."),
    ({"stored_as_scd_type": 2, "track_history_column_list": ("a",),
      "track_history_except_column_list": ("b",)},
     "pass only one of track_history_column_list and track_history_except_column_list."),
    ({"track_history_except_column_list": ()},
     "TRACK HISTORY ON is only allowed with STORED AS SCD TYPE 2 (track_history_column_list and "
     "track_history_except_column_list need stored_as_scd_type=2)."),
    ({"stored_as_scd_type": 2, "apply_as_truncates": "op = 'T'"},
     "APPLY AS TRUNCATE WHEN is only allowed with SCD TYPE 1 (apply_as_truncates needs "
     "stored_as_scd_type=1)."),
])
def test_auto_cdc_rules(fields: dict, problem: str) -> None:
    assert invalid(cdc, **fields) == f"pipelines/t.py:7: AUTO CDC flow 'cdc': {problem}"


def test_auto_cdc_flow_has_no_query() -> None:
    target = TableName("spark_catalog", "default", "t")
    flow = ResolvedFlow(cdc(), target, None, (FlowInput(PlanRead("changes", True), None),), True)
    assert flow.is_auto_cdc
    with pytest.raises(TypeError, match="flow 'cdc' is an AUTO CDC flow; it has no query"):
        flow.query_flow  # noqa: B018
    once = ResolvedFlow(query_flow(OnceFlow), target, None, (), False)
    assert not once.is_auto_cdc and once.query_flow.once
