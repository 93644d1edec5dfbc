"""A pipeline developer's day with the command line (issue 17): quality gates that cannot pass by
accident, output for scripts (checked against JSON schemas), graph pictures (parsed), selection,
tables left without a definition, and the exit statuses. Commands run in-process on the test
session's engine (`--remote`); `test_cli.py` runs them as separate processes."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pyarrow as pa
import pytest
from deltalake import write_deltalake
from rich.console import Console
from typer.testing import CliRunner

import lakesmith.cli as cli_module

MEDALLION = """
import dlt

@dlt.table
def raw():
    return spark.readStream.format("delta").load("data/orders")

@dlt.table(table_properties={"lakesmith.quarantine": "true"})
@dlt.expect_or_drop("paid", "status IS NOT NULL")
@dlt.expect("positive", "amount > 0")
def silver_orders():
    return spark.readStream.table("raw")

@dlt.table
def gold():
    return spark.read.table("silver_orders").groupBy("status").count()
"""


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(monkeypatch, sail_url):
    def invoke(*args: str, cwd: Path, input: str | None = None, engine: bool = True) -> Result:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(cli_module, "console", Console(file=out, width=300, highlight=False))
        monkeypatch.setattr(cli_module, "err_console",
                            Console(file=err, width=300, highlight=False))
        monkeypatch.chdir(cwd)
        remote = ["--remote", sail_url] if engine else []
        result = CliRunner().invoke(cli_module.app, [*args, *remote], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, out.getvalue(), err.getvalue() + result.output)
    return invoke


@pytest.fixture
def shop(project, spark):
    """raw (streaming) -> silver_orders (drop + warn rules, quarantine) -> gold; 4 orders, one
    unpaid, one with a negative amount."""
    project.write_spec()
    project.write("transformations/t.py", MEDALLION)
    spark.createDataFrame(
        [(1, "paid", 5.0), (2, None, 3.0), (3, "paid", -1.0), (4, "open", 2.0)],
        "id BIGINT, status STRING, amount DOUBLE",
    ).write.format("delta").save(str(project.root / "data" / "orders"))
    return project


# -- quality gates and the run summary ---------------------------------------------------------

QUALITY_SCHEMA = {
    "type": "array",
    "items": {"type": "object", "additionalProperties": False,
              "required": ["update_id", "dataset", "expectation", "action", "passed", "failed",
                           "pass_rate", "below_min_pass_rate"],
              "properties": {"update_id": {"type": "string"}, "dataset": {"type": "string"},
                             "expectation": {"type": "string"},
                             "action": {"enum": ["warn", "drop", "fail"]},
                             "passed": {"type": "integer"}, "failed": {"type": "integer"},
                             "pass_rate": {"type": "number", "minimum": 0, "maximum": 1},
                             "below_min_pass_rate": {"type": "boolean"}}},
}


def test_run_summary_and_quality_gates(cli, shop) -> None:
    run = cli("run", cwd=shop.root)
    assert run.code == 0, run.err
    row = next(line.split() for line in run.out.splitlines()
               if line.startswith("silver_orders ") and "streaming table" in line)
    # dataset, kind (2 words), flow, status, batches, rows in, rows written, dropped, warned, time
    assert row[4:10] == ["COMPLETED", "1", "4", "3", "1", "1"], run.out
    assert "Flow 'silver_orders' dropped 1 row(s) into quarantine table " \
           "'silver_orders_quarantine'." in run.out

    table = cli("quality", cwd=shop.root, engine=False)
    assert table.code == 0, table.err
    lines = {tuple(line.split()[:3]) for line in table.out.splitlines()}
    assert ("silver_orders", "paid", "drop") in lines
    assert ("silver_orders", "positive", "warn") in lines

    records = cli("quality", "--format", "json", cwd=shop.root, engine=False).json()
    jsonschema.validate(records, QUALITY_SCHEMA)
    assert {(r["expectation"], r["action"], r["passed"], r["failed"]) for r in records} == {
        ("paid", "drop", 3, 1), ("positive", "warn", 3, 1)}

    gate = cli("quality", "--min-pass-rate", "0.8", cwd=shop.root, engine=False)
    assert gate.code == 1
    assert "2 expectation(s) below the pass rate 80.00%" in gate.err
    assert cli("quality", "--min-pass-rate", "0.75", cwd=shop.root, engine=False).code == 0
    for bad in ("75", "-0.1", "1.01"):
        usage = cli("quality", "--min-pass-rate", bad, cwd=shop.root, engine=False)
        assert usage.code == 2 and "is not a fraction between 0 and 1" in usage.err, usage.err

    # A second update with nothing new evaluates no expectation: the gate does not pass by
    # accident, unless told that is expected.
    assert cli("run", "--refresh", "silver_orders", cwd=shop.root).code == 0
    empty = cli("quality", "--min-pass-rate", "0.5", cwd=shop.root, engine=False)
    assert empty.code == 1 and "No expectation was evaluated" in empty.err
    assert "--allow-empty" in empty.err
    allowed = cli("quality", "--min-pass-rate", "0.5", "--allow-empty", cwd=shop.root,
                  engine=False)
    assert allowed.code == 0, allowed.err
    both = cli("quality", "--last", "2", "--format", "json", cwd=shop.root, engine=False).json()
    jsonschema.validate(both, QUALITY_SCHEMA)
    assert len(both) == 2 and len({r["update_id"] for r in both}) == 1
    assert cli("quality", "--last", "2", "--min-pass-rate", "0.8", cwd=shop.root,
               engine=False).code == 1



APPEND_FLOWS = """
import dlt

dlt.create_streaming_table("all_orders", expect_all={"has_id": "id IS NOT NULL"})

@dlt.append_flow(target="all_orders")
@dlt.expect_or_drop("positive", "amount > 0")
def web():
    return spark.readStream.format("delta").load("data/web")

@dlt.append_flow(target="all_orders")
@dlt.expect("positive", "amount > 0")
@dlt.expect_or_fail("known_status", "status IS NOT NULL")
def shop():
    return spark.readStream.format("delta").load("data/shop")
"""


def test_quality_shows_the_action_of_rules_declared_on_a_flow(cli, project, spark) -> None:
    """Rules under `@dlt.append_flow` belong to that flow: their action comes from the flow's
    definition, and one rule name with different actions on two flows is two rows."""
    project.write_spec()
    project.write("transformations/flows.py", APPEND_FLOWS)
    for source, rows in {"web": [(1, "paid", 5.0), (2, "paid", -1.0)],
                         "shop": [(3, "open", -2.0), (None, "paid", 4.0), (5, "paid", 1.0)]}.items():
        spark.createDataFrame(rows, "id BIGINT, status STRING, amount DOUBLE") \
            .write.format("delta").save(str(project.root / "data" / source))
    run = cli("run", cwd=project.root)
    assert run.code == 0, run.err
    assert sorted(r["id"] or 0 for r in project.rows("all_orders")) == [0, 1, 3, 5]

    records = cli("quality", "--format", "json", cwd=project.root, engine=False).json()
    jsonschema.validate(records, QUALITY_SCHEMA)
    assert {(r["expectation"], r["action"], r["passed"], r["failed"]) for r in records} == {
        ("positive", "drop", 1, 1), ("positive", "warn", 2, 1), ("known_status", "fail", 3, 0),
        ("has_id", "warn", 4, 1)}
    table = cli("quality", cwd=project.root, engine=False)
    assert "?" not in table.out, table.out
    assert {tuple(line.split()[:3]) for line in table.out.splitlines()} >= {
        ("all_orders", "positive", "drop"), ("all_orders", "positive", "warn"),
        ("all_orders", "known_status", "fail"), ("all_orders", "has_id", "warn")}
    # The graph lists them too, naming the flow each belongs to.
    text = cli("graph", cwd=project.root).out
    for line in ("expect has_id (warn): id IS NOT NULL",
                 "expect positive (drop, flow web): amount > 0",
                 "expect positive (warn, flow shop): amount > 0",
                 "expect known_status (fail, flow shop): status IS NOT NULL"):
        assert line in text, text
    (node,) = [d for d in cli("graph", "-o", "json", cwd=project.root).json()["datasets"]
               if d["name"] == "all_orders"]
    assert {(e["name"], e["action"], e["flow"]) for e in node["expectations"]} == {
        ("has_id", "warn", None), ("positive", "drop", "web"), ("positive", "warn", "shop"),
        ("known_status", "fail", "shop")}


# -- output for scripts ------------------------------------------------------------------------

TABLES_SCHEMA = {"type": "array", "items": {
    "type": "object", "additionalProperties": False,
    "required": ["dataset", "kind", "location", "version", "files", "bytes", "clustering", "rows",
                 "created", "comment"],
    "properties": {"dataset": {"type": "string"}, "kind": {"type": "string"},
                   "location": {"type": ["string", "null"]},
                   "version": {"type": ["integer", "null"]}, "files": {"type": ["integer", "null"]},
                   "bytes": {"type": ["integer", "null"]},
                   "clustering": {"type": ["string", "null"]}, "rows": {"type": ["integer", "null"]},
                   "created": {"type": "boolean"}, "comment": {"type": ["string", "null"]}}}}
RUNS_SCHEMA = {"type": "array", "items": {
    "type": "object", "additionalProperties": False,
    "required": ["update_id", "state", "started", "ended", "duration_seconds", "rows_written",
                 "failed_flows", "error"],
    "properties": {"update_id": {"type": "string"},
                   "state": {"enum": ["COMPLETED", "FAILED", "CANCELED", "KILLED", "RUNNING"]},
                   "started": {"type": "string", "format": "date-time"},
                   "ended": {"type": ["string", "null"]},
                   "duration_seconds": {"type": ["number", "null"]},
                   "rows_written": {"type": "integer"},
                   "failed_flows": {"type": "array", "items": {"type": "string"}},
                   "error": {"type": ["string", "null"]}}}}
EVENTS_SCHEMA = {"type": "array", "items": {
    "type": "object", "additionalProperties": False,
    "required": ["timestamp", "update_id", "level", "event_type", "flow_name", "dataset_name",
                 "message", "details", "error"],
    "properties": {"timestamp": {"type": "string"}, "update_id": {"type": "string"},
                   "level": {"enum": ["INFO", "WARN", "ERROR", "METRICS"]},
                   "event_type": {"type": "string"}, "flow_name": {"type": ["string", "null"]},
                   "dataset_name": {"type": ["string", "null"]}, "message": {"type": "string"},
                   "details": {"type": "object"}, "error": {"type": ["object", "null"]}}}}
DRY_RUN_SCHEMA = {
    "type": "object", "required": ["pipeline", "valid", "flows", "plan", "excluded"],
    "properties": {
        "valid": {"const": True},
        "flows": {"type": "array", "items": {
            "type": "object", "required": ["flow", "dataset", "kind", "reads", "columns",
                                           "defined_at"],
            "properties": {"columns": {"type": "array", "items": {
                "type": "object", "required": ["name", "type", "nullable"]}}}}},
        "plan": {"type": "array", "items": {"type": "object",
                                            "required": ["flow", "dataset", "action"]}}}}
GRAPH_SCHEMA = {
    "type": "object", "required": ["pipeline", "datasets", "edges"],
    "properties": {
        "datasets": {"type": "array", "items": {
            "type": "object", "required": ["id", "name", "kind", "expectations"]}},
        "edges": {"type": "array", "items": {
            "type": "object", "required": ["from", "to", "flow", "flow_kind", "streaming"],
            "properties": {"streaming": {"type": "boolean"}}}}}}


def test_json_and_csv_output_follow_their_schemas(cli, shop) -> None:
    assert cli("run", cwd=shop.root).code == 0
    tables = cli("tables", "--format", "json", cwd=shop.root).json()
    jsonschema.validate(tables, TABLES_SCHEMA)
    assert {(t["dataset"], t["rows"]) for t in tables} == {
        ("raw", 4), ("silver_orders", 3), ("silver_orders_quarantine", 1), ("gold", 2)}
    csv_lines = cli("tables", "-o", "csv", cwd=shop.root).out.splitlines()
    assert csv_lines[0] == "dataset,kind,location,version,files,bytes,clustering,rows"
    quarantine = next(line for line in csv_lines if line.startswith("silver_orders_quarantine,"))
    assert quarantine.startswith("silver_orders_quarantine,quarantine,warehouse/")
    assert quarantine.endswith(",1")

    runs = cli("runs", "--format", "json", cwd=shop.root, engine=False).json()
    jsonschema.validate(runs, RUNS_SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [r["state"] for r in runs] == ["COMPLETED"] and runs[0]["rows_written"] == 9

    events = cli("events", "--type", "flow_progress", "-o", "json", cwd=shop.root,
                 engine=False).json()
    jsonschema.validate(events, EVENTS_SCHEMA)
    silver = [e for e in events if e["flow_name"] == "silver_orders"
              and e["details"]["flow_progress"]["status"] == "COMPLETED"]
    assert silver[0]["details"]["flow_progress"]["data_quality"]["dropped_records"] == 1
    header = cli("events", "-o", "csv", "--limit", "1", cwd=shop.root, engine=False)
    assert header.out.splitlines()[0] == \
        "timestamp,update_id,level,event_type,flow_name,message,details"

    dry = cli("dry-run", "--format", "json", cwd=shop.root)
    assert dry.code == 0, dry.err
    record = dry.json()
    jsonschema.validate(record, DRY_RUN_SCHEMA)
    silver_flow = next(f for f in record["flows"] if f["flow"] == "silver_orders")
    assert [c["name"] for c in silver_flow["columns"]] == ["id", "status", "amount"]
    assert silver_flow["reads"][0]["dataset"] == "raw" and silver_flow["reads"][0]["streaming"]

    graph = cli("graph", "--format", "json", cwd=shop.root).json()
    jsonschema.validate(graph, GRAPH_SCHEMA)


def test_invalid_pipeline_with_format_json_is_a_json_error_and_status_2(cli, project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def a():
            return spark.read.table("nowhere")

        @dp.materialized_view
        def b():
            return spark.range(1).selectExpr("id AS amount").select("amout")
    """)
    dry = cli("dry-run", "--format", "json", cwd=project.root)
    assert dry.code == 2
    error = dry.json()["error"]
    assert error["type"] == "GraphValidationError"
    # Every problem in one run: the missing table and, in another flow, the column in Spark's
    # words with the columns that exist.
    assert error["problems"] == [
        "transformations/t.py:3: [TABLE_OR_VIEW_NOT_FOUND] flow 'a' reads 'nowhere', which is "
        "neither a dataset of this pipeline nor an existing table.",
        "transformations/t.py:7: flow 'b' cannot be analysed: [UNRESOLVED_COLUMN.WITH_SUGGESTION]"
        " A column, variable, or function parameter with name `amout` cannot be resolved. Did "
        "you mean one of the following? [`amount`].",
    ]
    # `run` finds the same problems before running anything: c, which is fine, is not written.
    project.write("transformations/ok.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def c():
            return spark.range(3)
    """)
    run = cli("run", cwd=project.root)
    assert run.code == 2, run.out + run.err
    for problem in error["problems"]:
        assert problem in run.err, run.err
    assert not project.table_path("c").exists()
    # An analysis problem alone (the graph builds) stops the update before any flow runs too.
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def b():
            return spark.range(1).selectExpr("id AS amount").select("amout")

        @dp.materialized_view
        def d():
            return spark.range(1).selectExpr("id AS total").where("totl > 0")
    """)
    run = cli("run", cwd=project.root)
    assert run.code == 2, run.out + run.err
    assert "flow 'b' cannot be analysed" in run.err and "flow 'd' cannot be analysed" in run.err
    assert "Did you mean one of the following? [`total`]." in run.err
    assert not project.table_path("c").exists()



def test_missing_columns_in_joins_are_reported_with_qualified_candidates(cli, project) -> None:
    """Spark's UNRESOLVED_COLUMN message for `o.amout` in a SQL join of pipeline datasets and in
    a DataFrame join of aliases: candidates qualified by the aliases the user wrote."""
    project.write_spec()
    project.write("transformations/base.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def orders():
            return spark.sql("SELECT 1 AS id, 10 AS customer_id, 5.0 AS amount, 'paid' AS status")

        @dp.materialized_view
        def customers():
            return spark.sql("SELECT 10 AS id, 'x' AS name, 'nl' AS country")

        @dp.materialized_view
        def by_dataframe():
            o, c = spark.read.table("orders").alias("o"), spark.read.table("customers").alias("c")
            return o.join(c, o.customer_id == c.id).where("c.contry = 'nl'")
    """)
    project.write("transformations/joined.sql", """
        CREATE MATERIALIZED VIEW by_sql AS
        SELECT o.amout, c.name
        FROM orders o JOIN customers c ON o.customer_id = c.id
    """)
    for command in ("dry-run",):  # `run` reports the same (test_invalid_pipeline_with_...)
        result = cli(command, cwd=project.root)
        assert result.code == 2, result.out + result.err
        assert "flow 'by_sql' cannot be analysed: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, " \
            "variable, or function parameter with name `o`.`amout` cannot be resolved. Did you " \
            "mean one of the following? [`o`.`amount`, `o`.`id`, `c`.`id`, `c`.`name`, " \
            "`c`.`country`]." in result.err, result.err
        assert "flow 'by_dataframe' cannot be analysed: [UNRESOLVED_COLUMN.WITH_SUGGESTION] " \
            "A column, variable, or function parameter with name `c`.`contry` cannot be " \
            "resolved. Did you mean one of the following? [`c`.`country`, `o`.`id`, `c`.`id`, " \
            "`c`.`name`, `o`.`amount`]." in result.err, result.err
    assert not project.table_path("orders").exists()



def test_columns_qualified_by_a_pipeline_tables_name_resolve(project) -> None:
    """`orders.amount` with `FROM orders` (SQL) or `spark.read.table("orders")`: a read bound to
    the dataset keeps its name, as Spark qualifies a table's columns with it."""
    project.write_spec()
    project.write("transformations/t.sql", """
        CREATE MATERIALIZED VIEW orders AS SELECT 1 AS id, 5.0 AS amount;
        CREATE MATERIALIZED VIEW by_sql AS SELECT orders.amount FROM orders WHERE orders.id = 1;
    """)
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def by_dataframe():
            return spark.read.table("orders").select("orders.amount")
    """)
    result = project.run()
    assert result.state.value == "COMPLETED", [f.error for f in result.failed_flows]
    assert project.rows("by_sql") == project.rows("by_dataframe") == [{"amount": 5.0}]



def test_a_table_made_with_lakesmith_sql_is_read_by_name_in_the_pipeline(cli, project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def dutch():
            return spark.read.table("ext.customers").where("country = 'NL'")
    """)
    made = cli("sql", "CREATE TABLE ext.customers (id INT, country STRING) USING delta; "
               "INSERT INTO ext.customers VALUES (1, 'NL'), (2, 'BE')", cwd=project.root)
    assert made.code == 0, made.err
    run = cli("run", cwd=project.root)
    assert run.code == 0, run.out + run.err
    assert project.rows("dutch") == [{"id": 1, "country": "NL"}]
    assert project.rows("customers", schema="ext") == [
        {"id": 1, "country": "NL"}, {"id": 2, "country": "BE"}]  # read, not rewritten


def test_sql_files_stdin_vertical_and_errors_by_line(cli, shop) -> None:
    assert cli("run", cwd=shop.root).code == 0
    checks = shop.write("checks.sql", """
        -- two checks
        SELECT count(*) AS paid FROM silver_orders WHERE status = 'paid';

        SELECT status, count FROM gold ORDER BY status;
    """)
    result = cli("sql", "-f", str(checks), cwd=shop.root)
    assert result.code == 0, result.err
    assert re.search(r"│?\s*2\s*│?", result.out) and result.out.count("row(s)") == 2
    piped = cli("sql", "-o", "json", cwd=shop.root,
                input="SELECT 1 AS a; SELECT 'x' AS b, 2 AS c")
    assert piped.json() == [{"line": 1, "sql": "SELECT 1 AS a", "rows": [{"a": 1}]},
                            {"line": 1, "sql": "SELECT 'x' AS b, 2 AS c",
                             "rows": [{"b": "x", "c": 2}]}]
    vertical = cli("sql", "-x", "SELECT 1 AS first_column, 'two' AS second", cwd=shop.root)
    assert vertical.out.splitlines()[:3] == [
        "-RECORD 0------------", "first_column | 1", "second       | two"]
    bad = shop.write("bad.sql", "SELECT 1;\n\nSELECT nope FROM silver_orders;\n")
    failed = cli("sql", "-f", str(bad), cwd=shop.root)
    assert failed.code == 1 and "line 3: query failed" in failed.err
    assert cli("sql", "SELECT 1", "-f", str(bad), cwd=shop.root).code == 2


# -- graph pictures ----------------------------------------------------------------------------

DOT_NODE = re.compile(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)", shape=(\w+)\];$')
DOT_EDGE = re.compile(r'^  (n\d+) -> (n\d+)(?: \[(style=dashed)?(?:, )?(label="(?:[^"\\]|\\.)*")?\])?;$')
MERMAID_NODE = re.compile(r'^    (n\d+)(\[\(|\[/|\(\[|\{\{|\[)"([^"]*)"(\)\]|/\]|\]\)|\}\}|\])$')
MERMAID_EDGE = re.compile(r'^    (n\d+) (-->|-\.->)(?:\|"([^"]*)"\|)? (n\d+)$')


def parse_dot(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, bool]]]:
    """A strict parser of the DOT subset `lakesmith graph` writes: every line must parse."""
    lines = text.splitlines()
    assert re.fullmatch(r'digraph "(?:[^"\\]|\\.)*" \{', lines[0]) and lines[-1] == "}"
    assert lines[1] == "  rankdir=LR;"
    nodes, edges = {}, []
    for line in lines[2:-1]:
        if node := DOT_NODE.match(line):
            nodes[node.group(1)] = (node.group(2), node.group(3))
        elif edge := DOT_EDGE.match(line):
            edges.append((edge.group(1), edge.group(2), edge.group(3) is not None))
        else:
            raise AssertionError(f"not DOT: {line!r}")
    assert all(a in nodes and b in nodes for a, b, _ in edges)
    return nodes, edges


def parse_mermaid(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, bool]]]:
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes, edges = {}, []
    for line in lines[1:]:
        if node := MERMAID_NODE.match(line):
            nodes[node.group(1)] = (node.group(3), node.group(2))
        elif edge := MERMAID_EDGE.match(line):
            edges.append((edge.group(1), edge.group(4), edge.group(2) == "-.->"))
        else:
            raise AssertionError(f"not Mermaid: {line!r}")
    assert all(a in nodes and b in nodes for a, b, _ in edges)
    return nodes, edges


def by_label(nodes, edges):
    name = {node: label.split("<br/>")[0].split("\\n")[0] for node, (label, _) in nodes.items()}
    return {(name[a], name[b], streaming) for a, b, streaming in edges}


def test_graph_as_text_mermaid_and_dot(cli, shop) -> None:
    long_name = "a_dataset_with_a_name_long_enough_to_be_truncated_by_any_terminal_table_" * 2
    shop.write("transformations/more.py", f"""
        from pyspark import pipelines as dp

        @dp.materialized_view(name="{long_name}")
        def wide():
            return spark.read.table("gold")

        dp.create_streaming_table("all_orders")

        @dp.append_flow(target="all_orders", name="from_raw")
        def from_raw():
            return spark.readStream.table("raw")
    """)
    text = cli("graph", cwd=shop.root)
    assert text.code == 0, text.err
    assert f"{long_name} [materialized view]" in text.out
    assert "silver_orders [streaming table]\n  <- stream raw\n" \
           "  expect paid (drop): status IS NOT NULL\n" \
           "  expect positive (warn): amount > 0\n" in text.out
    assert "all_orders [streaming table]\n  <- stream raw  (flow from_raw, append)" in text.out

    expected = {("data/orders", "raw", True), ("raw", "silver_orders", True),
                ("silver_orders", "gold", False), ("gold", long_name, False),
                ("raw", "all_orders", True)}
    nodes, edges = parse_dot(cli("graph", "--format", "dot", cwd=shop.root).out)
    assert {(a.replace("delta:", ""), b, s) for a, b, s in by_label(nodes, edges)} == expected
    assert nodes[next(n for n, (label, _) in nodes.items()
                      if label.startswith("silver_orders"))][1] == "cylinder"
    nodes, edges = parse_mermaid(cli("graph", "-o", "mermaid", cwd=shop.root).out)
    assert {(a.replace("delta:", ""), b, s) for a, b, s in by_label(nodes, edges)} == expected
    assert cli("graph", "-o", "png", cwd=shop.root).code == 2


# -- selection, exit statuses, small things ----------------------------------------------------

def test_selection_operators_and_exit_statuses(cli, shop) -> None:
    assert cli("run", cwd=shop.root).code == 0
    upstream = cli("run", "--full-refresh", "+silver_orders", cwd=shop.root)
    assert upstream.code == 0, upstream.err
    flows = [line.split()[0] for line in upstream.out.splitlines()
             if " COMPLETED " in line and not line.startswith("Update ")]
    assert sorted(flows) == ["raw", "silver_orders"]
    assert shop.rows("silver_orders_quarantine")[0]["id"] == 2  # emptied, then quarantined again
    assert len(shop.rows("silver_orders_quarantine")) == 1
    # A run and two full refreshes (of all, of one table) keep each quarantined row once.
    assert cli("run", "--full-refresh-all", cwd=shop.root).code == 0
    assert cli("run", "--full-refresh", "silver_orders", cwd=shop.root).code == 0
    assert [r["id"] for r in shop.rows("silver_orders_quarantine")] == [2]
    typo = cli("run", "--refresh", "silver_ordrs", cwd=shop.root)
    assert typo.code == 2 and "did you mean 'silver_orders'?" in typo.err
    interval = cli("run", "--refresh", "gold", "--trigger-interval", "5s", cwd=shop.root)
    assert interval.code == 0
    assert "--trigger-interval applies only with --continuous" in interval.err
    zero = cli("run", "--continuous", "--trigger-interval", "0s", cwd=shop.root)
    assert zero.code == 2 and "is no time at all" in zero.err
    assert cli("run", "--conf", "novalue", cwd=shop.root).code == 2
    assert cli("--version", cwd=shop.root, engine=False).out.startswith("lakesmith ")



def test_every_commands_help_names_arguments_and_values_plainly() -> None:
    """No typer decorations: `NAME`, not `{NAME}` or `NAME <str>`; option values named
    (`--limit N`), not typed (`<int>`); flags without a `--no-` form; no `x>=1`."""
    runner = CliRunner()
    names = [c.name or c.callback.__name__ for c in cli_module.app.registered_commands
             if c.callback is not None]
    assert {"init", "run", "dry-run", "sql", "drop", "quality"} <= set(names)
    helps = {name: runner.invoke(cli_module.app, [*name.split(), "--help"], prog_name="lakesmith")
             for name in ["", *names]}
    for name, result in helps.items():
        assert result.exit_code == 0, (name, result.output)
        assert not re.search(r"[{}]|<\w+>|--no-|x>=", result.output), (name, result.output)
    assert re.search(r"^Usage: lakesmith init \[OPTIONS\] NAME$", helps["init"].output, re.M)
    assert re.search(r"^  NAME +Name of the new project directory", helps["init"].output, re.M)
    assert re.search(r"^Usage: lakesmith drop \[OPTIONS\] TABLE$", helps["drop"].output, re.M)
    assert re.search(r"^Usage: lakesmith sql \[OPTIONS\] \[QUERY\]$", helps["sql"].output, re.M)
    assert "--limit N " in helps["runs"].output and "--max-rows N " in helps["sql"].output
    assert "--full-refresh-all " in helps["run"].output
    assert runner.invoke(cli_module.app, ["quality", "--last", "0"]).exit_code == 2
    assert "[default: 1]" in helps["quality"].output


def test_conf_overrides_the_spec_configuration(cli, project) -> None:
    project.write_spec(configuration={"rows": "1"}, schema="sales")
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def numbers():
            return spark.range(int(spark.conf.get("rows")))
    """)
    verbose = cli("run", "--conf", "rows=3", "-v", cwd=project.root)
    assert verbose.code == 0
    assert len(project.rows("numbers", schema="sales")) == 3
    # -v shows the plan and the SQL lakesmith sends (the `default` schema needs none).
    assert "Update plan:" in verbose.out and "refresh: COMPLETE_RECOMPUTE" in verbose.out
    assert "lakesmith.sql: CREATE DATABASE IF NOT EXISTS `sales`" in verbose.err
    plan = cli("dry-run", "--conf", "rows=5", "-o", "json", cwd=project.root)
    assert plan.code == 0, plan.err


def test_tables_without_a_definition_are_listed_warned_about_and_dropped(cli, shop) -> None:
    assert cli("run", cwd=shop.root).code == 0
    source = shop.root / "transformations" / "t.py"
    source.write_text(source.read_text().replace(
        '@dlt.table\ndef gold():\n    return spark.read.table("silver_orders")'
        '.groupBy("status").count()\n', ""))
    assert "def gold" not in source.read_text()

    run = cli("run", cwd=shop.root)
    assert run.code == 0
    assert "no definition in the sources for table(s) gold" in run.err
    orphans = cli("tables", "--orphans", "-o", "json", cwd=shop.root).json()
    assert orphans == [{"table": "gold", "location": "warehouse/spark_catalog/default/gold",
                        "quarantine": None}]
    query = cli("sql", "SELECT count(*) AS n FROM gold", cwd=shop.root)
    assert query.code == 0 and "table 'gold' is no longer defined" in query.err

    still = cli("drop", "silver_orders", "--yes", cwd=shop.root)
    assert still.code == 2 and "still defined" in still.err
    kept = cli("drop", "gold", cwd=shop.root, input="n\n")
    assert kept.code == 1 and "Nothing was deleted." in kept.out
    assert shop.table_path("gold").exists()
    dropped = cli("drop", "gold", "--yes", cwd=shop.root)
    assert dropped.code == 0, dropped.err
    assert not shop.table_path("gold").exists()
    assert cli("tables", "--orphans", cwd=shop.root).out.strip() == \
        "Every table of this pipeline has a definition."


def test_projects_in_folders_with_spaces_and_absolute_library_globs(cli, tmp_path) -> None:
    root = tmp_path / "my projects" / "shop one"
    shared = tmp_path / "shared code"
    (shared).mkdir(parents=True)
    (shared / "t.py").write_text(
        "from pyspark import pipelines as dp\n\n@dp.table\ndef s():\n"
        "    return spark.readStream.format('delta').load('data/src')\n\n"
        "@dp.materialized_view\ndef n():\n    return spark.read.table('s')\n")
    root.mkdir(parents=True)
    # delta-rs, not the engine: the engine would write a folder with a space percent-encoded
    # (docs/engine-gaps.md); lakesmith reads it through an alias (engine/paths.py).
    write_deltalake(str(root / "data" / "src"), pa.table({"id": pa.array([0, 1], pa.int64())}))
    (root / "spark-pipeline.yml").write_text(
        f"name: p\nstorage: st\nlibraries:\n  - glob:\n      include: {shared}/**\n")
    for _ in range(2):
        result = cli("run", cwd=root)
        assert result.code == 0, result.err
    assert cli("sql", "SELECT count(*) FROM n", cwd=root).code == 0
    tables = cli("tables", "-o", "json", cwd=root).json()
    assert [(t["dataset"], t["location"], t["rows"]) for t in tables] == [
        ("s", "warehouse/spark_catalog/default/s", 2),
        ("n", "warehouse/spark_catalog/default/n", 2)]


def test_errors_with_remote_say_where_paths_are_resolved(cli, project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def m():
            return spark.read.format("json").load("data/missing")
    """)
    result = cli("run", cwd=project.root)
    assert result.code in (1, 2)
    assert "reads and writes the project's paths" in result.err
    assert f"under {project.root}" in result.err


def test_dry_run_fails_for_a_flow_kind_run_cannot_execute_yet(cli, shop) -> None:
    project = shop
    project.write("transformations/t.py", """
        import dlt

        @dlt.table
        def events():
            return spark.readStream.format("delta").load("data/orders")

        dlt.create_sink("out", "delta", {"path": "/tmp/never-written"})

        @dlt.append_flow(target="out", name="to_out")
        def to_out():
            return spark.readStream.table("events")
    """)
    dry = cli("dry-run", cwd=project.root)
    assert dry.code == 2, dry.out + dry.err
    assert "The pipeline graph is valid." in dry.out  # it is; it cannot run yet
    assert "1 flow(s) cannot run yet: transformations/t.py:9: flow 'to_out': sinks are not " \
           "supported by lakesmith yet" in dry.err


def test_every_source_file_that_does_not_load_is_named_in_one_run(cli, project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", "CREATE MATERIALIZED VIEW a AS SELECT 1 AS x;\n"
                                           "CREATE MATERIALIZD VIEW b AS SELECT 2;\n")
    project.write("transformations/b.py", "from pyspark import pipelines as dp\n"
                                          "import a_module_that_does_not_exist\n")
    dry = cli("dry-run", "-o", "json", cwd=project.root)
    assert dry.code == 2
    error = dry.json()["error"]
    assert error["type"] == "SourceLoadErrors"
    assert [p.split(":", 2)[:2] for p in error["problems"]] == [
        ["transformations/a.sql", "2"], ["transformations/b.py", "2"]]
