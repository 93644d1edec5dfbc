"""The embedded engine gets two more runtime threads than cores (`engine/runtime_workers.py`), so
a request from one flow is answered while another flow's query computes; a value the user set is
kept. Each case starts its own engine in a fresh process: the runtime is sized once, when the
engine starts, from the process environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lakesmith.engine.runtime_workers import SPARE_WORKERS, usable_cores

SRC = Path(__file__).resolve().parents[2] / "src"

# Starts the engine the way `lakesmith run` does (lazily, on the first request), then reports the
# variable and the engine's runtime threads as the operating system names them.
PROBE = """
import collections, json, os
from lakesmith.engine.session import start_engine
engine = start_engine(lazy=True)
assert engine.spark.range(3).count() == 3
names = collections.Counter()
for task in os.listdir("/proc/self/task"):
    try:
        names[open(f"/proc/self/task/{task}/comm").read().strip()] += 1
    except FileNotFoundError:  # a short-lived thread (the client's) ended meanwhile
        pass
print(json.dumps({"variable": os.environ.get("TOKIO_WORKER_THREADS"),
                  "threads": names["tokio-rt-worker"]}))
engine.stop()
"""


def _probe(workers: str | None, folder: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "TOKIO_WORKER_THREADS"}
    if workers is not None:
        env["TOKIO_WORKER_THREADS"] = workers
    env["PYTHONPATH"] = f"{SRC}{os.pathsep}{env.get('PYTHONPATH', '')}"
    env.setdefault("RUST_LOG", "error")
    script = folder / "probe.py"  # a file: pyspark's Connect client refuses `python -c`
    script.write_text(PROBE)
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_engine_runtime_has_two_more_workers_than_cores_and_keeps_a_user_setting(
        tmp_path: Path) -> None:
    spare = _probe(None, tmp_path)
    assert spare["variable"] == str(usable_cores() + SPARE_WORKERS)
    one = _probe("1", tmp_path)
    assert one["variable"] == "1"  # the user's value is kept
    # Every runtime the engine builds has that many workers: with one worker each it has as many
    # runtimes as threads.
    assert isinstance(one["threads"], int) and one["threads"] >= 1
    assert spare["threads"] == one["threads"] * (usable_cores() + SPARE_WORKERS)
