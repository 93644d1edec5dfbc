"""The engine floor for the `spark-pipelines init` project: the same two tables written by hand on
the same engine (embedded Sail), in one cold process. lakesmith's cold run is compared with this."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("RUST_LOG", "error")


def main(warehouse: str) -> None:
    from pysail.spark import SparkConnectServer
    from pyspark.sql.connect.session import SparkSession

    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    host, port = server.listening_address
    spark = SparkSession.builder.remote(f"sc://{host}:{port}").create()
    try:
        python_mv = f"{warehouse}/example_python_materialized_view"
        spark.range(10).write.format("delta").mode("overwrite").save(python_mv)
        (spark.read.format("delta").load(python_mv).where("id % 2 = 0").select("id")
         .write.format("delta").mode("overwrite").save(f"{warehouse}/example_sql_materialized_view"))
    finally:
        spark.stop()
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1])
