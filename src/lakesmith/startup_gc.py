"""The command's start-up runs without Python's cyclic garbage collector.

Starting a command imports pyspark's Spark Connect client (with pandas, numpy, pyarrow and grpc)
and lakesmith: some 200,000 objects, almost none of them garbage (about 1,000 unreachable once
the imports are done). The collector, which runs every 700 new objects and fully
whenever enough survive, walks them again and again meanwhile: 25 partial and 2 full collections
in a no-op `lakesmith run` of the medallion example, 0.05-0.1 s of its CPU. So the command
pauses the collector before its imports (`lakesmith.entry`) and, once the command's imports are
done and before any pipeline code runs (where the command starts handling user errors,
`cli._user_errors`), freezes what exists (`gc.freeze()`: those objects live as long as the
process anyway, and later collections skip them) and collects as usual from there. Only the
command line pauses it: lakesmith used as a library (`lakesmith.session()`, the pytest plugin)
leaves the collector alone.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collection() -> None:
    """Stop automatic collections until `resume_collection()` (the command's start)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collection() -> None:
    """Collect automatically again, skipping everything made so far; nothing when the collector
    was not paused here (lakesmith as a library, or resumed already)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
