"""SQL file reads (`read_files(...)`, `STREAM read_files(...)`, legacy `cloud_files(...)`): found as
Auto Loader reads with one spelling of format and options, rewritten by a binding over the whole
call (with its STREAM wrapper), and refused by name when they cannot be read."""

from __future__ import annotations

import pytest
from pyspark.sql.connect import proto

from lakesmith.engine.plans import (
    PlanRead,
    PlanRewriter,
    RelationBinding,
    TableBinding,
    dataframe_of,
    find_reads,
    relation_of,
)
from lakesmith.engine.sql_files import READ_FILES_AUTO_LOADER_OPTIONS
from lakesmith.engine.sql_refs import SqlFileRef, find_table_refs
from lakesmith.engine.stateful import StatefulOperator, stateful_operators
from lakesmith.errors import NotSupportedYet, SqlRefError


def sql_relation(text: str) -> proto.Relation:
    relation = proto.Relation()
    relation.sql.query = text
    return relation


def files(path: str, *, streaming: bool, **options: str) -> PlanRead:
    return PlanRead(name=None, streaming=streaming, format="cloudFiles", paths=(path,),
                    options=options, in_sql=True)


def rewritten(text: str, binder) -> str:
    return PlanRewriter(None, binder).rewrite(sql_relation(text)).sql.query


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT *, _metadata.file_path AS source_file\nFROM STREAM read_files('/data/orders/', "
     "format => 'json')",
     files("/data/orders/", streaming=True, **{"cloudFiles.format": "json"})),
    ("SELECT * FROM STREAM(read_files('data/x', format => 'csv', header => true, "
     "schemaHints => 'id INT'))",
     files("data/x", streaming=True, **{"cloudFiles.format": "csv", "header": "true",
                                        "cloudFiles.schemaHints": "id INT"})),
    ("SELECT * FROM cloud_files('/data/x', 'json', map('cloudFiles.inferColumnTypes', 'true'))",
     files("/data/x", streaming=True, **{"cloudFiles.format": "json",
                                         "cloudFiles.inferColumnTypes": "true"})),
    ("SELECT * FROM read_files('/data/x', format => 'parquet')",
     files("/data/x", streaming=False, **{"cloudFiles.format": "parquet"})),
    ("SELECT * FROM STREAM cloud_files('s3://bucket/in', 'csv')",
     files("s3://bucket/in", streaming=True, **{"cloudFiles.format": "csv"})),
    ("select * from stream Read_Files(path => 'in', FORMAT => 'text')",
     files("in", streaming=True, **{"cloudFiles.format": "text"})),
])
def test_each_sql_form_is_one_auto_loader_read(text: str, expected: PlanRead) -> None:
    assert find_reads(sql_relation(text)) == [expected]


def test_auto_loader_options_get_their_prefix_and_reader_options_keep_their_name() -> None:
    text = """SELECT * FROM STREAM read_files('/in',
        header => true, format => 'csv', SCHEMAHINTS => 'id INT', inferColumnTypes => false,
        maxFilesPerTrigger => 5, maxBytesPerTrigger => '10g', `cloudFiles.schemaLocation` => '/s',
        schemaEvolutionMode => 'rescue', includeExistingFiles => true, allowOverwrites => false,
        useStrictGlobber => true, partitionColumns => 'day', sep => ';', multiLine => false,
        rescuedDataColumn => '_rescued', samplingRatio => 0.5, maxColumns => -1)"""
    [read] = find_reads(sql_relation(text))
    assert list(read.options.items()) == [
        ("cloudFiles.format", "csv"),
        ("header", "true"),
        ("cloudFiles.schemaHints", "id INT"),
        ("cloudFiles.inferColumnTypes", "false"),
        ("cloudFiles.maxFilesPerTrigger", "5"),
        ("cloudFiles.maxBytesPerTrigger", "10g"),
        ("cloudFiles.schemaLocation", "/s"),
        ("cloudFiles.schemaEvolutionMode", "rescue"),
        ("cloudFiles.includeExistingFiles", "true"),
        ("cloudFiles.allowOverwrites", "false"),
        ("cloudFiles.useStrictGlobber", "true"),
        ("cloudFiles.partitionColumns", "day"),
        ("sep", ";"),
        ("multiLine", "false"),
        ("rescuedDataColumn", "_rescued"),
        ("samplingRatio", "0.5"),
        ("maxColumns", "-1"),
    ]
    assert set(READ_FILES_AUTO_LOADER_OPTIONS) == {
        "inferColumnTypes", "partitionColumns", "schemaHints", "useStrictGlobber",
        "allowOverwrites", "includeExistingFiles", "maxBytesPerTrigger", "maxFilesPerTrigger",
        "schemaEvolutionMode", "schemaLocation"}


def test_cloud_files_options_are_kept_as_written_with_literal_values_as_strings() -> None:
    text = ("SELECT * FROM cloud_files('/in', 'json', map('cloudFiles.schemaHints', 'id INT', "
            "'multiLine', true, 'cloudFiles.maxFilesPerTrigger', 10))")
    assert find_reads(sql_relation(text)) == [files("/in", streaming=True, **{
        "cloudFiles.format": "json", "cloudFiles.schemaHints": "id INT", "multiLine": "true",
        "cloudFiles.maxFilesPerTrigger": "10"})]


def test_file_reads_in_joins_subqueries_and_ctes_in_text_order() -> None:
    text = """
        WITH landed AS (SELECT * FROM STREAM read_files('/a', format => 'json') AS a)
        SELECT l.id FROM landed l
        JOIN read_files('/b', format => 'csv', header => 'true') b ON l.id = b.id
        LEFT JOIN STREAM(orders) o ON o.id = l.id
        WHERE l.id IN (SELECT id FROM cloud_files('/c', 'parquet'))"""
    assert find_reads(sql_relation(text)) == [
        files("/a", streaming=True, **{"cloudFiles.format": "json"}),
        files("/b", streaming=False, **{"cloudFiles.format": "csv", "header": "true"}),
        PlanRead("orders", streaming=True, in_sql=True),
        files("/c", streaming=True, **{"cloudFiles.format": "parquet"}),
    ]


def test_a_file_reads_span_is_the_whole_call_with_its_stream_wrapper() -> None:
    text = ("SELECT * FROM STREAM read_files('/a', format => 'json') a "
            "JOIN STREAM ( read_files('/b', format => 'json') ) b USING (id) "
            "JOIN cloud_files('/c', 'json', map('k', 'v')) c USING (id) "
            "JOIN read_files('/d', format => 'json') USING (id)")
    spans = [text[r.start:r.end] for r in find_table_refs(text)]
    assert spans == [
        "STREAM read_files('/a', format => 'json')",
        "STREAM ( read_files('/b', format => 'json') )",
        "cloud_files('/c', 'json', map('k', 'v'))",
        "read_files('/d', format => 'json')",
    ]
    assert all(isinstance(r, SqlFileRef) for r in find_table_refs(text))


def test_other_table_functions_are_still_not_reads() -> None:
    assert find_reads(sql_relation("SELECT * FROM range(3) JOIN t USING (id)")) == [
        PlanRead("t", streaming=False, in_sql=True)]


def test_describe_names_the_files_and_auto_loader() -> None:
    streaming = files("data/in", streaming=True, **{"cloudFiles.format": "json"})
    batch = files("/in", streaming=False, **{"cloudFiles.format": "csv"})
    assert streaming.describe() == "streaming Auto Loader read of json files in data/in"
    assert batch.describe() == "Auto Loader read of csv files in /in"


# -- rewriting --------------------------------------------------------------------------------


def test_a_table_binding_replaces_the_call_and_its_stream_wrapper_keeping_the_alias() -> None:
    text = ("SELECT o.*, _metadata.file_path AS source_file, _metadata.file_name, "
            "input_file_name() AS f\n"
            "FROM STREAM read_files('/data/orders/', format => 'json') AS o "
            "JOIN STREAM(read_files('/data/items/', format => 'csv', header => true)) i "
            "ON o.id = i.order_id "
            "JOIN cloud_files('/data/c', 'json') USING (id)")
    names = {"/data/orders/": "orders_slice", "/data/items/": "items_slice", "/data/c": "c_slice"}
    assert rewritten(text, lambda read: TableBinding(names[read.paths[0]])) == (
        "SELECT o.*, _metadata.file_path AS source_file, _metadata.file_name, "
        "input_file_name() AS f\n"
        "FROM orders_slice AS o "
        "JOIN items_slice i "
        "ON o.id = i.order_id "
        "JOIN c_slice USING (id)")


def test_file_reads_and_table_reads_are_rewritten_together() -> None:
    text = ("SELECT * FROM STREAM(bronze) b JOIN read_files('in', format => 'json') r USING (id)")
    binder = {None: TableBinding("files_v"), "bronze": TableBinding("bronze_slice")}
    assert rewritten(text, lambda read: binder[read.name]) == \
        "SELECT * FROM        bronze_slice  b JOIN files_v r USING (id)"


def test_a_relation_binding_becomes_a_temp_view_the_engine_reads(spark) -> None:
    batch = relation_of(spark.createDataFrame([(1, "a"), (2, "b"), (3, "c")],
                                              "id BIGINT, label STRING"))
    rewriter = PlanRewriter(spark, lambda read: RelationBinding(batch), view_prefix="__f")
    text = "SELECT o.label FROM STREAM read_files('/in', format => 'json') o WHERE o.id > 1"
    relation = rewriter.rewrite(sql_relation(text))  # as the graph wraps SQL text
    [view] = rewriter.temp_views
    assert relation.sql.query == f"SELECT o.label FROM `{view}` o WHERE o.id > 1"
    assert sorted(r.label for r in dataframe_of(spark, relation).collect()) == ["b", "c"]
    rewriter.drop_temp_views()


def test_an_unbound_file_read_is_refused_at_rewrite_time() -> None:
    text = "SELECT * FROM STREAM read_files('data/orders', format => 'json') o"
    with pytest.raises(NotSupportedYet) as info:
        rewritten(text, lambda read: None)
    assert info.value.message == (
        "STREAM read_files('data/orders', format => 'json') (streaming Auto Loader read of json "
        "files in data/orders): lakesmith cannot run this read_files read yet; nothing in this run "
        "binds it to the files it reads.")


def test_table_reads_left_unbound_next_to_a_bound_file_read_stay_as_written() -> None:
    text = "SELECT * FROM dim JOIN cloud_files('/in', 'json') c USING (id)"
    assert rewritten(text, lambda read: TableBinding("c_slice") if read.name is None else None) \
        == "SELECT * FROM dim JOIN c_slice c USING (id)"


# -- stateful operators ----------------------------------------------------------------------


def test_operators_over_a_sql_file_stream_are_found() -> None:
    text = "SELECT kind, count(*) FROM STREAM read_files('/in', format => 'json') GROUP BY kind"
    assert stateful_operators(sql_relation(text), lambda read: read.streaming) == [
        StatefulOperator("aggregation (GROUP BY) in SQL", False)]
    batch = "SELECT kind, count(*) FROM read_files('/in', format => 'json') GROUP BY kind"
    assert stateful_operators(sql_relation(batch), lambda read: read.streaming) == []
    joined = ("SELECT * FROM STREAM read_files('/a', format => 'json') a "
              "JOIN STREAM(read_files('/b', format => 'json')) b USING (id)")
    assert stateful_operators(sql_relation(joined), lambda read: read.streaming) == [
        StatefulOperator("stream-stream join in SQL", False)]
    legacy = "SELECT DISTINCT kind FROM (SELECT * FROM cloud_files('/a', 'json')) s"
    assert stateful_operators(sql_relation(legacy), lambda read: read.streaming) == [
        StatefulOperator("SELECT DISTINCT in SQL", False)]


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "message"), [
    ("read_files('/in', format => 'json', header => concat('a', 'b'))",
     "read_files('/in', format => 'json', header => concat('a', 'b')): option 'header' is "
     "CONCAT('a', 'b'), which is not a literal; lakesmith reads read_files options without running "
     "the query, so each must be a string, number or boolean literal. Write the value itself (a "
     "pipeline configuration value can be substituted with ${key})."),
    ("read_files('/in', format => NULL)",
     "read_files('/in', format => NULL): option 'format' is NULL, which is not a literal; lakesmith "
     "reads read_files options without running the query, so each must be a string, number or "
     "boolean literal. Write the value itself (a pipeline configuration value can be substituted "
     "with ${key})."),
    ("read_files('/in')",
     "read_files('/in'): read_files has no format; lakesmith does not detect the format of files "
     "yet. Name it, e.g. read_files('/data/in', format => 'json') (or csv, parquet, text, ...)."),
    ("read_files('/in', 'json')",
     "read_files('/in', 'json'): 'json' is not a named option; read_files takes its path first "
     "and every option by name. Write options as name => value, e.g. read_files('/data/in', "
     "format => 'json', header => true)."),
    ("read_files(format => 'json')",
     "read_files(format => 'json'): read_files needs the path of the files to read. Write "
     "read_files('/data/in', format => 'json')."),
    ("read_files(concat('/a', '/b'), format => 'json')",
     "read_files(concat('/a', '/b'), format => 'json'): the path must be a string literal, not "
     "CONCAT('/a', '/b'). Write it in quotes, as in read_files('/data/in', ...)."),
    ("read_files('/in', schemaHints => 'a', `cloudFiles.schemaHints` => 'b')",
     "read_files('/in', schemaHints => 'a', `cloudFiles.schemaHints` => 'b'): option "
     "'cloudFiles.schemaHints' is given twice (first as 'schemaHints'). Give each option once."),
    ("cloud_files('/in')",
     "cloud_files('/in'): cloud_files takes a path, a format and optionally a map of options. "
     "Write cloud_files('/data/in', 'json', map('cloudFiles.inferColumnTypes', 'true'))."),
    ("cloud_files('/in', 'json', 'header')",
     "cloud_files('/in', 'json', 'header'): the options of cloud_files must be map('name', "
     "'value', ...), not 'header'. Write cloud_files('/data/in', 'json', map('header', 'true'))."),
    ("cloud_files('/in', 'json', map('cloudFiles.format', 'csv'))",
     "cloud_files('/in', 'json', map('cloudFiles.format', 'csv')): option 'cloudFiles.format' is "
     "given twice (first as 'format'). Give each option once."),
])
def test_calls_lakesmith_cannot_read_are_refused_with_the_call(call: str, message: str) -> None:
    with pytest.raises(SqlRefError) as info:
        find_reads(sql_relation(f"SELECT * FROM STREAM {call} AS x"))
    assert info.value.message == message


def test_a_long_call_is_cut_in_messages() -> None:
    path = "/data/" + "x" * 100
    with pytest.raises(SqlRefError) as info:
        find_table_refs(f"SELECT * FROM read_files('{path}')")
    assert info.value.message.startswith(f"read_files('{path}"[:77] + "...: read_files has no format")
