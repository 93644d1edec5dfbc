"""The command's start-up runs without Python's cyclic garbage collector.

Starting a command imports pyspark's Spark Connect client (with pandas, numpy, pyarrow and grpc)
and lakesmith: some 200,000 objects, almost none of them garbage (about 1,000 unreachable once
the imports are done). The collector, which runs every 700 new objects and fully whenever enough
survive, walked them again and again: 268 young, 25 middle and 2 full collections in a no-op
`lakesmith run` of the medallion example, and the full ones during an update walked them all
again. So the command pauses the collector before its imports (`lakesmith.entry`) and, once they
are done and before any pipeline code runs (where the command starts handling user errors,
`cli._user_errors`), freezes what exists (`gc.freeze()`: those objects live as long as the
process anyway, and later collections skip them) and collects as usual from there: 25 / 1 / 0
collections, the no-op's CPU 1.17 → 0.93 s and a +5 % update's 3.2–3.6 → 2.6–2.9 s on a loaded
machine (`docs/benchmarks.md`). Only the command line pauses it: lakesmith used as a library
(`lakesmith.session()`, the pytest plugin) leaves the collector alone.
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
