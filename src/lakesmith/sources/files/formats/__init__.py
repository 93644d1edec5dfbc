"""File formats of Auto Loader: a given list of files as an engine DataFrame with Apache Spark's
and Databricks' semantics, and schemas inferred from files by the engine."""

from lakesmith.sources.files.formats.columns import INPUT_FILE_NAME_SQL, infer_partition_schema
from lakesmith.sources.files.formats.diagnose import diagnose
from lakesmith.sources.files.formats.inference import infer_schema, new_columns
from lakesmith.sources.files.formats.read import read_files
from lakesmith.sources.files.formats.spec import ReadSpec

__all__ = ["INPUT_FILE_NAME_SQL", "ReadSpec", "diagnose", "infer_partition_schema",
           "infer_schema", "new_columns", "read_files"]
