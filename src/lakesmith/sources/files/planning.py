"""Auto Loader schemas while the graph is built: query functions may look at `df.columns` or
`df.schema` of a `cloudFiles` read (Databricks pipelines often do, to select or rename columns).

The engine has no `cloudFiles` source, so while a query function runs, schema requests for plans
that read files are answered for a plan in which each such read is a read of no rows with the
stream's columns (inferred from a sample of the files, as the stream would infer them; nothing is
ingested or recorded). A batch `spark.read.csv/json` is answered with the columns lakesmith's
readers give it when it runs (Spark's types: INT where the engine's reader says BIGINT).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyspark.sql.connect import proto

from lakesmith.engine.analysis_hook import schema_requests_rewritten
from lakesmith.engine.file_metadata import file_metadata_referenced, rewrite_input_file_name
from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import all_relations, plan_read, relation_of
from lakesmith.locations import Location
from lakesmith.sources.registry import is_file_stream_format


@contextmanager
def file_reads_analysable(spark: Any, project: Location) -> Iterator[None]:
    def rewrite(relation: proto.Relation) -> proto.Relation:
        if not _reads_files(relation):
            return relation
        return _with_file_reads_resolved(spark, relation, project)

    with schema_requests_rewritten(spark, rewrite):
        yield


def _reads_files(relation: proto.Relation) -> bool:
    return any(r.WhichOneof("rel_type") == "read"
               and r.read.WhichOneof("read_type") == "data_source"
               and (is_file_stream_format(r.read.data_source.format)
                    or _spark_csv_or_json(r.read))
               for r in all_relations(relation))


def _spark_csv_or_json(read: proto.Read) -> bool:
    """A batch `spark.read.csv/json`: its columns are those Spark's readers give (the engine's
    own reader infers other types), as when it runs (`engine/semantics/file_formats.py`)."""
    return not read.is_streaming and read.data_source.format.lower() in ("csv", "json")


def _with_file_reads_resolved(spark: Any, relation: proto.Relation,
                              project: Location) -> proto.Relation:
    from lakesmith.engine.semantics.file_formats import read_files_as_spark
    from lakesmith.sources.files.batch import batch_files_dataframe

    with_metadata = file_metadata_referenced(relation)
    rewritten = rewrite_input_file_name(relation)
    if rewritten is relation:
        rewritten = proto.Relation()
        rewritten.CopyFrom(relation)
    for rel in list(all_relations(rewritten)):
        if rel.WhichOneof("rel_type") != "read":
            continue
        read = plan_read(rel.read)
        if read.name is None and _spark_csv_or_json(rel.read):
            paths = [p if "://" in p else engine_path(Location.parse(p, base=project))
                     for p in rel.read.data_source.paths]
            del rel.read.data_source.paths[:]
            rel.read.data_source.paths.extend(paths)
            read_files_as_spark(spark, rel)
        elif read.name is None and is_file_stream_format(read.format):
            empty = batch_files_dataframe(spark, read, project,
                                          with_metadata=with_metadata).limit(0)
            plan_id = rel.common.plan_id if rel.HasField("common") else None
            rel.CopyFrom(relation_of(empty))
            if plan_id is not None:
                rel.common.plan_id = plan_id
    return rewritten
