"""Validation before anything runs: every error names the dataset and the file and line."""

from __future__ import annotations

import pytest

from lakesmith.errors import GraphValidationError, SourceLoadError


def problems(project) -> str:
    with pytest.raises(GraphValidationError) as info:
        with project.open():
            pass
    return str(info.value)


def test_unknown_dataset_names_the_flow_and_line(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def a():
            return spark.read.table("does_not_exist")
    """)
    text = problems(project)
    assert "flow 'a' reads 'does_not_exist'" in text
    assert "neither a dataset of this pipeline nor an existing table" in text
    assert "t.py:3" in text


def test_duplicate_definitions_show_both_places(project) -> None:
    project.write_spec()
    project.write("transformations/a.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def same():
            return spark.range(1)
    """)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp

        @dp.temporary_view(name="same")
        def other():
            return spark.range(2)
    """)
    text = problems(project)
    assert "dataset 'same' is defined more than once" in text
    assert "a.py:3" in text and "b.py:3" in text


def test_cycle_is_printed(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def a():
            return spark.read.table("c")

        @dp.materialized_view
        def b():
            return spark.read.table("a")

        @dp.materialized_view
        def c():
            return spark.read.table("b")

        @dp.materialized_view
        def unrelated():
            return spark.range(1)
    """)
    text = problems(project)
    assert "the pipeline has a cycle: a -> b -> c -> a" in text
    assert text.count("has a cycle") == 1


def test_materialized_view_cannot_read_a_stream(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def source():
            return spark.range(3)

        @dp.materialized_view
        def mv():
            return spark.readStream.format("delta").load("/tmp/somewhere")
    """)
    text = problems(project)
    assert "materialized view 'mv' reads a stream (streaming read of delta source /tmp/somewhere)" in text
    assert "t.py:7" in text


def test_streaming_read_of_a_materialized_view_is_rejected(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def mv():
            return spark.range(3)

        @dp.table
        def st():
            return spark.readStream.table("mv")
    """)
    text = problems(project)
    assert "flow 'st' reads materialized view 'mv' as a stream" in text


def test_streaming_table_with_a_batch_query_is_rejected(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table
        def st():
            return spark.range(3)
    """)
    text = problems(project)
    assert "streaming table 'st' is written by flow 'st', whose query is a batch query" in text


def test_append_flow_into_unknown_or_materialized_target(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def mv():
            return spark.range(3)

        @dp.append_flow(target="mv")
        def extra():
            return spark.range(3)

        @dp.append_flow(target="nowhere")
        def lost():
            return spark.range(3)
    """)
    text = problems(project)
    assert "flow 'extra' appends to materialized view 'mv'" in text
    assert "flow 'lost' writes to 'nowhere', which is not defined in this pipeline" in text
    assert "create_streaming_table('nowhere')" in text


def test_query_function_errors_point_at_the_line(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def a():
            value = {}["missing"]
            return spark.range(1)

        @dp.materialized_view
        def b():
            return 42
    """)
    text = problems(project)
    assert "the query function of flow 'a' raised an error: KeyError: 'missing'" in text
    assert "t.py:5" in text
    assert "the query function of flow 'b' must return a DataFrame, but returned int" in text


def test_errors_while_importing_a_source_name_the_line(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        x = 1 / 0
    """)
    with pytest.raises(SourceLoadError) as info:
        with project.open():
            pass
    assert "t.py:3" in str(info.value) and "ZeroDivisionError" in str(info.value)


def test_session_mutations_are_blocked_in_sources(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        spark.conf.set("a", "b")
    """)
    with pytest.raises(SourceLoadError) as info:
        with project.open():
            pass
    assert "SESSION_MUTATION_IN_DECLARATIVE_PIPELINE" in str(info.value)
    assert "t.py:1" in str(info.value)


def test_unsupported_file_types_are_reported(project) -> None:
    project.write_spec()
    project.write("transformations/notes.txt", "hello")
    with pytest.raises(SourceLoadError, match="unsupported source file type '.txt'"):
        with project.open():
            pass


def test_analysis_errors_are_reported_at_dry_run(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def a():
            return spark.range(3)

        @dp.materialized_view
        def b():
            return spark.read.table("a").select("no_such_column")

        @dp.materialized_view
        def c():
            return spark.read.table("b")
    """)
    with project.open() as pipeline:
        with pytest.raises(GraphValidationError) as info:
            pipeline.analyze()
    text = str(info.value)
    assert "flow 'b' cannot be analysed" in text and "no_such_column" in text
    assert "t.py:7" in text
    assert "flow 'c'" not in text  # downstream of a failure: not reported twice


def test_datasets_differing_only_by_catalog_are_refused(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view(name="main.sales.orders")
        def a():
            return spark.range(1)

        @dp.materialized_view(name="dev.sales.orders")
        def b():
            return spark.range(2)
    """)
    text = problems(project)
    assert "differ only by catalog" in text and "t.py:7" in text


def problem_list(project) -> list[str]:
    """Each problem as `file:line: message`, with paths relative to the project root."""
    with pytest.raises(GraphValidationError) as info:
        with project.open():
            pass
    return [str(p).replace(f"{project.root}/", "") for p in info.value.problems]


AUTO_CDC_HINT = ("an AUTO CDC target must be a streaming table: define it with "
                 "create_streaming_table('{0}') (SQL: CREATE STREAMING TABLE {0}) and make the "
                 "AUTO CDC flow its only flow.")


def test_auto_cdc_into_a_materialized_view_is_a_graph_error(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def mv():
            return spark.range(3)

        @dp.temporary_view
        def changes():
            return spark.readStream.format("delta").load("/tmp/changes")

        dp.create_auto_cdc_flow(target="mv", source="changes", keys=["id"], sequence_by="id",
                                name="cdc")
    """)
    assert problem_list(project) == [
        "transformations/t.py:11: [INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED_VIEW] "
        "AUTO CDC flow 'cdc' writes to materialized view 'mv' (defined at "
        "transformations/t.py:3); " + AUTO_CDC_HINT.format("mv")]


def test_dlt_apply_changes_into_a_view_is_a_graph_error(project) -> None:
    project.write_spec()
    project.write("transformations/p.py", """
        import dlt

        @dlt.view
        def changes():
            return spark.readStream.format("delta").load("/tmp/changes")

        @dlt.view
        def current():
            return spark.read.format("delta").load("/tmp/changes")

        @dlt.table
        def stored():
            return dlt.read("current")

        dlt.apply_changes(target="current", source="changes", keys=["id"], sequence_by="seq",
                          name="to_view")
    """)
    assert problem_list(project) == [
        "transformations/p.py:15: [INVALID_FLOW_QUERY_TYPE.AUTOCDC_RELATION_FOR_TEMPORARY_VIEW] "
        "AUTO CDC flow 'to_view' writes to temporary view 'current' (defined at "
        "transformations/p.py:7); " + AUTO_CDC_HINT.format("current")]


def test_sql_auto_cdc_into_a_materialized_view_is_a_graph_error(project) -> None:
    project.write_spec()
    project.write("transformations/t.sql", """
        CREATE TEMPORARY VIEW changes AS SELECT * FROM STREAM(delta.`/tmp/changes`);

        CREATE MATERIALIZED VIEW totals AS SELECT 1 AS id;

        CREATE FLOW cdc AS AUTO CDC INTO totals
          FROM STREAM(changes) KEYS (id) SEQUENCE BY id;
    """)
    assert problem_list(project) == [
        "transformations/t.sql:5: [INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED_VIEW] "
        "AUTO CDC flow 'cdc' writes to materialized view 'totals' (defined at "
        "transformations/t.sql:3); " + AUTO_CDC_HINT.format("totals")]
