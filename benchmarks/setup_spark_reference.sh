#!/usr/bin/env bash
# A separate virtual environment with Apache Spark 4.3 (JVM) and its `spark-pipelines`, the
# reference implementation and benchmark peer. Never installed into lakesmith's environment.
set -euo pipefail
VENV="${SPARK_REF_VENV:-/work/spark-ref/venv}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet "pyspark[connect]==4.3.0" pyyaml "pandas<3"
SPARK_HOME="$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
mkdir -p "$SPARK_HOME/conf"
# With the default in-memory catalog a second run fails (LOCATION_ALREADY_EXISTS).
echo "spark.sql.catalogImplementation hive" > "$SPARK_HOME/conf/spark-defaults.conf"
echo "Spark reference ready: SPARK_HOME=$SPARK_HOME, CLI $VENV/bin/spark-pipelines"
