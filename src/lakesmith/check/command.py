"""`lakesmith check --against spark`: open the pipeline on the embedded engine, start a local
Apache Spark Connect server, compute and compare every dataset, stop Spark, remove the scratch
folder (kept with `keep_scratch`, for a look at both engines' Parquet results)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from lakesmith.check.against_spark import Comparison, check_pipeline
from lakesmith.check.spark_server import SPARK_CONF, LocalSparkConnect


def run_check(spec_path: Path | None, *, sample: int | None, verbose: bool = False,
              keep_scratch: bool = False, spark_home: Path | None = None,
              progress: Callable[[str], None] = lambda _: None) -> list[Comparison]:
    from pyspark.sql.connect.session import SparkSession

    from lakesmith.pipeline import open_pipeline

    scratch = Path(tempfile.mkdtemp(prefix="lakesmith-check-"))
    try:
        progress("starting Apache Spark (local Spark Connect server)")
        server = LocalSparkConnect.start(scratch / "spark-connect.log", home=spark_home)
        try:
            builder = SparkSession.builder.remote(server.url)
            spark = builder.create()
            try:
                with open_pipeline(spec_path, verbose=verbose) as pipeline:
                    for key, value in SPARK_CONF.items():
                        if key.startswith("spark.sql.session"):
                            pipeline.spark.conf.set(key, value)
                    return check_pipeline(pipeline.graph, pipeline.spark, spark,
                                          pipeline.spec.root_location, scratch, sample,
                                          progress=lambda name: progress(f"computing {name}"))
            finally:
                spark.stop()
        finally:
            server.stop()
    finally:
        if keep_scratch:
            progress(f"scratch folder kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
