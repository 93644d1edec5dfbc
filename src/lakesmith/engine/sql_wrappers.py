"""`spark.sql` replaced while pipeline code runs (deferred SQL, `${...}` substitution), and
the session's own again afterwards: wrappers nest, each restoring the one it replaced."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def sql_replaced(spark: Any, make: Callable[[Callable[..., Any]], Callable[..., Any]]
                 ) -> Iterator[None]:
    """While inside, `spark.sql` is `make(the spark.sql before)`."""
    had_own = "sql" in vars(spark)
    original = spark.sql
    spark.sql = make(original)
    try:
        yield
    finally:
        if had_own:
            spark.sql = original
        elif "sql" in vars(spark):
            del spark.sql  # the class's method again
