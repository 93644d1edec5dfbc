"""`df.write.saveAsTable("name")` in a user's session: a table the engine does not know yet lands
in the project's warehouse as Delta (Databricks' default format), where `CREATE TABLE` puts it
and where the next session and the pipeline find it, and is registered by name. The engine
alone writes it to its own warehouse (the process's `./spark-warehouse`), as Parquet.

The write is redirected to the table's folder before it is sent; the name is registered once
the write succeeded. A name the engine already knows (a pipeline table, a table made earlier)
and a format other than Delta are left to the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql.connect import proto

from lakesmith.engine.paths import engine_path
from lakesmith.locations import Location
from lakesmith.sql_literal import sql_string
from lakesmith.tables.commands.statement import DeltaContext, TableRef, Tokens

_SAVE_AS_TABLE = proto.WriteOperation.SaveTable.TableSaveMethod.TABLE_SAVE_METHOD_SAVE_AS_TABLE


def install(session: Any, client: Any) -> None:
    """Route `client`'s commands through `new_table_write` (`session` is the DeltaSession)."""
    execute_command: Callable[..., Any] = client.execute_command

    def execute_command_into_warehouse(command: proto.Command, *args: Any, **kwargs: Any) -> Any:
        context: DeltaContext | None = session.delta_context
        target = new_table_write(session, context, command) if context is not None else None
        result = execute_command(command, *args, **kwargs)
        if target is not None:
            ref, location = target
            session.engine_sql(f"CREATE TABLE IF NOT EXISTS {ref.engine_name()} USING delta "
                               f"LOCATION {sql_string(engine_path(location))}")
        return result

    client.execute_command = execute_command_into_warehouse


def new_table_write(session: Any, context: DeltaContext, command: proto.Command
                    ) -> tuple[TableRef, Location] | None:
    """When `command` is a saveAsTable of a new Delta table: the command made a write to the
    table's folder in the warehouse (in place), and the table with its folder."""
    if command.WhichOneof("command_type") != "write_operation":
        return None
    write = command.write_operation
    if write.WhichOneof("save_type") != "table" or write.table.save_method != _SAVE_AS_TABLE:
        return None
    if write.HasField("source") and write.source.lower() not in ("", "delta"):
        return None
    name = write.table.table_name
    if session.catalog.tableExists(name):
        return None
    ref = Tokens(name).table()
    if ref.path is not None:
        return None
    location = context.default_location(ref)
    if location is None:
        return None
    write.path = engine_path(location)
    write.source = "delta"
    return ref, location
