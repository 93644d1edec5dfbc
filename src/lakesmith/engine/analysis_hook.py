"""Answering the engine's schema requests for a rewritten plan.

While the graph is built, `df.columns` / `df.schema` of a query may name things the engine cannot
analyse yet (an Auto Loader read, a pipeline dataset that does not exist). Spark Connect asks the
server through the client's `_analyze`; while a hook is active, each plan sent there is first
passed through `rewrite`, so the engine analyses a plan it can (reads replaced by reads of no
rows with the right columns). Hooks nest: each passes its result to the one active before it.
"""

from __future__ import annotations

import threading
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
        return original(method, **_with_plan_rewritten(kwargs, rewrite))

    client._analyze = analyze
    try:
        yield
    finally:
        if patched_already:
            client._analyze = original
        else:
            del client._analyze  # the class's method again


def _with_plan_rewritten(kwargs: dict[str, Any], rewrite: RelationRewrite) -> dict[str, Any]:
    """An analysis request's arguments with its plan's root passed through `rewrite`."""
    plan = kwargs.get("plan")
    if plan is not None and plan.HasField("root"):
        root = rewrite(plan.root)
        if root is not plan.root:
            rewritten = proto.Plan()
            rewritten.CopyFrom(plan)
            rewritten.root.CopyFrom(root)
            kwargs["plan"] = rewritten
    return kwargs


_THIS_THREAD = threading.local()
_DISPATCH = threading.Lock()


@contextmanager
def this_threads_schema_requests_rewritten(rewrite: RelationRewrite) -> Iterator[None]:
    """As `schema_requests_rewritten`, for the schema requests the calling thread makes only:
    flows run side by side on one client, each rewriting its own plans. (A client-wide hook
    would rewrite, and on leaving unhook, another flow's requests.)"""
    _dispatch_by_thread()
    rewrites: list[RelationRewrite] = _THIS_THREAD.__dict__.setdefault("rewrites", [])
    rewrites.append(rewrite)
    try:
        yield
    finally:
        rewrites.pop()


def _dispatch_by_thread() -> None:
    """Route every client's analysis requests through the calling thread's rewrites (none:
    unchanged). Installed again if something replaced it since (a test's patch, undone)."""
    from pyspark.sql.connect.client.core import SparkConnectClient

    with _DISPATCH:
        if getattr(SparkConnectClient._analyze, "by_thread", False):
            return
        original = SparkConnectClient._analyze

        def analyze(self: Any, method: str, **kwargs: Any) -> Any:
            for rewrite in reversed(getattr(_THIS_THREAD, "rewrites", ())):
                kwargs = _with_plan_rewritten(kwargs, rewrite)
            return original(self, method, **kwargs)

        analyze.by_thread = True  # type: ignore[attr-defined]
        SparkConnectClient._analyze = analyze  # type: ignore[method-assign]
