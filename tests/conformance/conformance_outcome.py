"""What a conformance case produced, in a form both Apache Spark's golden run and lakesmith's
test compare exactly: column names, type strings, and rows as canonical JSON-ready values.

Standard library only: the golden script imports this under Apache Spark's own environment."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any


def canonical(value: Any) -> Any:
    """One value as JSON: exact types kept apart (a DECIMAL 1.0 is not a DOUBLE 1.0)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"double": str(value)}
        return {"double": repr(value)}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"timestamp": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"interval": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"binary": bytes(value).hex()}
    if isinstance(value, dict):
        return {"map": sorted(([canonical(k), canonical(v)] for k, v in value.items()),
                              key=lambda kv: json.dumps(kv, sort_keys=True))}
    if hasattr(value, "asDict"):  # a Row: a struct
        return {"struct": [[name, canonical(value[name])] for name in value.__fields__]}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return {type(value).__name__: str(value)}


def result_outcome(df: Any, *, ordered: bool) -> dict[str, Any]:
    """Run `df`: its columns (name, type, nullable) and rows (sorted unless the case is
    ordered)."""
    schema = df.schema
    rows = [[canonical(row[i]) for i in range(len(schema.fields))] for row in df.collect()]
    if not ordered:
        rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
    return {
        "columns": [[f.name, f.dataType.simpleString(), f.nullable] for f in schema.fields],
        "rows": rows,
    }


def error_outcome(error: BaseException) -> dict[str, Any]:
    """A refusal: Spark's error condition when it has one, and the first line of the message."""
    condition = None
    getter = getattr(error, "getCondition", None) or getattr(error, "getErrorClass", None)
    if getter is not None:
        try:
            condition = getter()
        except Exception:  # some client-side errors carry no condition  # noqa: BLE001
            condition = None
    message = (str(error).strip().splitlines() or [""])[0][:300]
    return {"error": condition or type(error).__name__, "message": message}


def same(expected: dict[str, Any], actual: dict[str, Any], *, nullability: bool = False) -> bool:
    """Whether two outcomes agree: both refused, or the same columns, types and rows."""
    if "error" in expected or "error" in actual:
        return "error" in expected and "error" in actual
    if nullability:
        columns_e, columns_a = expected["columns"], actual["columns"]
    else:
        columns_e = [c[:2] for c in expected["columns"]]
        columns_a = [c[:2] for c in actual["columns"]]
    return bool(columns_e == columns_a and expected["rows"] == actual["rows"])
