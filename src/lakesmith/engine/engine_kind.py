"""Which engine a session talks to: Sail, whose answers lakesmith rewrites plans for
(`engine/semantics/`), or Apache Spark (or a Spark-based service such as Databricks), whose
answers are Spark's by definition.

An engine lakesmith started itself is Sail and is marked so (`mark_sail`): nothing is asked,
and a lazily started one is not started by the question. Any other endpoint (`--remote
sc://...`, SPARK_REMOTE) is asked once per session for `version()`: Apache Spark answers with
two fields, its release and its git revision (`4.3.0 1f2e...`, as the function is documented);
Sail with its own release alone (`0.7.2`). Only that exact shape (a release, then a hexadecimal
revision) counts as Spark: an engine answering anything else keeps lakesmith's rewrites, since
taking Sail for Spark would hand out the engine's answers unrewritten.
"""

from __future__ import annotations

import re
import threading
import weakref
from typing import Any

# Sessions whose engine is known: True for Apache Spark.
_KNOWN: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_SPARK_VERSION = re.compile(r"\d+\.\d+\.\d+\S* [0-9a-f]{7,40}")


def mark_sail(spark: Any) -> None:
    """`spark` talks to a Sail engine lakesmith started (embedded, or its local cluster)."""
    with _LOCK:
        _KNOWN[spark] = False


def is_apache_spark(spark: Any) -> bool:
    """Whether `spark`'s engine is Apache Spark (asked once per session, see the module)."""
    with _LOCK:
        known = _KNOWN.get(spark)
    if known is not None:
        return known
    from pyspark.sql.connect import proto

    from lakesmith.engine.plans import dataframe_of

    # A relation of its own (not `spark.sql`, a command): one round trip, and in the user's
    # session it is asked from inside the rewrite, whose own requests go out as they are.
    relation = proto.Relation()
    relation.sql.query = "SELECT version() AS v"
    (row,) = dataframe_of(spark, relation).collect()
    spark_like = _SPARK_VERSION.fullmatch(str(row.v).strip()) is not None
    with _LOCK:
        _KNOWN[spark] = spark_like
    return spark_like
