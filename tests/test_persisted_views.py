"""Persisted views (SQL `CREATE VIEW`), as Spark's SQL pipelines define them: a named query the
pipeline reads as a batch and publishes under its schema, readable by name from
`lakesmith.session()` and `lakesmith sql`; refused over streams and temporary views."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys

import pytest

import lakesmith
from lakesmith.errors import GraphValidationError, SqlDefinitionError
from lakesmith.runtime.events import UpdateState


def _orders(project) -> None:
    project.write_spec()
    project.write("transformations/orders.sql", """
        CREATE MATERIALIZED VIEW orders AS
        SELECT * FROM VALUES (1, 'a', 10), (2, 'b', 5), (3, 'a', 7) AS t(id, customer, amount);
    """)


def _views(project) -> str:
    project.write("transformations/views.sql", """
        CREATE VIEW big_orders
        COMMENT 'orders over 6'
        AS SELECT id, customer, amount FROM orders WHERE amount > 6;

        CREATE OR REPLACE VIEW customer_totals (who, total) AS
        SELECT customer, sum(amount) FROM LIVE.big_orders GROUP BY customer;

        CREATE MATERIALIZED VIEW top_customer AS
        SELECT who, total FROM customer_totals ORDER BY total DESC LIMIT 1;
    """)
    return "views.sql"


def test_view_is_read_by_a_materialized_view_and_by_name_in_a_session(project) -> None:
    _orders(project)
    _views(project)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result.failed_flows
    assert project.rows("top_customer") == [{"who": "a", "total": 17}]
    assert not project.table_path("big_orders").exists()  # a view stores nothing
    recorded = json.loads((project.root / "storage" / "views.json").read_text())
    assert [v["engine_name"] for v in recorded] == ["`default`.`big_orders`",
                                                    "`default`.`customer_totals`"]
    assert recorded[0]["comment"] == "orders over 6"
    assert "`default`.`big_orders`" in recorded[1]["sql"]  # LIVE.big_orders as the engine names it

    session = lakesmith.session(project.root, remote=project.sail_url)
    try:
        rows = session.sql("SELECT * FROM big_orders ORDER BY id").collect()
        assert [r.asDict() for r in rows] == [{"id": 1, "customer": "a", "amount": 10},
                                              {"id": 3, "customer": "a", "amount": 7}]
        rows = session.sql("SELECT who, total FROM default.customer_totals").collect()
        assert [r.asDict() for r in rows] == [{"who": "a", "total": 17}]
    finally:
        session.stop()


def test_view_follows_its_table_and_a_dropped_definition_is_gone(project) -> None:
    _orders(project)
    _views(project)
    assert project.run().state == UpdateState.COMPLETED
    project.write("transformations/orders.sql", """
        CREATE MATERIALIZED VIEW orders AS
        SELECT * FROM VALUES (4, 'c', 50) AS t(id, customer, amount);
    """)
    project.write("transformations/views.sql", """
        CREATE VIEW big_orders AS SELECT id, customer, amount FROM orders WHERE amount > 6;
    """)
    assert project.run().state == UpdateState.COMPLETED
    recorded = json.loads((project.root / "storage" / "views.json").read_text())
    assert [v["engine_name"] for v in recorded] == ["`default`.`big_orders`"]

    session = lakesmith.session(project.root, remote=project.sail_url)
    try:
        assert [r.asDict() for r in session.sql("SELECT * FROM big_orders").collect()] == [
            {"id": 4, "customer": "c", "amount": 50}]
        with pytest.raises(Exception, match="(?i)customer_totals"):
            session.sql("SELECT * FROM customer_totals").collect()
    finally:
        session.stop()


def test_lakesmith_sql_reads_the_view_and_tables_lists_it(project) -> None:
    _orders(project)
    _views(project)
    assert project.run().state == UpdateState.COMPLETED

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lakesmith", *args], cwd=project.root,
                              text=True, capture_output=True, timeout=120)

    sql = cli("sql", "--format", "json", "SELECT who, total FROM customer_totals")
    assert sql.returncode == 0, sql.stderr
    assert json.loads(sql.stdout) == [{"who": "a", "total": 17}]
    tables = cli("tables")
    assert tables.returncode == 0, tables.stderr
    line = next(x for x in tables.stdout.splitlines() if x.startswith("big_orders"))
    assert "persisted view" in line


def _problems(project) -> str:
    with pytest.raises(GraphValidationError) as info:
        with project.open():
            pass
    return str(info.value)


def test_a_persisted_view_over_a_temporary_view_is_refused_with_its_line(project) -> None:
    _orders(project)
    project.write("transformations/views.sql", """
        CREATE TEMPORARY VIEW cheap AS SELECT * FROM orders WHERE amount < 6;

        CREATE VIEW published AS SELECT * FROM cheap;
    """)
    text = _problems(project)
    assert "[INVALID_TEMP_OBJ_REFERENCE]" in text
    assert "'published'" in text and "'cheap'" in text
    assert "views.sql:3" in text


def test_a_persisted_view_over_a_stream_is_refused_with_its_line(project) -> None:
    _orders(project)
    project.write("transformations/views.sql", """
        CREATE STREAMING TABLE events AS SELECT * FROM STREAM(orders_log);

        CREATE VIEW live_events AS SELECT * FROM STREAM(events);
    """)
    project.write("transformations/log.py", """
        from pyspark import pipelines as dp

        @dp.table
        def orders_log():
            return spark.range(3)
    """)
    text = _problems(project)
    assert "[INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_PERSISTED_VIEW]" in text
    assert "'live_events'" in text and "views.sql:3" in text


@pytest.mark.parametrize("statement, fragment", [
    ("CREATE VIEW v (a INT) AS SELECT 1 AS a", "a view's column list cannot give types"),
    ("CREATE VIEW v (a, CONSTRAINT ok EXPECT (a > 0)) AS SELECT 1 AS a",
     "a persisted view cannot have expectations"),
    ("CREATE OR REFRESH VIEW v AS SELECT 1 AS a", "CREATE OR REFRESH VIEW is not supported"),
    ("CREATE OR REPLACE VIEW IF NOT EXISTS v AS SELECT 1 AS a",
     "CREATE VIEW with both IF NOT EXISTS and REPLACE is not allowed"),
    ("CREATE VIEW v PARTITIONED BY (a) AS SELECT 1 AS a", "PARTITIONED BY is not allowed"),
    ("CREATE MATERIALIZED VIEW m (a COMMENT 'x') AS SELECT 1 AS a",
     "comments on columns without a type are not supported here"),
    ("CREATE TEMPORARY VIEW t (a COMMENT 'x') AS SELECT 1 AS a",
     "comments on columns without a type are not supported here"),
])
def test_unsupported_view_definitions_are_refused_with_file_and_line(project, statement: str,
                                                                      fragment: str) -> None:
    _orders(project)
    project.write("transformations/views.sql", "-- published views\n" + statement + ";\n")
    with pytest.raises(SqlDefinitionError) as info:
        with project.open():
            pass
    assert fragment in str(info.value)
    assert "views.sql:2" in str(info.value)


def test_a_view_whose_table_was_dropped_is_left_out_of_the_session_with_a_warning(
        project, caplog) -> None:
    _orders(project)
    project.write("transformations/views.sql", """
        CREATE VIEW big_orders AS SELECT id FROM orders WHERE amount > 6;
    """)
    assert project.run().state == UpdateState.COMPLETED
    shutil.rmtree(project.table_path("orders"))
    with caplog.at_level(logging.WARNING, logger="lakesmith.runtime.published_views"):
        session = lakesmith.session(project.root, remote=project.sail_url)
    try:
        assert "`default`.`big_orders`" in caplog.text and "views.sql:1" in caplog.text
        assert session.sql("SELECT 1 AS one").collect()[0].one == 1  # the session still works
    finally:
        session.stop()


def _described_view(project) -> None:
    _orders(project)
    project.write("transformations/views.sql", """
        CREATE VIEW IF NOT EXISTS big_orders (order_id COMMENT 'the order''s id', who, amount)
        COMMENT 'orders over 6'
        TBLPROPERTIES ('quality' = 'silver', 'owner' = 'sales team')
        AS SELECT id, customer, amount FROM orders WHERE amount > 6;
    """)


def test_comments_and_properties_are_published_and_shown(project) -> None:
    _described_view(project)
    assert project.run().state == UpdateState.COMPLETED
    recorded = json.loads((project.root / "storage" / "views.json").read_text())
    assert recorded[0]["comment"] == "orders over 6"
    assert recorded[0]["columns"] == [["order_id", "the order's id"], ["who", None],
                                      ["amount", None]]
    assert recorded[0]["properties"] == {"quality": "silver", "owner": "sales team"}

    session = lakesmith.session(project.root, remote=project.sail_url)
    try:
        rows = session.sql("SELECT * FROM big_orders ORDER BY order_id").collect()
        assert [r.asDict() for r in rows] == [{"order_id": 1, "who": "a", "amount": 10},
                                              {"order_id": 3, "who": "a", "amount": 7}]
        described = {r.col_name: r.data_type for r in session.sql(
            "DESCRIBE TABLE EXTENDED big_orders").collect()}
        assert described["Type"] == "VIEW" and described["Comment"] == "orders over 6"
        for statement in ("DESCRIBE big_orders", "DESC default.big_orders",
                          "DESCRIBE TABLE big_orders"):
            assert [tuple(r) for r in session.sql(statement).collect()] == [
                ("order_id", "int", "the order's id"), ("who", "string", None),
                ("amount", "int", None)], statement
        columns = {c.name: c.description for c in session.catalog.listColumns("big_orders")}
        assert columns == {"order_id": "the order's id", "who": None, "amount": None}
        [listed] = [t for t in session.catalog.listTables("default") if t.name == "big_orders"]
        assert (listed.tableType, listed.description) == ("VIEW", "orders over 6")
        properties = session.sql("SHOW TBLPROPERTIES big_orders").collect()
        assert [r.asDict() for r in properties] == [{"key": "owner", "value": "sales team"},
                                                    {"key": "quality", "value": "silver"}]
        [owner] = session.sql("SHOW TBLPROPERTIES big_orders ('owner')").collect()
        assert owner.value == "sales team"
    finally:
        session.stop()

    tables = subprocess.run([sys.executable, "-m", "lakesmith", "tables", "--format", "json"],
                            cwd=project.root, text=True, capture_output=True, timeout=120)
    assert tables.returncode == 0, tables.stderr
    by_name = {t["dataset"]: t for t in json.loads(tables.stdout)}
    assert by_name["big_orders"]["comment"] == "orders over 6"
    assert by_name["big_orders"]["kind"] == "persisted view"


def test_dry_run_validates_views_and_publishes_nothing(project) -> None:
    _described_view(project)
    project.write("transformations/broken.sql", """
        CREATE VIEW renamed_badly (a, b) AS SELECT id FROM orders;
    """)
    dry_run = subprocess.run([sys.executable, "-m", "lakesmith", "dry-run"], cwd=project.root,
                             text=True, capture_output=True, timeout=120)
    assert dry_run.returncode != 0
    assert "broken.sql:1" in dry_run.stdout + dry_run.stderr
    assert "renamed_badly" in dry_run.stdout + dry_run.stderr
    (project.root / "transformations" / "broken.sql").unlink()
    dry_run = subprocess.run([sys.executable, "-m", "lakesmith", "dry-run", "--format", "json"],
                             cwd=project.root, text=True, capture_output=True, timeout=120)
    assert dry_run.returncode == 0, dry_run.stdout + dry_run.stderr
    flows = {f["flow"]: f for f in json.loads(dry_run.stdout)["flows"]}
    assert [c["name"] for c in flows["big_orders"]["columns"]] == ["order_id", "who", "amount"]
    assert not (project.root / "storage" / "views.json").exists()  # validated, not published


def test_a_view_named_like_an_existing_table_is_refused_at_dry_run_and_run(project) -> None:
    _orders(project)
    project.write("transformations/views.sql", """
        CREATE MATERIALIZED VIEW big_orders AS SELECT id FROM orders WHERE amount > 6;
    """)
    assert project.run().state == UpdateState.COMPLETED
    # the name becomes a view: the table the materialized view left is still there
    project.write("transformations/views.sql", """
        CREATE VIEW big_orders AS SELECT id FROM orders WHERE amount > 6;
    """)
    text = _problems_at_analysis(project)
    assert "persisted view 'big_orders': a table of that name already exists" in text
    assert "views.sql:1" in text
    assert not (project.root / "storage" / "views.json").exists()  # nothing published
    shutil.rmtree(project.table_path("big_orders"))
    assert project.run().state == UpdateState.COMPLETED
    assert [v["engine_name"] for v in json.loads(
        (project.root / "storage" / "views.json").read_text())] == ["`default`.`big_orders`"]


def _problems_at_analysis(project) -> str:
    with pytest.raises(GraphValidationError) as info:
        with project.open() as pipeline:
            pipeline.analyze()
    return str(info.value)
