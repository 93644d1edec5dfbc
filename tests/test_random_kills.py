"""SIGKILL updates at random moments, run again until one completes, and compare every table with
a model of the input: whatever moment a process dies at, no row is lost or written twice.

Each trial adds a few source commits (so each update runs several micro-batches, the once flow in
the first) to two pipelines whose specs, code, sources, storage and warehouses share one folder,
and runs both at the same time: they share nothing. Before every run the code spells its dataset
names in another case (`def Bronze` / `readStream.table("bronze")`), which Spark reads as the same
tables, so nothing may start over. The default suite runs 4 trials; `-m slow` runs 30 more.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from crash_pipeline import CrashPipeline, random_case, random_commit

KILL_WINDOW = 0.4  # seconds after an update starts: about the time its flows take here
MAX_KILLS = 2  # killed runs before the run of a trial that may complete


def run_killed(pipeline: CrashPipeline, delay: float | None) -> tuple[int, str]:
    """Run an update; SIGKILL it `delay` seconds after it starts (unless it ended by then), or
    never when `delay` is None. Its exit status and output."""
    process = pipeline.start()
    assert process.stdout is not None
    lines = []
    try:
        if delay is not None:
            for line in process.stdout:
                lines.append(line)
                if "Update is INITIALIZING" in line:
                    break
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.kill()
        rest, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, "".join(lines) + rest


def run_trial(pipeline: CrashPipeline, runs: list[tuple[dict[str, str], float | None]]) -> int:
    """Run the pipeline once per (spelling, kill delay); the last run has no delay and must
    complete. How many runs were killed before their update completed."""
    killed = 0
    for spelling, delay in runs:
        pipeline.respell(spelling)
        status, out = run_killed(pipeline, delay)
        if delay is not None and status == -signal.SIGKILL:
            killed += "Update is COMPLETED" not in out
        else:
            assert status == 0, out
    return killed


@pytest.mark.parametrize(("seed", "trials"), [
    pytest.param(11, 4, id="4-trials"),
    pytest.param(2026, 30, id="30-trials", marks=(pytest.mark.slow, pytest.mark.timeout(900))),
])
def test_random_kills_lose_and_repeat_nothing(tmp_path: Path, seed: int, trials: int) -> None:
    rng = random.Random(seed)
    folder = tmp_path / "pipelines"
    pipelines = [CrashPipeline(folder, "one", shared_folder=True),
                 CrashPipeline(folder, "two", shared_folder=True)]
    planned_kills = killed = 0
    with ThreadPoolExecutor(len(pipelines)) as pool:
        for _ in range(trials):
            plans = []
            for pipeline in pipelines:
                for _ in range(rng.randint(1, 3)):
                    pipeline.append(random_commit(rng))
                delays: list[float | None] = [rng.uniform(0, KILL_WINDOW)
                                              for _ in range(rng.randint(1, MAX_KILLS))]
                planned_kills += len(delays)
                plans.append([(random_case(rng), delay) for delay in [*delays, None]])
            killed += sum(pool.map(run_trial, pipelines, plans))
            for pipeline in pipelines:
                pipeline.check_done()
    # Most planned kills hit a running update (the others came after it had ended).
    print(f"{killed} of {planned_kills} planned kills stopped an update")
    assert killed >= planned_kills // 2, (killed, planned_kills)
    # Each pipeline kept to its own files.
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{p.name}{suffix}" for p in pipelines
        for suffix in ("", ".yml", "_source", "_storage", "_warehouse"))
    for pipeline in pipelines:
        identity = json.loads((pipeline.storage / "pipeline.json").read_text())
        assert identity["name"] == pipeline.name
