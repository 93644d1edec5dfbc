"""Profile a `lakesmith run`: the wall time of every engine request (Spark Connect execute) it
makes, with the lakesmith frame that made it, printed slowest first. Where a batch's time goes.

    python benchmarks/profile_queries.py PROJECT_DIR [lakesmith run args...]
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("RUST_LOG", "error")


def main() -> None:
    from pyspark.sql.connect.client.core import SparkConnectClient

    timings: list[tuple[float, str]] = []
    original = SparkConnectClient._execute_and_fetch_as_iterator

    def timed(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        frames = [f for f in traceback.extract_stack()[:-1] if "/lakesmith/" in f.filename]
        where = " < ".join(f"{os.path.basename(f.filename)}:{f.lineno}:{f.name}"
                           for f in reversed(frames[-3:]))
        start = time.perf_counter()
        yield from original(self, *args, **kwargs)
        timings.append((time.perf_counter() - start, where))

    SparkConnectClient._execute_and_fetch_as_iterator = timed  # type: ignore[method-assign]
    os.chdir(sys.argv[1])
    from lakesmith.cli import main as cli

    start = time.perf_counter()
    real_exit = os._exit

    def report(code: int) -> None:  # the CLI leaves through os._exit
        total = time.perf_counter() - start
        print(f"\n{len(timings)} engine requests, {sum(t for t, _ in timings):.2f}s of "
              f"{total:.2f}s", flush=True)
        for seconds, where in sorted(timings, reverse=True)[:25]:
            print(f"{seconds:8.3f}  {where}", flush=True)
        real_exit(code)

    os._exit = report  # type: ignore[assignment]
    sys.argv = ["lakesmith", "run", *sys.argv[2:]]
    cli()


if __name__ == "__main__":
    main()
