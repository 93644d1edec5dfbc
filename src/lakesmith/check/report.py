"""The check's report: per dataset, identical or not, and the first differing rows."""

from __future__ import annotations

from typing import Any

from lakesmith.check.against_spark import Comparison

_STYLE = {"identical": "green", "different": "red", "failed": "red", "skipped": "yellow"}


def print_report(console: Any, comparisons: list[Comparison]) -> None:
    for c in comparisons:
        style = _STYLE[c.status]
        counts = "" if c.lakesmith_rows is None else \
            f" ({c.lakesmith_rows} rows on lakesmith, {c.spark_rows} on Apache Spark)"
        console.print(f"[{style}]{c.status:>9}[/{style}]  {c.dataset}{counts}"
                      + (f": {c.reason}" if c.reason else ""), highlight=False)
        if c.lakesmith_schema and c.spark_schema and c.lakesmith_schema != c.spark_schema:
            console.print(f"           lakesmith columns:    {_columns(c.lakesmith_schema)}",
                          highlight=False)
            console.print(f"           Apache Spark columns: {_columns(c.spark_schema)}",
                          highlight=False)
        for label, rows in (("only on lakesmith:   ", c.only_lakesmith),
                            ("only on Apache Spark:", c.only_spark)):
            for row in rows:
                console.print(f"           {label} {row}", highlight=False, markup=False)
    totals = {s: sum(c.status == s for c in comparisons) for s in _STYLE}
    console.print(", ".join(f"{n} {s}" for s, n in totals.items() if n) or "no datasets")


def _columns(schema: list[tuple[str, str]]) -> str:
    return ", ".join(f"{n} {t}" for n, t in schema)


def all_identical(comparisons: list[Comparison]) -> bool:
    return all(c.status == "identical" for c in comparisons)


def as_json(comparisons: list[Comparison]) -> list[dict[str, Any]]:
    return [c.__dict__ for c in comparisons]
