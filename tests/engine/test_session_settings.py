"""SET and RESET in `lakesmith.session()` give Spark's results (the engine's own parser knows
almost none of them): a key/value table, `<undefined>` for a key not set, the value as written,
RESET back to the session's start-up settings, Spark's error for a time zone it cannot resolve,
and a refusal for settings that would change Spark's answers. Values checked against Spark 4.3
(classic, local mode) by hand: see each assertion."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import lakesmith
from conftest import Project
from lakesmith.engine.session_settings import local_time_zone, parse_setting_statement
from lakesmith.errors import LakesmithError, NotSupportedYet


@pytest.fixture
def spark(project: Project) -> Iterator[Any]:
    project.write_spec(configuration={"my.pipeline.setting": "from the spec"})
    session = lakesmith.session(project.root, remote=project.sail_url)
    yield session
    session.stop()


def rows(df: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in df.collect()]


def test_set_shows_and_resets_like_spark(spark: Any) -> None:
    result = spark.sql("SET spark.sql.shuffle.partitions = 4")
    assert result.columns == ["key", "value"]
    assert rows(result) == [("spark.sql.shuffle.partitions", "4")]
    assert rows(spark.sql("SET spark.sql.shuffle.partitions")) == [
        ("spark.sql.shuffle.partitions", "4")]
    assert rows(spark.sql("SET my.var = hello world ;")) == [("my.var", "hello world")]
    assert rows(spark.sql("SET `a b`=2")) == [("a b", "2")]
    assert rows(spark.sql("set `a b`")) == [("a b", "2")]
    assert rows(spark.sql("SET nope.key")) == [("nope.key", "<undefined>")]
    listed = dict(rows(spark.sql("SET")))
    assert listed["my.var"] == "hello world" and listed["my.pipeline.setting"] == "from the spec"
    assert rows(spark.sql("SET")) == sorted(rows(spark.sql("SET")))
    assert spark.conf.get("my.var") == "hello world"

    assert spark.sql("RESET my.var").columns == []
    assert rows(spark.sql("SET my.var")) == [("my.var", "<undefined>")]
    spark.sql("SET my.pipeline.setting = changed")
    spark.sql("RESET")
    assert rows(spark.sql("SET spark.sql.shuffle.partitions")) == [
        ("spark.sql.shuffle.partitions", "200")]
    assert rows(spark.sql("SET `a b`")) == [("a b", "<undefined>")]
    # RESET restores the session's start-up settings (here the pipeline's configuration).
    assert rows(spark.sql("SET my.pipeline.setting")) == [("my.pipeline.setting", "from the spec")]


def test_set_time_zone_changes_what_timestamps_show(spark: Any) -> None:
    assert rows(spark.sql("SET TIME ZONE 'America/New_York'")) == [
        ("spark.sql.session.timeZone", "America/New_York")]
    assert rows(spark.sql("SELECT current_timezone()")) == [("America/New_York",)]
    assert rows(spark.sql("SET spark.sql.session.timeZone = +01:00")) == [
        ("spark.sql.session.timeZone", "+01:00")]
    assert rows(spark.sql("SELECT CAST(TIMESTAMP'2024-01-01 00:00:00Z' AS STRING)")) == [
        ("2024-01-01 01:00:00",)]
    assert rows(spark.sql("SET TIME ZONE LOCAL")) == [
        ("spark.sql.session.timeZone", local_time_zone())]
    # Spark: quotes in a SET value are part of it, so this zone does not resolve.
    with pytest.raises(LakesmithError, match=r"\[INVALID_CONF_VALUE.TIME_ZONE\] The value "
                                             r"''UTC'' in the config"):
        spark.sql("SET spark.sql.session.timeZone = 'UTC'")
    with pytest.raises(LakesmithError, match="INVALID_CONF_VALUE.TIME_ZONE"):
        spark.conf.set("spark.sql.session.timeZone", "Nowhere/Else")
    with pytest.raises(NotSupportedYet, match="give the offset as a string"):
        spark.sql("SET TIME ZONE INTERVAL '+01:00' HOUR TO MINUTE")
    assert rows(spark.sql("SET spark.sql.session.timeZone")) == [
        ("spark.sql.session.timeZone", local_time_zone())]


def test_settings_that_change_sparks_answers_are_refused(spark: Any) -> None:
    with pytest.raises(LakesmithError, match="'spark.sql.ansi.enabled = false' is not supported"):
        spark.conf.set("spark.sql.ansi.enabled", False)
    with pytest.raises(LakesmithError, match="timeParserPolicy = LEGACY' is not supported"):
        spark.sql("SET spark.sql.legacy.timeParserPolicy = LEGACY")
    with pytest.raises(LakesmithError, match="'spark.sql.ansi.enabled = false' is not supported"):
        spark.sql("set `spark.sql.ansi.enabled`=false;")
    # Nothing was set: the session still gives ANSI's answers; Spark's defaults are accepted.
    assert spark.conf.get("spark.sql.ansi.enabled") == "true"
    spark.conf.set("spark.sql.ansi.enabled", "true")
    with pytest.raises(Exception, match="CAST_INVALID_INPUT|cast"):
        spark.sql("SELECT CAST('a' AS INT) AS v").collect()


def test_statements_that_are_not_settings_go_to_the_engine() -> None:
    for text in ("SELECT 1", "SET VAR x = 1", "SETTINGS", "RESETX", "DESCRIBE t"):
        assert parse_setting_statement(text) is None, text
    with pytest.raises(NotSupportedYet, match="SET -v"):
        parse_setting_statement("SET -v")
