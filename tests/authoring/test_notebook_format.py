"""Reading Databricks notebook exports: header, cells, ignored magic commands (no engine)."""

from __future__ import annotations

from lakesmith.authoring import notebook
from lakesmith.authoring.sql import parse_sql_definitions


def test_header_decides_whether_a_file_is_a_notebook() -> None:
    assert notebook.is_notebook("# Databricks notebook source\nimport dlt\n", "python")
    assert notebook.is_notebook("\ufeff-- Databricks notebook source\r\nSELECT 1", "sql")
    assert not notebook.is_notebook("import dlt\n# Databricks notebook source\n", "python")
    assert not notebook.is_notebook("-- Databricks notebook source\n", "python")


def test_cells_are_split_at_command_lines_crlf_included() -> None:
    text = "-- Databricks notebook source\r\nA\r\n-- COMMAND ----------\r\nB\r\n"
    regions = notebook.cells(text, "sql")
    assert [text[r.start:r.end].strip() for r in regions] == [
        "-- Databricks notebook source\r\nA", "B"]
    assert notebook.cell_number(text, "sql", 4) == 2


def test_only_pip_and_run_are_reported() -> None:
    text = ("# Databricks notebook source\n# MAGIC %md\n# MAGIC %pip install x\n"
            "# MAGIC %sql SELECT 1\n# MAGIC %run ./y\n# MAGIC   %pip list\n")
    assert [(m.line, m.command) for m in notebook.ignored_magic_commands(text, "python")] == [
        (3, "%pip install x"), (5, "%run ./y"), (6, "%pip list")]


def test_sql_notebook_statements_end_at_cells_and_keep_their_lines() -> None:
    text = ("-- Databricks notebook source\n"
            "CREATE LIVE TABLE a AS SELECT 1 AS x\n"
            "-- COMMAND ----------\n"
            "-- MAGIC %md a note; with a semicolon\n"
            "-- COMMAND ----------\n"
            "CREATE LIVE TABLE b AS\n"
            "SELECT * FROM LIVE.a; CREATE LIVE TABLE c AS SELECT 2 AS x\n")
    definitions = parse_sql_definitions(text, "/p/nb.sql", {})
    assert [(d.name, d.location.line) for d in definitions] == [
        ("a", 2), ("a", 2), ("b", 6), ("b", 6), ("c", 7), ("c", 7)]
