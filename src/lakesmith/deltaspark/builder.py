"""`DeltaTable.create / createIfNotExists / replace / createOrReplace`: delta-spark's table
builder, run as one CREATE TABLE statement (through a lakesmith session's Delta statements, so
`clusterBy` and the warehouse location work as in SQL)."""

from __future__ import annotations

import uuid
from typing import Any

from lakesmith.errors import LakesmithError
from lakesmith.sql_literal import sql_string

_STATEMENTS = {"create": "CREATE TABLE", "createIfNotExists": "CREATE TABLE IF NOT EXISTS",
               "replace": "REPLACE TABLE", "createOrReplace": "CREATE OR REPLACE TABLE"}


class DeltaTableBuilder:
    def __init__(self, spark: Any, mode: str) -> None:
        self._spark = spark
        self._mode = mode
        self._name: str | None = None
        self._location: str | None = None
        self._comment: str | None = None
        self._columns: list[str] = []
        self._partitioned_by: list[str] = []
        self._cluster_by: list[str] = []
        self._properties: dict[str, str] = {}

    def tableName(self, identifier: str) -> DeltaTableBuilder:  # noqa: N802
        self._name = identifier
        return self

    def location(self, location: str) -> DeltaTableBuilder:
        self._location = location
        return self

    def comment(self, comment: str) -> DeltaTableBuilder:
        self._comment = comment
        return self

    def addColumn(self, colName: str, dataType: Any, nullable: bool = True,  # noqa: N802,N803
                  generatedAlwaysAs: str | None = None,  # noqa: N803
                  generatedByDefaultAs: Any = None,  # noqa: N803
                  comment: str | None = None, generatedAlwaysAsIdentity: Any = None,  # noqa: N803
                  ) -> DeltaTableBuilder:
        if generatedAlwaysAs is not None or generatedByDefaultAs is not None or \
                generatedAlwaysAsIdentity is not None:
            raise LakesmithError(
                f"addColumn({colName!r}): generated and identity columns are not supported yet.",
                hint="compute the column in the query that writes the table.")
        type_text = dataType if isinstance(dataType, str) else dataType.simpleString()
        column = f"`{colName.replace('`', '``')}` {type_text}"
        if not nullable:
            column += " NOT NULL"
        if comment is not None:
            column += f" COMMENT {sql_string(comment)}"
        self._columns.append(column)
        return self

    def addColumns(self, cols: Any) -> DeltaTableBuilder:  # noqa: N802
        fields = cols.fields if hasattr(cols, "fields") else cols
        for field in fields:
            self.addColumn(field.name, field.dataType, field.nullable,
                           comment=(field.metadata or {}).get("comment"))
        return self

    def partitionedBy(self, *cols: str | list[str]) -> DeltaTableBuilder:  # noqa: N802
        self._partitioned_by.extend(_flatten(cols))
        return self

    def clusterBy(self, *cols: str | list[str]) -> DeltaTableBuilder:  # noqa: N802
        self._cluster_by.extend(_flatten(cols))
        return self

    def property(self, key: str, value: str) -> DeltaTableBuilder:
        self._properties[key] = value
        return self

    def sql(self, name: str | None = None) -> str:
        """The CREATE statement, for the table `name` (default: the builder's)."""
        target = name or self._name
        if target is None:
            raise LakesmithError("DeltaTableBuilder: give tableName(...) or location(...).")
        parts = [_STATEMENTS[self._mode], target]
        if self._columns:
            parts.append("(" + ", ".join(self._columns) + ")")
        parts.append("USING delta")
        if self._partitioned_by:
            parts.append("PARTITIONED BY (" + ", ".join(self._partitioned_by) + ")")
        if self._cluster_by:
            parts.append("CLUSTER BY (" + ", ".join(self._cluster_by) + ")")
        if self._comment is not None:
            parts.append(f"COMMENT {sql_string(self._comment)}")
        if self._properties:
            parts.append("TBLPROPERTIES (" + ", ".join(
                f"{sql_string(k)} = {sql_string(v)}" for k, v in self._properties.items()) + ")")
        if self._location is not None:
            parts.append(f"LOCATION {sql_string(self._location)}")
        return " ".join(parts)

    def execute(self) -> Any:
        from lakesmith.deltaspark.tables import DeltaTable

        if self._cluster_by and getattr(self._spark, "delta_context", None) is None:
            raise LakesmithError("DeltaTableBuilder.clusterBy needs a lakesmith session "
                                 "(lakesmith.session()).")
        if self._name is not None:
            self._spark.sql(self.sql()).collect()
            return DeltaTable.forName(self._spark, self._name)
        if self._location is None:
            raise LakesmithError("DeltaTableBuilder: give tableName(...) or location(...).")
        # A table by path only: the engine creates tables by name, so under a passing name,
        # dropped again (an external table: its files stay).
        name = f"`__lakesmith_builder_{uuid.uuid4().hex}`"
        self._spark.sql(self.sql(name)).collect()
        self._spark.sql(f"DROP TABLE {name}").collect()
        return DeltaTable.forPath(self._spark, self._location)


def _flatten(cols: tuple[str | list[str], ...]) -> list[str]:
    out: list[str] = []
    for col in cols:
        out.extend([col] if isinstance(col, str) else col)
    return out
