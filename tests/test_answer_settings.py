"""Settings that change Spark's answers (ANSI mode off, the LEGACY datetime parser) are refused
before anything runs, naming where they were set: lakesmith gives Spark 4.3's answers under its
defaults and would otherwise hand back values that are neither Spark's nor consistent."""

from __future__ import annotations

import datetime

import pytest

from lakesmith.errors import GraphValidationError, SpecError
from lakesmith.runtime.events import UpdateState

VIEW = """
import dlt

@dlt.table
def numbers():
    return spark.sql("SELECT '1' + 1 AS v")
"""


def test_ansi_off_in_the_pipeline_configuration_is_refused(project) -> None:
    project.write_spec(configuration={"spark.sql.ansi.enabled": False})  # YAML false
    project.write("transformations/t.py", VIEW)
    with pytest.raises(SpecError) as info:
        project.run()
    message = str(info.value)
    assert "spark-pipeline.yml: configuration 'spark.sql.ansi.enabled = false' is not supported" \
        in message
    assert "'1' + 1 is the DOUBLE 2.0" in message and "set it to 'true'" in message
    assert not project.table_path("numbers").exists()


def test_ansi_off_as_a_conf_override_is_refused(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", VIEW)
    with pytest.raises(SpecError, match=r"configuration override \(--conf\): "
                                        r"'spark.sql.ansi.enabled = FALSE' is not supported"):
        with project.open(configuration={"spark.sql.ansi.enabled": "FALSE"}):
            pass


def test_a_flows_spark_conf_with_the_legacy_time_parser_is_refused(project) -> None:
    project.write_spec()
    path = project.write("transformations/t.py", """
        import dlt

        @dlt.table(spark_conf={"spark.sql.legacy.timeParserPolicy": "LEGACY"})
        def dates():
            return spark.sql("SELECT to_date('2024-1-5', 'yyyy-MM-dd') AS d")
    """)
    with pytest.raises(GraphValidationError) as info:
        project.run()
    message = str(info.value)
    assert f"{path}:3" in message  # the decorator's line
    assert "flow 'dates': 'spark.sql.legacy.timeParserPolicy = LEGACY' is not supported" \
        in message and "SimpleDateFormat" in message


def test_sql_set_of_ansi_off_is_refused_at_its_flow(project) -> None:
    project.write_spec()
    path = project.write("transformations/t.sql", """
        SET spark.sql.ansi.enabled = false;
        CREATE MATERIALIZED VIEW numbers AS SELECT '1' + 1 AS v;
    """)
    with pytest.raises(GraphValidationError) as info:
        project.run()
    message = str(info.value)
    assert str(path) in message
    assert "flow 'numbers': 'spark.sql.ansi.enabled = false' is not supported" in message


def test_spark_defaults_written_out_are_accepted(project) -> None:
    project.write_spec(configuration={"spark.sql.ansi.enabled": "TRUE",
                                      "spark.sql.legacy.timeParserPolicy": "corrected"})
    project.write("transformations/t.sql",
                  "CREATE MATERIALIZED VIEW days AS SELECT to_date('2024-01-05') AS d;")
    assert project.run().state == UpdateState.COMPLETED
    assert project.rows("days") == [{"d": datetime.date(2024, 1, 5)}]
