"""What a select list's names resolve against — the columns its input gives — asked of the
engine: for a SQL block, a probe `SELECT q.* FROM <the block's FROM>` (with the common table
expressions before it); for a DataFrame projection, its input DataFrame's columns. Analysed,
never run. Query-form rewrites need them where Spark resolves names against them
(`* EXCEPT`, lateral column aliases), and the name the engine gives an expression."""

from __future__ import annotations

from typing import Any, Protocol

from lakesmith.engine.semantics.sql_blocks import SelectBlock


class Scope(Protocol):
    def columns(self, qualifier: str | None = None) -> list[str] | None:
        """The names `*` (or `qualifier.*`) stands for; None when not analysable alone."""

    def name_of(self, expression: str, extra_columns: list[str]) -> str | None:
        """The engine's name for `expression` over the input plus NULL columns named
        `extra_columns`; None when not analysable."""


class SqlScope:
    """A SELECT block of SQL text."""

    def __init__(self, spark: Any, text: str, block: SelectBlock) -> None:
        self.spark = spark
        self.block = block
        self.source = block.clause_text(text, "from")

    def columns(self, qualifier: str | None = None) -> list[str] | None:
        if self.source is None:
            return []
        star = "*" if qualifier is None else f"{qualifier}.*"
        return output_columns(self.spark, f"{self.block.cte_prefix}SELECT {star} {self.source}")

    def name_of(self, expression: str, extra_columns: list[str]) -> str | None:
        nulls = ", ".join(f"NULL AS {quoted(c)}" for c in extra_columns)
        inner = f"SELECT *, {nulls} {self.source}" if self.source else f"SELECT {nulls}"
        names = output_columns(self.spark,
                               f"{self.block.cte_prefix}SELECT {expression} FROM ({inner})")
        return names[0] if names is not None and len(names) == 1 else None


class DataFrameScope:
    """A DataFrame projection (`select`, `selectExpr`) over `input_df`."""

    def __init__(self, input_df: Any) -> None:
        self.input_df = input_df

    def columns(self, qualifier: str | None = None) -> list[str] | None:
        if qualifier is not None:
            return None  # which input an alias names is the engine's to resolve
        try:
            return [str(c) for c in self.input_df.columns]
        except Exception:  # not analysable alone  # noqa: BLE001
            return None

    def name_of(self, expression: str, extra_columns: list[str]) -> str | None:
        from pyspark.sql.connect import functions as F

        try:
            names = self.input_df.select(
                "*", *[F.lit(None).alias(c) for c in extra_columns]).selectExpr(expression).columns
        except Exception:  # not analysable  # noqa: BLE001
            return None
        return str(names[0]) if len(names) == 1 else None


def quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def output_columns(spark: Any, query: str) -> list[str] | None:
    """The column names of a query, analysed by the engine; None when it cannot be analysed."""
    try:
        return [str(c) for c in spark.sql(query).columns]
    except Exception:  # not analysable alone  # noqa: BLE001
        return None
