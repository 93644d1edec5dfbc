"""Where a cold `lakesmith run` with nothing new spends its time, piece by piece, in one fresh
process: imports (the Spark Connect client, then lakesmith), the session and loading the graph
(the embedded engine starts only when a request needs it: `engine_started` says whether one did),
the update itself (with the number of engine round trips), and the event log's commits. Like
the command line, it imports with the garbage collector paused (`lakesmith/startup_gc.py`;
`gc_collections` counts the collections per generation). Prints JSON on its last line.

    python benchmarks/medallion_cold_start.py PROJECT_DIR
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RUST_LOG", "error")


def cpu() -> float:
    """This process's CPU seconds (the embedded engine's threads included): less disturbed by
    other load on the machine than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(project: Path) -> None:
    marks = [("start", time.perf_counter(), cpu())]
    from lakesmith.startup_gc import pause_collection

    pause_collection()  # as the command does first (lakesmith.entry)
    # As `lakesmith run` does before its imports: the logs the last update read, loaded on
    # threads meanwhile (`tables/logs_ahead.py`).
    from lakesmith.project import find_spec, load_spec
    from lakesmith.runtime.storage import PipelineStorage
    from lakesmith.tables.logs_ahead import load_ahead

    spec = load_spec(find_spec(project))
    load_ahead(PipelineStorage(spec.storage, spec.name).delta_logs())
    import pyspark.sql.connect.session  # noqa: F401  (what any Spark Connect program imports)

    marks.append(("import_spark_connect", time.perf_counter(), cpu()))
    import lakesmith.cli  # noqa: F401
    from lakesmith.pipeline import open_pipeline
    from lakesmith.startup_gc import resume_collection

    resume_collection()  # as the command does once its imports are done
    marks.append(("import_lakesmith", time.perf_counter(), cpu()))
    calls = count_requests()
    events = project / "pipeline-storage" / "system" / "events" / "_delta_log"
    commits_before = len(list(events.glob("*.json")))
    with open_pipeline(find_spec(project)) as pipeline:
        marks.append(("session_and_graph", time.perf_counter(), cpu()))
        result = pipeline.run(pipeline.plan())
        marks.append(("update", time.perf_counter(), cpu()))
        engine_started = pipeline.engine.started
    marks.append(("close", time.perf_counter(), cpu()))
    pieces = {name: {"wall_s": round(wall - marks[i][1], 3), "cpu_s": round(used - marks[i][2], 3)}
              for i, (name, wall, used) in enumerate(marks[1:])}
    print(json.dumps({
        "pieces": pieces,
        "engine_requests": {kind: {"count": n, "wall_s": round(s, 3)}
                            for kind, (n, s) in calls.items()},
        "event_log_commits": len(list(events.glob("*.json"))) - commits_before,
        "engine_started": engine_started,
        "gc_collections": [generation["collections"] for generation in gc.get_stats()],
        "state": result.state.value,
    }))


def count_requests() -> dict[str, list[Any]]:
    """Count (and time) the client's analysis and execution round trips."""
    from pyspark.sql.connect.client.core import SparkConnectClient

    calls: dict[str, list[Any]] = {"analyze": [0, 0.0], "execute": [0, 0.0]}
    for name, attr in (("analyze", "_analyze"), ("execute", "_execute_and_fetch")):
        original = getattr(SparkConnectClient, attr)

        def wrapped(*args: Any, _original: Any = original, _name: str = name,
                    **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                calls[_name][0] += 1
                calls[_name][1] += time.perf_counter() - start

        setattr(SparkConnectClient, attr, wrapped)
    return calls


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
