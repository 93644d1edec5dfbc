"""`lakesmith.testing` used directly by lakesmith's own tests (the plugin's `lakesmith_pipeline`
fixture): inputs from pandas, Arrow and files, several updates, full refresh, results."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from lakesmith.errors import UsageError

SOURCES = """
import dlt

@dlt.table(table_properties={"lakesmith.quarantine": "true"})
@dlt.expect_or_drop("known_country", "country IS NOT NULL")
def customers():
    return spark.readStream.format("delta").load("data/customers")

@dlt.table
def labels():
    return spark.read.option("header", "true").schema("country STRING, label STRING") \\
        .csv("data/labels.csv")

@dlt.table
def by_label():
    return (spark.read.table("customers").join(spark.read.table("labels"), "country")
            .groupBy("label").count())
"""


def test_inputs_from_pandas_arrow_and_files_over_several_updates(lakesmith_pipeline) -> None:
    p = lakesmith_pipeline.source("transformations/t.py", SOURCES)
    p.delta("data/customers", pd.DataFrame({"id": [1, 2, 3], "country": ["NL", None, "UK"]}))
    p.file("data/labels.csv", "country,label\nNL,home\nUK,abroad\n")
    first = p.run()
    assert first.rows("customers", order_by="id") == [{"id": 1, "country": "NL"},
                                                      {"id": 3, "country": "UK"}]
    assert [r["id"] for r in first.rows("customers_quarantine")] == [2]
    assert first.expectations() == {("customers", "known_country"): (2, 1)}
    assert first.flow("customers").metrics.details["num_input_rows"] == 3

    p.delta("data/customers", pa.table({"id": pa.array([4], pa.int64()),
                                        "country": pa.array(["NL"])}))
    second = p.run()
    assert second.flow("customers").metrics.details["num_input_rows"] == 1  # only the new row
    assert second.rows("by_label", order_by="label") == [{"label": "abroad", "count": 1},
                                                         {"label": "home", "count": 2}]
    assert [e["event_type"] for e in second.events("update_progress")][-1] == "update_progress"

    reset = p.run(full_refresh=["customers"])
    assert reset.flow("customers").metrics.details["num_input_rows"] == 4
    assert [r["id"] for r in reset.rows("customers_quarantine")] == [2]  # not kept twice


def test_mistakes_in_a_test_are_named(lakesmith_pipeline) -> None:
    with pytest.raises(UsageError, match="no spec yet"):
        lakesmith_pipeline.run()
    with pytest.raises(UsageError, match="needs a schema"):
        lakesmith_pipeline.delta("data/x", [])
    with pytest.raises(UsageError, match="not set"):
        lakesmith_pipeline.delta("data/x", {1, 2})
    p = lakesmith_pipeline.source("transformations/t.py", SOURCES)
    p.delta("data/customers", [{"id": 1, "country": "NL"}])
    p.file("data/labels.csv", "country,label\n")
    result = p.run(refresh=["customers"])
    with pytest.raises(UsageError, match="Table 'by_label' does not exist"):
        result.rows("by_label")
