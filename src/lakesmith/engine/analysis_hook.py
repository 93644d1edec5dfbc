"""Answering the engine's schema requests for a rewritten plan.

While the graph is built, `df.columns` / `df.schema` of a query may name things the engine cannot
analyse yet (an Auto Loader read, a pipeline dataset that does not exist). Spark Connect asks the
server through the client's `_analyze`; while a hook is active, each plan sent there is first
passed through `rewrite`, so the engine analyses a plan it can (reads replaced by reads of no
rows with the right columns). Hooks nest: each passes its result to the one active before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pyspark.sql.connect import proto

# `relation` itself when it needs no change, else a rewritten copy.
RelationRewrite = Callable[[proto.Relation], proto.Relation]


@contextmanager
def schema_requests_rewritten(spark: Any, rewrite: RelationRewrite) -> Iterator[None]:
    client = getattr(spark, "client", None)
    if client is None:
        yield
        return
    original = client._analyze
    patched_already = "_analyze" in vars(client)  # by another hook, active around this one

    def analyze(method: str, **kwargs: Any) -> Any:
        plan = kwargs.get("plan")
        if plan is not None and plan.HasField("root"):
            root = rewrite(plan.root)
            if root is not plan.root:
                rewritten = proto.Plan()
                rewritten.CopyFrom(plan)
                rewritten.root.CopyFrom(root)
                kwargs["plan"] = rewritten
        return original(method, **kwargs)

    client._analyze = analyze
    try:
        yield
    finally:
        if patched_already:
            client._analyze = original
        else:
            del client._analyze  # the class's method again
