"""Unit tests of the SQL definitions parser (no engine)."""

from __future__ import annotations

import os
import textwrap

import pytest

from lakesmith.authoring.sql import parse_sql_definitions
from lakesmith.authoring.sql.splitter import Region, Statement, split_statements
from lakesmith.errors import SqlDefinitionError
from lakesmith.graph.model import (
    AutoCdcFlow,
    Expectation,
    ExpectationAction,
    MaterializedView,
    OnceFlow,
    QueryFlow,
    SqlQuery,
    StreamingTable,
    TemporaryView,
)
from lakesmith.source_location import SourceLocation

PATH = "pipelines/sales.sql"


def parse(sql: str, configuration: dict[str, str] | None = None) -> list:
    return parse_sql_definitions(textwrap.dedent(sql), PATH, configuration or {})


def at(line: int) -> SourceLocation:
    return SourceLocation(PATH, line)


def query(text: str, line: int = 1) -> SqlQuery:
    return SqlQuery(text, at(line))


def default_flow(name: str, text: str, line: int = 1, query_line: int | None = None,
                 spark_conf: dict[str, str] | None = None) -> QueryFlow:
    return QueryFlow(name=name, target=name, query=query(text, query_line or line),
                     location=at(line), spark_conf=spark_conf or {}, is_default=True)


def error_of(sql: str, configuration: dict[str, str] | None = None) -> str:
    with pytest.raises(SqlDefinitionError) as info:
        parse(sql, configuration)
    return str(info.value)


# -- splitting ------------------------------------------------------------------------------------


def test_statements_keep_their_text_offset_and_line():
    text = "-- header; not a statement\nSELECT 1;\n\n  SELECT\n  2 ;  -- trailing\n"
    assert split_statements(text) == [
        Statement("SELECT 1", 27, 2),
        Statement("SELECT\n  2", 40, 4),
    ]


def test_semicolons_inside_strings_names_and_comments_do_not_split():
    text = textwrap.dedent("""\
        SELECT 'a;b', "c;d", `e;f`, r'g;h' -- i;j
        /* k; /* nested; */ l; */ FROM t;
        SELECT 'it\\'s; fine'""")
    statements = split_statements(text)
    assert [s.line for s in statements] == [1, 3]
    assert statements[0].text == text[: text.index(" FROM t") + len(" FROM t")]
    assert statements[1].text == "SELECT 'it\\'s; fine'"


def test_empty_statements_and_comment_only_tail_are_dropped():
    assert split_statements(";;\n SELECT 1 ;;\n-- the end; really\n/* done */") == [
        Statement("SELECT 1", 4, 2)
    ]


def test_regions_end_statements_without_semicolon():
    # The seam for notebook cells: a statement never crosses a region boundary.
    text = "SELECT 1\n-- COMMAND ----------\nSELECT 2"
    cut = text.index("-- COMMAND")
    assert split_statements(text, [Region(0, cut), Region(cut, len(text))]) == [
        Statement("SELECT 1", 0, 1),
        Statement("SELECT 2", text.index("SELECT 2"), 3),
    ]


@pytest.mark.parametrize("text", ["", "\n  \n", "-- nothing here;\n/* or; here */ ;;"])
def test_files_without_statements_define_nothing(text):
    assert parse_sql_definitions(text, PATH, {}) == []


# -- materialized views ---------------------------------------------------------------------------


def test_minimal_materialized_view():
    assert parse("CREATE MATERIALIZED VIEW daily AS SELECT * FROM orders") == [
        MaterializedView(name="daily", location=at(1)),
        default_flow("daily", "SELECT * FROM orders"),
    ]


def test_materialized_view_with_every_clause():
    sql = """\
        -- gold table
        CREATE OR REFRESH PRIVATE MATERIALIZED VIEW sales_by_day (
          day DATE NOT NULL COMMENT 'the day',
          total DECIMAL(10, 2),
          tags ARRAY<STRUCT<name: STRING, score: INT>>,
          attrs MAP<STRING,INT> COMMENT "it's a map" NOT NULL,
          CONSTRAINT positive_total EXPECT (total >= 0),
          CONSTRAINT has_day EXPECT (day IS NOT NULL AND (day > '2000-01-01'))
            ON VIOLATION DROP ROW,
          CONSTRAINT `known tags` EXPECT (size(tags) > 0) ON VIOLATION FAIL UPDATE
        )
        COMMENT 'Sales; per day'
        TBLPROPERTIES ('quality' = 'gold', delta.appendOnly = true, 'retention' = 30)
        PARTITIONED BY (day)
        CLUSTER BY (`day`, total)
        AS
          -- the query
          SELECT day, sum(amount) AS total FROM live.sales GROUP BY day
        ;"""
    assert parse(sql) == [
        MaterializedView(
            name="sales_by_day",
            location=at(2),
            comment="Sales; per day",
            table_properties={"quality": "gold", "delta.appendOnly": "true", "retention": "30"},
            partition_cols=("day",),
            cluster_by=("day", "total"),
            schema=(
                "day DATE NOT NULL COMMENT 'the day', total DECIMAL(10, 2), "
                "tags ARRAY<STRUCT<name: STRING, score: INT>>, "
                "attrs MAP<STRING,INT> COMMENT 'it\\'s a map' NOT NULL"
            ),
            expectations=(
                Expectation("positive_total", "total >= 0", ExpectationAction.WARN, at(7)),
                Expectation("has_day", "day IS NOT NULL AND (day > '2000-01-01')",
                            ExpectationAction.DROP, at(8)),
                Expectation("known tags", "size(tags) > 0", ExpectationAction.FAIL, at(10)),
            ),
        ),
        default_flow("sales_by_day",
                     "SELECT day, sum(amount) AS total FROM live.sales GROUP BY day",
                     line=2, query_line=18),
    ]


def test_table_clauses_come_in_any_order():
    [dataset, _] = parse("""\
        CREATE MATERIALIZED VIEW mv CLUSTER BY (b) USING delta PARTITIONED
          BY (a) TBLPROPERTIES ('k' = 'v') COMMENT 'c' AS SELECT 1 AS a, 2 AS b""")
    assert dataset == MaterializedView(name="mv", location=at(1), comment="c",
                              table_properties={"k": "v"}, partition_cols=("a",),
                              cluster_by=("b",), format="delta")


def test_cluster_by_auto_on_materialized_views_and_streaming_tables():
    [view, _, table, _] = parse("""\
        CREATE OR REFRESH MATERIALIZED VIEW mv CLUSTER BY AUTO AS SELECT 1 AS a;
        CREATE OR REFRESH STREAMING TABLE st COMMENT 'c' CLUSTER BY AUTO
          AS SELECT * FROM STREAM(src)""")
    assert view == MaterializedView(name="mv", location=at(1), cluster_by_auto=True)
    assert (table.cluster_by, table.cluster_by_auto, table.comment) == ((), True, "c")


def test_adjacent_comment_literals_are_concatenated():
    [dataset, _] = parse("CREATE MATERIALIZED VIEW mv COMMENT 'one ' 'two' AS SELECT 1")
    assert dataset.comment == "one two"


def test_a_doubled_quote_inside_a_literal_is_the_quote_as_in_spark_4():
    [dataset, _] = parse("CREATE MATERIALIZED VIEW mv COMMENT 'it''s ' 'ok' AS SELECT 1")
    assert dataset.comment == "it's ok"
    [dataset, _] = parse('CREATE MATERIALIZED VIEW mv COMMENT "say ""hi""" AS SELECT 1')
    assert dataset.comment == 'say "hi"'


def test_persisted_view_clauses_and_column_comments():
    [view, flow] = parse("CREATE VIEW IF NOT EXISTS v (a COMMENT 'the a', b) COMMENT 'c' "
                         "TBLPROPERTIES ('k' = 'v') AS SELECT 1 AS x, 2 AS y")
    assert (view.name, view.comment, dict(view.table_properties), view.columns) == (
        "v", "c", {"k": "v"}, (("a", "the a"), ("b", None)))
    assert flow.query.text.startswith("SELECT * FROM (SELECT 1 AS x, 2 AS y)")


@pytest.mark.parametrize("header", [
    "CREATE LIVE TABLE",
    "CREATE OR REFRESH LIVE TABLE",
    "CREATE TEMPORARY LIVE TABLE",
    "CREATE OR REFRESH TEMPORARY TABLE",
    "create or replace materialized view",
    "CREATE OR REFRESH PRIVATE MATERIALIZED VIEW",
])
def test_materialized_view_spellings(header):
    assert parse(f"{header} mv AS SELECT 1") == [
        MaterializedView(name="mv", location=at(1)),
        default_flow("mv", "SELECT 1"),
    ]


def test_untyped_column_list_renames_the_query_columns():
    assert parse("CREATE MATERIALIZED VIEW mv (a, `b c`) AS SELECT x, y FROM t") == [
        MaterializedView(name="mv", location=at(1)),
        default_flow("mv", "SELECT * FROM (SELECT x, y FROM t) AS __lakesmith_renamed(a, `b c`)"),
    ]


def test_column_list_with_only_expectations_gives_no_schema():
    [dataset, _] = parse("CREATE MATERIALIZED VIEW mv (CONSTRAINT c EXPECT (a > 0)) AS SELECT 1 a")
    assert dataset.schema is None
    assert dataset.expectations == (Expectation("c", "a > 0", ExpectationAction.WARN, at(1)),)


# -- temporary views ------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    "CREATE TEMPORARY VIEW",
    "CREATE TEMP VIEW",
    "CREATE OR REPLACE TEMPORARY VIEW",
    "CREATE OR REFRESH TEMPORARY VIEW",
    "CREATE TEMPORARY LIVE VIEW",
    "CREATE OR REFRESH TEMPORARY LIVE VIEW",
    "CREATE TEMPORARY STREAMING LIVE VIEW",
    "CREATE OR REFRESH TEMPORARY STREAMING VIEW",
])
def test_temporary_view_spellings(header):
    assert parse(f"{header} v COMMENT 'staging' AS SELECT * FROM STREAM(raw)") == [
        TemporaryView(name="v", location=at(1), comment="staging"),
        default_flow("v", "SELECT * FROM STREAM(raw)"),
    ]


def test_temporary_view_with_renames_and_expectation():
    assert parse("""\
        CREATE TEMPORARY VIEW v (
          id, name,
          CONSTRAINT valid EXPECT (id IS NOT NULL) ON VIOLATION DROP ROW
        ) AS SELECT 1, 'a'""") == [
        TemporaryView(name="v", location=at(1), expectations=(
            Expectation("valid", "id IS NOT NULL", ExpectationAction.DROP, at(3)),)),
        default_flow("v", "SELECT * FROM (SELECT 1, 'a') AS __lakesmith_renamed(id, name)",
                     query_line=4),
    ]


# -- streaming tables -----------------------------------------------------------------------------


def test_streaming_table_without_query_has_no_flow():
    assert parse("CREATE OR REFRESH STREAMING TABLE events;") == [
        StreamingTable(name="events", location=at(1)),
    ]


def test_streaming_table_with_schema_and_query():
    assert parse("""\
        CREATE OR REFRESH STREAMING TABLE bronze (
          id BIGINT NOT NULL,
          payload STRUCT<a: INT, b: ARRAY<STRING>>,
          CONSTRAINT id_set EXPECT (id IS NOT NULL) ON VIOLATION FAIL UPDATE
        )
        TBLPROPERTIES ('pipelines.reset.allowed' = 'false')
        AS SELECT * FROM STREAM read_files('/data/raw', format => 'json')""") == [
        StreamingTable(
            name="bronze",
            location=at(1),
            table_properties={"pipelines.reset.allowed": "false"},
            schema="id BIGINT NOT NULL, payload STRUCT<a: INT, b: ARRAY<STRING>>",
            expectations=(
                Expectation("id_set", "id IS NOT NULL", ExpectationAction.FAIL, at(4)),),
        ),
        default_flow("bronze", "SELECT * FROM STREAM read_files('/data/raw', format => 'json')",
                     query_line=7),
    ]


@pytest.mark.parametrize("header", [
    "CREATE STREAMING TABLE",
    "CREATE OR REFRESH STREAMING TABLE",
    "CREATE TEMPORARY STREAMING TABLE",
    "CREATE OR REFRESH PRIVATE STREAMING TABLE",
    "CREATE STREAMING LIVE TABLE",
    "CREATE OR REFRESH TEMPORARY STREAMING LIVE TABLE",
    "CREATE INCREMENTAL LIVE TABLE",
])
def test_streaming_table_spellings(header):
    assert parse(f"{header} st AS SELECT * FROM STREAM(src)") == [
        StreamingTable(name="st", location=at(1)),
        default_flow("st", "SELECT * FROM STREAM(src)"),
    ]


def test_streaming_table_with_flow_auto_cdc():
    assert parse("""\
        CREATE OR REFRESH STREAMING TABLE customers
        FLOW AUTO CDC FROM STREAM(cdc_feed) KEYS (id) SEQUENCE BY ts""") == [
        StreamingTable(name="customers", location=at(1)),
        AutoCdcFlow(name="customers", target="customers", source="cdc_feed", keys=("id",),
                    sequence_by="ts", location=at(1)),
    ]


# -- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("written, name", [
    ("sales", "sales"),
    ("`sales`", "sales"),
    ("`my sales`", "`my sales`"),
    ("live.sales", "live.sales"),
    ("LIVE.`sales`", "LIVE.sales"),
    ("my_schema.sales", "my_schema.sales"),
    ("cat.`my schema`.sales", "cat.`my schema`.sales"),
    ("`cat`.`schema`.`x.y`", "cat.schema.`x.y`"),
])
def test_names_keep_their_spelling_without_needless_backquotes(written, name):
    [dataset, flow] = parse(f"CREATE MATERIALIZED VIEW {written} AS SELECT 1")
    assert (dataset.name, flow.name, flow.target) == (name, name, name)


# -- append flows ---------------------------------------------------------------------------------


def test_insert_into_flow():
    assert parse("""\
        CREATE STREAMING TABLE all_events;
        CREATE FLOW from_eu
        COMMENT 'EU events'
        AS INSERT INTO all_events BY NAME
        SELECT * FROM STREAM(eu_events);
        CREATE FLOW backfill AS INSERT INTO ONCE live.all_events SELECT * FROM archive""") == [
        StreamingTable(name="all_events", location=at(1)),
        QueryFlow(name="from_eu", target="all_events",
                  query=query("SELECT * FROM STREAM(eu_events)", 5), location=at(2),
                  is_default=False, comment="EU events"),
        OnceFlow(name="backfill", target="live.all_events", query=query("SELECT * FROM archive", 6),
                 location=at(6)),
    ]


# -- AUTO CDC -------------------------------------------------------------------------------------


def test_create_flow_auto_cdc_with_every_clause():
    assert parse("""\
        CREATE FLOW customers_cdc AS AUTO CDC INTO customers
        FROM STREAM(live.customers_raw)
        KEYS (id, `region code`)
        IGNORE NULL UPDATES
        APPLY AS DELETE WHEN operation = "DELETE"
        APPLY AS TRUNCATE WHEN operation = 'TRUNCATE'
        SEQUENCE BY struct(ts, seq)
        COLUMNS * EXCEPT (operation, seq)
        STORED AS SCD TYPE 1""") == [
        AutoCdcFlow(
            name="customers_cdc",
            target="customers",
            source="live.customers_raw",
            keys=("id", "`region code`"),
            sequence_by="struct(ts, seq)",
            location=at(1),
            apply_as_deletes='operation = "DELETE"',
            apply_as_truncates="operation = 'TRUNCATE'",
            except_column_list=("operation", "seq"),
            stored_as_scd_type=1,
            ignore_null_updates=True,
        ),
    ]


def test_auto_cdc_scd2_with_tracked_history():
    assert parse("""\
        AUTO CDC INTO dim_customer FROM STREAM customers_raw KEYS (id)
        SEQUENCE BY ts
        COLUMNS (id, name, city, ts)
        STORED AS SCD TYPE 2
        TRACK HISTORY ON (city)""") == [
        AutoCdcFlow(name="dim_customer", target="dim_customer", source="customers_raw",
                    keys=("id",), sequence_by="ts", location=at(1),
                    column_list=("id", "name", "city", "ts"), stored_as_scd_type=2,
                    track_history_column_list=("city",)),
    ]


def test_apply_changes_into_is_auto_cdc_named_after_its_target():
    assert parse("""\
        APPLY CHANGES INTO LIVE.customers
        FROM STREAM(LIVE.cdc)
        KEYS (id)
        APPLY AS DELETE WHEN op = 'D'
        SEQUENCE BY sequence_num
        COLUMNS *
        STORED AS SCD TYPE 2
        TRACK HISTORY ON * EXCEPT (updated_at)""") == [
        AutoCdcFlow(name="LIVE.customers", target="LIVE.customers", source="LIVE.cdc",
                    keys=("id",), sequence_by="sequence_num", location=at(1),
                    apply_as_deletes="op = 'D'", stored_as_scd_type=2,
                    track_history_except_column_list=("updated_at",)),
    ]


def test_create_flow_auto_cdc_keeps_its_comment_and_track_history_on_every_column():
    [flow] = parse("""\
        CREATE FLOW scd2 COMMENT 'history of customers' AS AUTO CDC INTO customers
        FROM STREAM(cdc) KEYS (id) SEQUENCE BY ts STORED AS SCD TYPE 2 TRACK HISTORY ON *""")
    assert flow == AutoCdcFlow(name="scd2", target="customers", source="cdc", keys=("id",),
                               sequence_by="ts", location=at(1), comment="history of customers",
                               stored_as_scd_type=2, track_history_except_column_list=())


def test_auto_cdc_clauses_in_another_order():
    [flow] = parse("AUTO CDC INTO t FROM STREAM(s) SEQUENCE BY ts KEYS (id) COLUMNS a, b")
    assert (flow.keys, flow.sequence_by, flow.column_list) == (("id",), "ts", ("a", "b"))


# -- several statements, SET and ${} --------------------------------------------------------------


def test_several_statements_in_file_order_with_their_lines():
    definitions = parse("""\
        CREATE STREAMING TABLE a AS SELECT * FROM STREAM(src);

        /* a view; with a comment */
        CREATE TEMPORARY VIEW b AS
        SELECT 'x;y' AS s;
        -- last statement, no semicolon
        CREATE MATERIALIZED VIEW c AS SELECT * FROM a JOIN b
        """)
    assert [(type(d).__name__, d.name, d.location.line) for d in definitions] == [
        ("StreamingTable", "a", 1), ("QueryFlow", "a", 1),
        ("TemporaryView", "b", 4), ("QueryFlow", "b", 4),
        ("MaterializedView", "c", 7), ("QueryFlow", "c", 7),
    ]
    assert definitions[3].query == query("SELECT 'x;y' AS s", 5)


def test_variables_from_configuration_and_set():
    definitions = parse("""\
        SET source_table = raw_${region};
        SET `start.date` = '2024-01-01';
        CREATE MATERIALIZED VIEW ${schema}.recent AS
        SELECT * FROM ${source_table} WHERE d >= ${start.date} AND note = '${spark:region}'
          AND path = '${env:HOME}'""",
        {"region": "eu", "schema": "silver"})
    conf = {"source_table": "raw_eu", "start.date": "'2024-01-01'"}
    assert definitions == [
        MaterializedView(name="silver.recent", location=at(3)),
        default_flow(
            "silver.recent",
            "SELECT * FROM raw_eu WHERE d >= '2024-01-01' AND note = 'eu'\n"
            f"  AND path = '{os.environ['HOME']}'",
            line=3, query_line=4, spark_conf=conf),
    ]


def test_set_overrides_configuration_and_applies_only_to_later_flows():
    definitions = parse("""\
        CREATE MATERIALIZED VIEW before AS SELECT '${v}';
        SET v=two ;
        CREATE MATERIALIZED VIEW after AS SELECT '${v}'""", {"v": "one"})
    assert definitions == [
        MaterializedView(name="before", location=at(1)),
        default_flow("before", "SELECT 'one'"),
        MaterializedView(name="after", location=at(3)),
        default_flow("after", "SELECT 'two'", line=3, spark_conf={"v": "two"}),
    ]


def test_set_without_a_value_changes_nothing():
    # `SET key` shows a value in a notebook; in a pipeline it defines nothing.
    assert parse("SET some.key;\nCREATE MATERIALIZED VIEW m AS SELECT 1") == [
        MaterializedView(name="m", location=at(2)), default_flow("m", "SELECT 1", line=2)]


def test_circular_values_are_refused():
    message = error_of("CREATE MATERIALIZED VIEW m AS SELECT ${a}", {"a": "${b}", "b": "${a}"})
    assert message.startswith(f"{PATH}:1: circular reference in variable substitution")


def test_an_undefined_variable_inside_a_value_names_the_reference():
    message = error_of("CREATE MATERIALIZED VIEW m AS\n SELECT ${a}", {"a": "${missing} + 1"})
    assert message.startswith(f"{PATH}:2: ${{missing}} is not defined"), message


def test_values_are_substituted_recursively():
    [_, flow] = parse("CREATE MATERIALIZED VIEW m AS SELECT ${a}", {"a": "${b} + 1", "b": "41"})
    assert flow.query.text == "SELECT 41 + 1"


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sql, line, words", [
    # syntax
    ("CREATE MATERIALIZED VIEW mv (a INT)\n  SELEC * FROM x", 2,
     ["expected AS after the column list, found 'SELEC'"]),
    ("CREATE MATERIALIZED VIEW mv AS", 1, ["expected a query", "found the end of the statement"]),
    ("CREATE MATERIALIZED VIEW mv AS\n\n  UPDATE t SET a = 1", 3, ["expected a query", "'UPDATE'"]),
    ("CREATE STREAMING TABLE st\n  SELECT 1", 2, ["expected AS", "'SELECT'"]),
    ("CREATE MATERIALIZED VIEW mv (a INT,\n b ) AS SELECT 1, 2", 1,
     ["mixes columns with types and columns without", "b"]),
    ("CREATE MATERIALIZED VIEW ${schema}.x AS SELECT 1", 1,
     ["${schema} is not defined: 'schema' is neither in the pipeline configuration nor SET "
      "earlier in this file"]),
    ("CREATE MATERIALIZED VIEW x (CONSTRAINT c EXPECT a > 0) AS SELECT 1", 1,
     ["expected '(' and a condition after EXPECT, found 'a'"]),
    ("CREATE MATERIALIZED VIEW x (\n CONSTRAINT c EXPECT (a) ON VIOLATION IGNORE) AS SELECT 1", 2,
     ["expected DROP ROW or FAIL UPDATE after ON VIOLATION", "'IGNORE'"]),
    ("CREATE MATERIALIZED VIEW x PARTITIONED BY (a INT) AS SELECT 1", 1,
     ["partition columns", "'INT'"]),
    ("CREATE MATERIALIZED VIEW x TBLPROPERTIES ('a') AS SELECT 1", 1,
     ["expected a string, number or boolean value"]),
    ("CREATE MATERIALIZED VIEW x TBLPROPERTIES ('a' = 1, 'a' = 2) AS SELECT 1", 1,
     ["duplicate table property 'a'"]),
    ("CREATE MATERIALIZED VIEW x COMMENT 'a' COMMENT 'b' AS SELECT 1", 1,
     ["COMMENT is given twice"]),
    ("SELECT 1;\nSELECT 'unclosed", 2, ["unclosed string literal"]),
    ("SELECT 1; /* never closed", 1, ["unclosed /* comment"]),
    # unsupported statements
    ("CREATE TABLE t AS SELECT 1", 1,
     ["CREATE TABLE is not supported", "CREATE MATERIALIZED VIEW"]),
    ("CREATE STREAMING TABLE t;\n\nINSERT INTO t SELECT 1", 3,
     ["INSERT INTO is not supported", "CREATE FLOW"]),
    ("SELECT * FROM t", 1, ["SELECT is not supported", "CREATE MATERIALIZED VIEW"]),
    ("DROP TABLE t", 1, ["DROP TABLE is not supported", "supported statements"]),
    ("CREATE OR REFRESH VIEW v AS SELECT 1", 1, ["CREATE OR REFRESH VIEW is not supported"]),
    ("CREATE OR REPLACE STREAMING TABLE s", 1,
     ["CREATE OR REPLACE STREAMING TABLE is not supported", "CREATE OR REFRESH STREAMING TABLE"]),
    ("USE SCHEMA silver", 1, ["USE SCHEMA is not supported"]),
    # unsupported clauses and options
    ("CREATE MATERIALIZED VIEW mv\n OPTIONS (a = 'b') AS SELECT 1", 2,
     ["OPTIONS is not supported yet", "COMMENT, TBLPROPERTIES, PARTITIONED BY, CLUSTER BY"]),
    ("CREATE TEMPORARY VIEW v\n LOCATION '/tmp/x' AS SELECT 1", 2,
     ["LOCATION is not allowed on a temporary view"]),
    ("CREATE MATERIALIZED VIEW mv WITH ROW FILTER f ON (a) AS SELECT 1", 1,
     ["WITH ROW FILTER is not supported yet"]),
    ("CREATE MATERIALIZED VIEW mv (a STRING MASK m) AS SELECT 'x'", 1,
     ["column masks (MASK)", "not supported yet"]),
    ("CREATE MATERIALIZED VIEW mv (a BIGINT GENERATED ALWAYS AS IDENTITY) AS SELECT 1", 1,
     ["identity columns", "not supported yet"]),
    ("CREATE MATERIALIZED VIEW mv (a BIGINT GENERATED BY DEFAULT AS IDENTITY) AS SELECT 1", 1,
     ["identity columns", "not supported yet"]),
    ("CREATE MATERIALIZED VIEW mv (a INT GENERATED ALWAYS (1)) AS SELECT 1", 1,
     ["expected AS after GENERATED ALWAYS"]),
    ("CREATE MATERIALIZED VIEW mv (a INT, PRIMARY KEY (a)) AS SELECT 1", 1,
     ["primary keys", "not supported yet"]),
    ("CREATE MATERIALIZED VIEW mv CLUSTER BY AUTO (a) AS SELECT 1", 1,
     ["expected AS", "'('"]),
    ("CREATE TEMPORARY VIEW v CLUSTER BY AUTO AS SELECT 1", 1,
     ["CLUSTER BY is not allowed on a temporary view"]),
    ("CREATE TEMPORARY VIEW v TBLPROPERTIES ('a' = 'b') AS SELECT 1", 1,
     ["TBLPROPERTIES is not allowed on a temporary view"]),
    ("CREATE TEMPORARY VIEW v PARTITIONED BY (a) AS SELECT 1", 1,
     ["PARTITIONED BY is not allowed on a temporary view"]),
    ("CREATE TEMPORARY VIEW v (a INT) AS SELECT 1", 1, ["cannot give types"]),
    ("CREATE STREAMING TABLE st (a, b) AS SELECT 1, 2", 1,
     ["only allowed on views and materialized views"]),
    ("CREATE MATERIALIZED VIEW mv (a COMMENT 'x') AS SELECT 1", 1, ["comments on columns without"]),
    # flows
    ("CREATE FLOW s.f AS INSERT INTO t BY NAME SELECT 1", 1, ["flow name must be a single name"]),
    ("CREATE FLOW f AS INSERT OVERWRITE t SELECT 1", 1,
     ["INSERT OVERWRITE flows are not supported"]),
    ("CREATE FLOW f AS INSERT INTO t (a) SELECT 1", 1, ["column list is not allowed"]),
    ("CREATE FLOW f AS INSERT INTO t PARTITION (p = 1) SELECT 1", 1, ["partition spec"]),
    ("CREATE FLOW f AS MERGE INTO t", 1,
     ["expected INSERT INTO or AUTO CDC INTO after AS", "'MERGE'"]),
    ("CREATE FLOW f\n  INSERT INTO t SELECT 1", 2, ["expected AS after CREATE FLOW f", "'INSERT'"]),
    # AUTO CDC
    ("AUTO CDC INTO t FROM s KEYS (k) SEQUENCE BY v", 1,
     ["expected STREAM(source) after FROM", "write FROM STREAM(source)"]),
    ("AUTO CDC INTO t FROM STREAM(s) SEQUENCE BY v", 1, ["needs KEYS"]),
    ("AUTO CDC INTO t FROM STREAM(s) KEYS (k)", 1, ["needs SEQUENCE BY"]),
    ("AUTO CDC INTO t FROM STREAM(s) KEYS (k) KEYS (j) SEQUENCE BY v", 1, ["KEYS is given twice"]),
    ("AUTO CDC INTO t FROM STREAM(s) KEYS (k) SEQUENCE BY v TRACK HISTORY ON (c)", 1,
     ["TRACK HISTORY ON is only allowed with STORED AS SCD TYPE 2"]),
    ("AUTO CDC INTO t FROM STREAM(s) KEYS (k) SEQUENCE BY v TRACK HISTORY ON *", 1,
     ["AUTO CDC flow 't': TRACK HISTORY ON is only allowed with STORED AS SCD TYPE 2"]),
    ("AUTO CDC INTO t FROM STREAM(s) KEYS (k) SEQUENCE BY v STORED AS SCD TYPE 2\n"
     " APPLY AS TRUNCATE WHEN op = 'T'", 1,
     ["APPLY AS TRUNCATE WHEN is only allowed with SCD TYPE 1"]),
    ("SET a = 1;\nCREATE TEMPORARY VIEW s.v AS SELECT 1", 2,
     ["temporary view 's.v' must have a single-part name"]),
    ("AUTO CDC INTO t FROM STREAM(s) KEYS (k) SEQUENCE BY v\n STORED AS SCD TYPE 3", 2,
     ["expected 1 or 2 after STORED AS SCD TYPE", "'3'"]),
    ("AUTO CDC INTO t FROM STREAM(s) KEYS (k) SEQUENCE BY v STORED AS BITEMPORAL", 1,
     ["BITEMPORAL is not supported yet"]),
    ("AUTO CDC INTO t FROM STREAM(s) KEYS (k)\n FOO", 2, ["expected an AUTO CDC clause", "'FOO'"]),
    ("AUTO CDC INTO t FROM STREAM(s) KEYS (k) SEQUENCE BY v SYSTEM SEQUENCE BY w", 1,
     ["SYSTEM SEQUENCE BY is not supported yet"]),
    ("AUTO CDC INTO t FROM STREAM(s) KEYS (k) IGNORE NULL UPDATES ON (a) SEQUENCE BY v", 1,
     ["IGNORE NULL UPDATES ON a column list is not supported yet"]),
    # SET and variables
    ("SET", 1, ["SET needs a key and a value"]),
    ("SET VAR x = 1", 1, ["SET VAR", "not supported yet"]),
    ("SET a = 1;\nCREATE MATERIALIZED VIEW m AS\nSELECT ${a}, ${b}", 3,
     ["${b} is not defined"]),
])
def test_errors_name_the_file_the_line_and_the_problem(sql, line, words):
    message = error_of(sql)
    assert message.startswith(f"{PATH}:{line}: "), message
    for word in words:
        assert word in message, message
