"""Recognising Delta utility statements (no engine): what each statement means, what is left to
the engine, and clear errors for malformed ones."""

from __future__ import annotations

import pytest

from lakesmith.tables.commands import DeltaStatementError, TableRef, parse_delta_statement
from lakesmith.tables.commands.clustering import AlterClusterBy
from lakesmith.tables.commands.create_table import CreateTable
from lakesmith.tables.commands.detail import DescribeDetail
from lakesmith.tables.commands.history import DescribeHistory
from lakesmith.tables.commands.optimize import Optimize
from lakesmith.tables.commands.restore import Restore
from lakesmith.tables.commands.vacuum import Vacuum


@pytest.mark.parametrize(("text", "expected"), [
    ("DESCRIBE HISTORY s.t", DescribeHistory(TableRef(("s", "t")))),
    ("desc history `my t` limit 5;", DescribeHistory(TableRef(("my t",)), 5)),
    ("DESCRIBE DETAIL delta.`/data/x y`", DescribeDetail(TableRef(path="/data/x y"))),
    ("RESTORE t VERSION AS OF 3", Restore(TableRef(("t",)), version=3)),
    ("RESTORE TABLE t TO TIMESTAMP AS OF '2024-01-02 03:04:05'",
     Restore(TableRef(("t",)), timestamp="2024-01-02 03:04:05")),
    ("OPTIMIZE t", Optimize(TableRef(("t",)))),
    ("OPTIMIZE t WHERE day >= '2024-01-01' AND region IN ('eu', 'us') ZORDER BY (a, `b c`)",
     Optimize(TableRef(("t",)), (("day", ">=", "2024-01-01"), ("region", "in", ["eu", "us"])),
              ("a", "b c"))),
    ("OPTIMIZE t ZORDER BY a, b", Optimize(TableRef(("t",)), (), ("a", "b"))),
    ("VACUUM t", Vacuum(TableRef(("t",)))),
    ("VACUUM t RETAIN 1.5 HOURS DRY RUN", Vacuum(TableRef(("t",)), 1.5, True)),
    ("ALTER TABLE t CLUSTER BY (a, b)", AlterClusterBy(TableRef(("t",)), ("a", "b"))),
    ("ALTER TABLE t CLUSTER BY NONE", AlterClusterBy(TableRef(("t",)), ())),
    ("ALTER TABLE t CLUSTER BY AUTO", AlterClusterBy(TableRef(("t",)), (), auto=True)),
])
def test_statements(text: str, expected: object) -> None:
    assert parse_delta_statement(text) == expected


@pytest.mark.parametrize("text", [
    "SELECT * FROM t", "DESCRIBE TABLE EXTENDED t", "ALTER TABLE t SET TBLPROPERTIES ('a'='b')",
    "SHOW TABLES", "CREATE VIEW v AS SELECT 1", "MERGE INTO t USING s ON t.id = s.id "
    "WHEN MATCHED THEN DELETE", "SELECT * FROM t VERSION AS OF 3"])
def test_engine_statements_are_left_to_the_engine(text: str) -> None:
    assert parse_delta_statement(text) is None


def test_create_table_cluster_by_is_cut_out_and_delta_added() -> None:
    statement = parse_delta_statement(
        "CREATE TABLE s.o (a STRING, d DATE) PARTITIONED BY (a) CLUSTER BY (a, d) "
        "COMMENT 'x'")
    assert isinstance(statement, CreateTable)
    assert statement.cluster_by == ("a", "d") and not statement.has_using
    text = statement.engine_sql
    assert "CLUSTER" not in text and text[statement.using_at - 1] == ")"


@pytest.mark.parametrize(("text", "message"), [
    ("VACUUM t RETAIN x HOURS", "Expected a number"),
    ("VACUUM t KEEP", "expected RETAIN n HOURS or DRY RUN"),
    ("OPTIMIZE t WHERE a = b", "is not a literal value"),
    ("OPTIMIZE t WHERE a LIKE 'x%'", "must compare partition columns with values"),
    ("RESTORE t TO VERSION AS OF", "ends too early"),
    ("DESCRIBE HISTORY t EXTRA", "unexpected text at 'EXTRA'"),
])
def test_malformed_statements_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DeltaStatementError, match=message):
        parse_delta_statement(text)
