"""Spark SQL settings that lakesmith cannot honour because they change query answers.

lakesmith's rewrites (`engine/semantics/`) give Apache Spark 4.3's answers under its default
settings: ANSI mode on, the CORRECTED datetime parser. A pipeline that turns ANSI off (common in
pipelines written for Databricks runtimes before Spark 4, where it was off) expects Spark's
non-ANSI answers: `'1' + 1` is the DOUBLE 2.0, not the BIGINT 2; an integer overflow wraps; a bad
cast is NULL. The embedded engine follows such a setting only in part (a bad cast gives NULL, an
array index out of bounds still fails) while lakesmith's rewrites keep ANSI's checks, so the
result would be neither Spark's nor consistent. Such settings are refused before anything runs,
naming where they were set.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerSetting:
    """A setting whose only supported value is Spark 4.3's default."""

    default: str
    effect: str  # what another value changes, as the user would see it


ANSWER_SETTINGS: dict[str, AnswerSetting] = {
    "spark.sql.ansi.enabled": AnswerSetting(
        "true",
        "with ANSI mode off Spark coerces types differently ('1' + 1 is the DOUBLE 2.0, not the "
        "BIGINT 2), lets integer arithmetic wrap around on overflow and returns NULL for invalid "
        "casts, divisions by zero and DECIMAL overflows; lakesmith gives ANSI mode's answers "
        "(Spark 4's default) and does not reproduce these"),
    "spark.sql.legacy.timeParserPolicy": AnswerSetting(
        "CORRECTED",
        "the LEGACY and EXCEPTION policies parse and format dates and timestamps with other "
        "rules (LEGACY uses java.text.SimpleDateFormat, which accepts malformed values); "
        "lakesmith parses them as Spark's default CORRECTED policy does"),
}


def unsupported_setting(key: str, value: str) -> str | None:
    """Why `key = value` is refused, or None when lakesmith gives Spark's answers with it."""
    setting = ANSWER_SETTINGS.get(key.strip())
    if setting is None or str(value).strip().lower() == setting.default.lower():
        return None
    return (f"'{key} = {value}' is not supported: {setting.effect}. Remove the setting (or set "
            f"it to '{setting.default}') and check that the pipeline's results are the ones you "
            "expect under Spark 4's defaults.")
