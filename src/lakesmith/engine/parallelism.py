"""How many partitions the engine runs at once, when it runs on this machine.

Sail runs every partition of a plan at the same time (one task each), where Spark runs as many as
it has cores. A plan with many partitions, such as a union of one scan per file, then holds as
many Parquet writers open at once, each buffering a row group: memory grows with the files of a
batch (docs/engine-gaps.md). Coalescing such a plan to the cores that run it keeps it bounded and
changes no result. Only an engine on this machine (the embedded one, or any endpoint on the
loopback interface) is known to have this machine's cores; a remote engine is left to plan its own
parallelism.
"""

from __future__ import annotations

import ipaddress
from typing import Any, TypeVar

from lakesmith.engine.runtime_workers import usable_cores

Frame = TypeVar("Frame")


def local_cores(spark: Any) -> int | None:
    """This machine's cores when the session's engine runs here, else None."""
    builder = getattr(getattr(spark, "client", None), "_builder", None)
    host = getattr(builder, "host", None)
    if not isinstance(host, str):
        return None
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return None
        except ValueError:
            return None
    return usable_cores()


def at_most_local_cores(df: Frame, partitions: int) -> Frame:
    """`df` (of `partitions` partitions, or more) coalesced to the local engine's cores when it
    has more partitions than those; as it is on a remote engine."""
    frame: Any = df
    cores = local_cores(frame.sparkSession)
    return frame.coalesce(cores) if cores is not None and partitions > cores else df
