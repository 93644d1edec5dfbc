"""`VACUUM table [RETAIN n HOURS] [DRY RUN]`: under the table's retention; dry run lists the
files it would delete, otherwise one row with the table's path (Databricks' result)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakesmith.tables import operations
from lakesmith.tables.commands.statement import DeltaContext, TableRef, Tokens


@dataclass(frozen=True)
class Vacuum:
    table: TableRef
    retain_hours: float | None = None
    dry_run: bool = False

    def run(self, context: DeltaContext) -> Any:
        location = context.resolve(self.table)
        check = str(context.conf.get(operations.RETENTION_CHECK_CONF, "true")).lower() != "false"
        files = operations.vacuum(location, self.table.display, retain_hours=self.retain_hours,
                                  dry_run=self.dry_run, check_retention=check,
                                  keep_versions=context.keep_versions(location))
        rows = ([{"path": location.join(f).uri} for f in files] if self.dry_run
                else [{"path": location.uri}])
        return context.dataframe(rows, operations.VACUUM_SCHEMA)


def parse(tokens: Tokens) -> Vacuum | None:
    if not tokens.take_words("VACUUM"):
        return None
    table = tokens.table()
    retain = None
    dry_run = False
    while not tokens.at_end():
        if tokens.take_words("RETAIN"):
            retain = tokens.number()
            tokens.expect_words("HOURS", statement="VACUUM")
        elif tokens.take_words("DRY", "RUN"):
            dry_run = True
        elif tokens.take_words("FULL"):
            pass  # lakesmith's VACUUM always lists the whole table
        else:
            raise tokens.error("expected RETAIN n HOURS or DRY RUN", "VACUUM")
    return Vacuum(table, retain, dry_run)
