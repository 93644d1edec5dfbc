"""Fields in JSON records that a schema lacks: the one comparison behind schema evolution's exact
list (`inference.new_columns`) and the guard a batch's read carries.

Schema evolution (`cloudFiles.schemaEvolutionMode`) must notice a record with a column the
stream's schema does not have. Listing the new names is a query of its own over every record
(the distinct keys of the records and of their struct values): as much as a third of a later
batch's read. Almost no batch has new fields, so a JSON batch is read with a guard instead: the
read, and with it the batch, fails when a record holds a key the schema does not know
(`guard_keys`). Only then does the source list the names exactly and stop the stream as its
evolution mode says. The guard and the list compare the same keys the same way
(`unknown_key_checks`): without case, at every struct path not inside an array, so one fires
exactly when the other finds a name.

The guard is part of the records' top-level keys, which every data column and the rescued data
column are computed from: it costs no second scan of the keys. A query that reads none of those
columns (only `_metadata` or partition columns) lets the engine prune it; such a batch is not
stopped by new fields (docs/auto-loader.md).
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from lakesmith.sources.files.formats.file_table import FILE_URI
from lakesmith.sources.files.formats.records import RECORD
from lakesmith.sources.files.formats.spec import ReadSpec


def guard_keys(keys: Column, spec: ReadSpec, settled: Column | None = None) -> Column:
    """The records' top-level `keys`, failing the read at the first record with a field
    `spec.schema` lacks, when `spec.new_field_guard` asks for it. `settled`: true for a record
    whose top-level keys are known to be the schema's names (its top level is not compared)."""
    guard = spec.new_field_guard
    if guard is None:
        return keys
    unknown = unknown_key_checks(spec.schema, keys, nested_only=guard.nested_only)
    if settled is not None and not guard.nested_only and unknown:
        # The top level's comparison (`array_except`, a set per record) only where needed.
        unknown[0] = F.when(settled, F.lit(False)).otherwise(unknown[0])
    if not unknown:
        return keys
    fires = unknown[0]
    for more in unknown[1:]:
        fires = fires | more
    message = F.concat(F.lit(f"{guard.error_prefix} {spec.where}: a record in "),
                       F.col(FILE_URI), F.lit(" has a field the schema lacks."))
    return F.when(fires, F.raise_error(message).cast("array<string>")).otherwise(keys)


def struct_paths(schema: StructType, prefix: tuple[str, ...] = ()
                 ) -> list[tuple[tuple[str, ...], StructType]]:
    """Every struct column (not inside an array), with its path; the top level first."""
    found: list[tuple[tuple[str, ...], StructType]] = [(prefix, schema)]
    for f in schema.fields:
        if isinstance(f.dataType, StructType):
            found += struct_paths(f.dataType, (*prefix, f.name))
    return found


def object_keys(path: tuple[str, ...], top_level: Column) -> Column:
    """The keys of the record's object at `path` (an empty array when it is not an object)."""
    if not path:
        keys = top_level
    else:
        json_path = "$" + "".join("['" + p.replace("'", "\\'") + "']" for p in path)
        keys = F.json_object_keys(F.get_json_object(F.col(RECORD), json_path))
    return F.coalesce(keys, F.array().cast("array<string>"))


def unknown_key_checks(schema: StructType, top_level: Column, *, nested_only: bool
                       ) -> list[Column]:
    """Per struct path, whether the record has a key there that the schema lacks, compared
    without case (the top level's first, unless `nested_only`); never NULL. Keys are compared
    as written first: a record whose keys all are the schema's names is not lower-cased at
    all. Each check names the keys outside the schema once: a smaller expression is also
    quicker for the engine to plan, which it does for every batch."""
    checks = []
    for path, struct in struct_paths(schema):
        if nested_only and not path:
            continue
        names = [f.name for f in struct.fields]
        exact = F.array(*[F.lit(n) for n in names]).cast("array<string>")
        lowered = F.array(*[F.lit(n.lower()) for n in names]).cast("array<string>")
        outside = F.array_except(object_keys(path, top_level), exact)
        checks.append(F.when(F.size(outside) == 0, F.lit(False)).otherwise(
            F.size(F.array_except(F.transform(outside, lambda k: F.lower(k)), lowered)) > 0))
    return checks
