"""Spark SQL's `SET` and `RESET` statements in the user's session (`lakesmith.session()`,
`lakesmith sql`, `lakesmith shell`).

The engine's SQL parser knows almost none of them (`SET spark.sql.shuffle.partitions = 4` fails
with "Could not find config namespace", `SET TIME ZONE` and `RESET` do not parse), while its
configuration requests (`spark.conf`) work. So these statements are answered here with
configuration requests, with Spark's results: a `key`, `value` table, `<undefined>` for a key that
is not set, the value as written (trimmed, quotes kept), and Spark's errors for a time zone it
cannot resolve and for settings that would change its answers (`answer_settings.py`).
"""

from __future__ import annotations

import os
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakesmith.answer_settings import unsupported_setting
from lakesmith.errors import LakesmithError, NotSupportedYet

TIME_ZONE_KEY = "spark.sql.session.timeZone"
UNDEFINED = "<undefined>"

_KEY = r"(?:`((?:[^`]|``)+)`|([^\s=`;]+))"
_SET_VALUE = re.compile(rf"SET\s+{_KEY}\s*=\s*(.*?)", re.IGNORECASE | re.DOTALL)
_SET_KEY = re.compile(rf"SET\s+{_KEY}", re.IGNORECASE)
_SET_ALL = re.compile(r"SET", re.IGNORECASE)
_SET_VERBOSE = re.compile(r"SET\s+-v", re.IGNORECASE)
_SET_TIME_ZONE = re.compile(r"SET\s+TIME\s+ZONE\s+(.*?)", re.IGNORECASE | re.DOTALL)
_RESET = re.compile(rf"RESET(?:\s+{_KEY})?", re.IGNORECASE)
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", re.DOTALL)

# java.time.ZoneId.SHORT_IDS, which Spark accepts as time zones.
_JAVA_SHORT_IDS = {
    "ACT", "AET", "AGT", "ART", "AST", "BET", "BST", "CAT", "CNT", "CST", "CTT", "EAT", "ECT",
    "IET", "IST", "JST", "MIT", "NET", "NST", "PLT", "PNT", "PRT", "PST", "SST", "VST", "EST",
    "MST", "HST"}
_OFFSET = re.compile(r"(?:(?:UTC|GMT|UT)?[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?|Z|UTC|GMT|UT)")


@dataclass(frozen=True)
class SettingStatement:
    """One SET/RESET statement: `kind` is set, show, list, time_zone or reset."""

    kind: str
    key: str | None = None
    value: str | None = None


def parse_setting_statement(text: str) -> SettingStatement | None:
    """The SET/RESET statement `text` is, or None for anything else."""
    statement = text.strip().rstrip(";").strip()
    if not statement[:5].upper().startswith(("SET", "RESET")):
        return None
    if _SET_VERBOSE.fullmatch(statement):
        raise NotSupportedYet("SET -v is not supported: the engine does not describe its "
                              "settings. Use SET to list the session's settings.")
    if match := _SET_TIME_ZONE.fullmatch(statement):
        return SettingStatement("time_zone", TIME_ZONE_KEY, _time_zone(match.group(1).strip()))
    if match := _SET_VALUE.fullmatch(statement):
        return SettingStatement("set", _key(match), match.group(3).strip())
    if match := _SET_KEY.fullmatch(statement):
        return SettingStatement("show", _key(match))
    if _SET_ALL.fullmatch(statement):
        return SettingStatement("list")
    if match := _RESET.fullmatch(statement):
        return SettingStatement("reset", _key(match) if match.group(1) or match.group(2) else None)
    return None


def _key(match: re.Match[str]) -> str:
    quoted, plain = match.group(1), match.group(2)
    return quoted.replace("``", "`") if quoted is not None else plain


def _time_zone(operand: str) -> str:
    """The zone of `SET TIME ZONE 'zone' | LOCAL`."""
    if operand.upper() == "LOCAL":
        return local_time_zone()
    literal = _QUOTED.fullmatch(operand)
    if literal is not None:
        return literal.group(1) if literal.group(1) is not None else literal.group(2)
    if operand.upper().startswith("INTERVAL"):
        raise NotSupportedYet(f"SET TIME ZONE {operand} is not supported yet: give the offset "
                              "as a string, e.g. SET TIME ZONE '+01:00'.")
    raise LakesmithError(f"SET TIME ZONE {operand}: expected a string ('America/New_York', "
                         "'+01:00') or LOCAL.")


def local_time_zone() -> str:
    """The machine's time zone as Java names it for Spark's LOCAL: $TZ, else /etc/localtime."""
    configured = os.environ.get("TZ", "").lstrip(":")
    if configured:
        return configured
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return "UTC"


def check_setting(key: str, value: str) -> None:
    """Refuse what Spark refuses (a time zone it cannot resolve) and what would change its
    answers here (`answer_settings.py`)."""
    refusal = unsupported_setting(key, value.strip("'\""))
    if refusal is not None:
        raise LakesmithError(refusal)
    if key == TIME_ZONE_KEY and not is_time_zone(value):
        raise LakesmithError(
            f"[INVALID_CONF_VALUE.TIME_ZONE] The value '{value}' in the config "
            f"\"{TIME_ZONE_KEY}\" is invalid. Cannot resolve the given timezone.")


def is_time_zone(value: str) -> bool:
    """Whether Spark resolves `value` as a time zone (a region, an offset or a Java short id)."""
    if _OFFSET.fullmatch(value) or value in _JAVA_SHORT_IDS:
        return True
    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


class SessionSettings:
    """Runs SET/RESET for one session through configuration requests. RESET restores the
    settings as they were before the user's first change (the session's own start-up settings,
    e.g. the pipeline's configuration), as Spark restores a session's start-up values."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self._initial: dict[str, str] | None = None

    def before_change(self, conf: Any) -> None:
        """Remember the settings before the first change, for RESET."""
        if self._initial is None:
            self._initial = dict(conf.getAll)

    def run(self, statement: SettingStatement, conf: Any) -> Any:
        if statement.kind in ("set", "time_zone"):
            assert statement.key is not None and statement.value is not None
            conf.set(statement.key, statement.value)  # checked by the session's conf
            return self._rows([(statement.key, statement.value)])
        if statement.kind == "show":
            assert statement.key is not None
            return self._rows([(statement.key, _get(conf, statement.key))])
        if statement.kind == "list":
            return self._rows(sorted(conf.getAll.items()))
        self.before_change(conf)
        initial = self._initial or {}
        keys = [statement.key] if statement.key is not None else list(conf.getAll)
        for key in keys:
            if key in initial:
                conf.set(key, initial[key])
            elif _get(conf, key) != UNDEFINED:
                conf.unset(key)
        from pyspark.sql.types import StructType

        return self.spark.createDataFrame([], StructType([]))  # Spark's RESET: no columns

    def _rows(self, rows: list[tuple[str, str]]) -> Any:
        return self.spark.createDataFrame(rows, "key STRING, value STRING")


def _get(conf: Any, key: str) -> str:
    """A setting's value (the engine's default when not set), or Spark's `<undefined>` for a key
    the engine does not know ("configuration not found"). Asked without a default: with one the
    engine answers it instead of its own default."""
    from pyspark.errors import IllegalArgumentException

    try:
        value = conf.get(key)
    except IllegalArgumentException as e:
        if "configuration not found" in str(e):
            return UNDEFINED
        raise
    return UNDEFINED if value is None else str(value)
