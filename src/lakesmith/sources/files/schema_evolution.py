"""What a file stream does when its files bring columns the schema does not have.

Databricks' `cloudFiles.schemaEvolutionMode`:
- `addNewColumns` (the default for an inferred schema): the batch stops with an error naming the
  new columns; the schema location gets a version with them added at the end, so the rerun reads
  them, and the target table gains them.
- `rescue`: the schema never changes; unknown fields land in the rescued-data column.
- `failOnNewColumns`: the stream stops until the schema is changed by hand (or the files).
- `none` (the default for a schema given by the query): new columns are ignored; nothing is
  rescued unless `rescuedDataColumn` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pyspark.sql.types import StructField, StructType

from lakesmith.errors import LakesmithError
from lakesmith.sources.files.inputs import InputFile
from lakesmith.sources.files.options import (
    ADD_NEW_COLUMNS,
    DEFAULT_RESCUED_DATA_COLUMN,
    FAIL_ON_NEW_COLUMNS,
    NONE,
    RESCUE,
    AutoLoaderOptions,
)
from lakesmith.sources.files.schema_location import StoredSchema

if TYPE_CHECKING:
    from lakesmith.sources.files.source import FileStreamSource

CHECKS_NEW_COLUMNS = frozenset({ADD_NEW_COLUMNS, FAIL_ON_NEW_COLUMNS})


def mode(options: AutoLoaderOptions, *, inferred: bool) -> str:
    if options.evolution_mode is not None:
        return options.evolution_mode
    return ADD_NEW_COLUMNS if inferred else NONE


def rescued_column(options: AutoLoaderOptions, *, inferred: bool) -> str | None:
    """The rescued-data column: on by default when the schema is inferred (as on Databricks),
    except in mode `none`; otherwise only when `rescuedDataColumn` names it."""
    if options.rescued_data_column is not None:
        return options.rescued_data_column
    if inferred and mode(options, inferred=inferred) != NONE:
        return DEFAULT_RESCUED_DATA_COLUMN
    if mode(options, inferred=inferred) == RESCUE:
        return DEFAULT_RESCUED_DATA_COLUMN
    return None


def with_hints(spark: Any, schema: StructType, hints: str | None, where: str) -> StructType:
    """`cloudFiles.schemaHints`: the hinted columns get the hinted types; hinted columns the
    files do not have are added at the end."""
    if not hints:
        return schema
    if any("." in part.split()[0] for part in hints.split(",") if part.strip()):
        from lakesmith.errors import NotSupportedYet

        raise NotSupportedYet(f"{where}: schema hints on nested fields ({hints!r}) are not "
                              "supported yet; hint top-level columns.")
    try:
        hinted = spark._parse_ddl(hints)
    except Exception as e:  # the engine's parser says what is wrong
        raise LakesmithError(f"{where}: cloudFiles.schemaHints {hints!r} is not a valid list "
                             f"of columns and types: {str(e).splitlines()[0]}") from e
    by_name = {f.name.lower(): f for f in hinted.fields}
    fields = [by_name.pop(f.name.lower(), f) if f.name.lower() in by_name else f
              for f in schema.fields]
    kept = {f.name.lower() for f in fields}
    fields += [f for f in hinted.fields if f.name.lower() not in kept]
    return StructType(fields)


def with_new_fields(schema: StructType, found: StructType) -> StructType:
    """`schema` with the fields of `found` it lacks added at the end, in structs too (as
    Databricks evolves nested fields); the types of existing fields never change."""
    fields = list(schema.fields)
    by_name = {f.name.lower(): i for i, f in enumerate(fields)}
    for field in found.fields:
        index = by_name.get(field.name.lower())
        if index is None:
            fields.append(field)
        else:
            current = fields[index]
            if isinstance(current.dataType, StructType) and \
                    isinstance(field.dataType, StructType):
                fields[index] = StructField(current.name, with_new_fields(
                    current.dataType, field.dataType), current.nullable, current.metadata)
    return StructType(fields)


def refuse_unrescued_nested_fields(source: FileStreamSource, found: Sequence[str]) -> None:
    """In `rescue` mode a new top-level field lands in the rescued-data column; a new field
    inside a struct column cannot yet, and dropping it silently would lose data."""
    nested = [name for name in found if "." in name]
    if nested:
        from lakesmith.errors import NotSupportedYet

        raise NotSupportedYet(
            f"{source.config.where}: the files of this batch have field(s) inside struct "
            f"columns that the schema does not have: {', '.join(nested)}. lakesmith cannot "
            "rescue fields nested in structs yet, and will not drop them silently. Nothing of "
            "the batch was committed.",
            hint="use schemaEvolutionMode addNewColumns (the schema gains the fields), or add "
            "them with cloudFiles.schemaHints.")


def refuse_new_columns(source: FileStreamSource, spark: Any, files: Sequence[InputFile],
                       found: Sequence[str], evolution_mode: str) -> None:
    """Stop the batch (nothing of it is committed); in addNewColumns mode first store the
    schema with the new columns, so that the rerun reads them."""
    from lakesmith.sources.files import formats

    names = ", ".join(found)
    where = source.config.where
    if evolution_mode == FAIL_ON_NEW_COLUMNS:
        raise LakesmithError(
            f"[UNKNOWN_FIELD_EXCEPTION.NEW_FIELDS_IN_FILE] {where}: the files of this batch have "
            f"column(s) the schema of {source.display_name} does not have: {names}. "
            "cloudFiles.schemaEvolutionMode is failOnNewColumns, so the stream stops. Nothing of "
            "the batch was committed.",
            hint="add the columns with cloudFiles.schemaHints, or use schemaEvolutionMode "
            "addNewColumns or rescue.")
    current = source.schema(spark, persist=True)
    batch_schema = formats.infer_schema(spark, files, source.options.format,
                                        source.options.reader,
                                        infer_column_types=source.options.infer_column_types,
                                        where=where)
    partitions = {f.name.lower() for f in current.partitions.fields}
    batch_schema = StructType([f for f in batch_schema.fields
                               if f.name.lower() not in partitions])
    source.evolve(StoredSchema(with_new_fields(current.data, batch_schema), current.partitions))
    raise LakesmithError(
        f"[UNKNOWN_FIELD_EXCEPTION.NEW_FIELDS_IN_RECORD_WITH_FILE_PATH] {where}: the files of "
        f"this batch have new column(s): {names}. The schema of {source.display_name} now "
        "includes them (schemaEvolutionMode addNewColumns); nothing of the batch was "
        "committed. Run the pipeline again: the rerun reads the new columns and adds them to "
        "the target table.",
        hint="run the update again; this stop is how Auto Loader evolves a schema.")
