"""AUTO CDC from snapshots into SCD type 2 tables against a reference model written here: random
snapshots (keys leaving and coming back, tracked and untracked changes, NULLs) delivered over
several runs, with history tracked on `TrackingColumn` only."""

from __future__ import annotations

import random
from typing import Any

import pytest

from test_auto_cdc_snapshot import run_ok, setup, write
from test_auto_cdc_snapshot_scd2 import FUNCTION_SCD2, history, row

Snapshot = list[tuple[int, str | None, str | None]]


def random_snapshots(rng: random.Random, count: int) -> list[Snapshot]:
    snapshots = []
    for _ in range(count):
        keys = sorted(rng.sample(range(6), rng.randint(0, 6)))
        snapshots.append([(k, rng.choice(["a", "b", None]), rng.choice(["x", "y", None]))
                          for k in keys])
    return snapshots


def model(snapshots: list[Snapshot]) -> list[dict[str, Any]]:
    """The history Databricks documents: a new key opens a version at the snapshot's version, a
    changed TrackingColumn closes the open version there and opens one, a changed
    NonTrackingColumn alone updates the open version in place, a missing key is closed."""
    rows: list[dict[str, Any]] = []
    current: dict[int, dict[str, Any]] = {}
    for version, snapshot in enumerate(snapshots, start=1):
        seen = {key: (tracking, other) for key, tracking, other in snapshot}
        for key in [k for k in current if k not in seen]:
            current.pop(key)["__END_AT"] = version
        for key, (tracking, other) in seen.items():
            found = current.get(key)
            if found is not None and found["TrackingColumn"] == tracking:
                found["NonTrackingColumn"] = other
                continue
            if found is not None:
                found["__END_AT"] = version
            current[key] = row(key, tracking, other, version, None)
            rows.append(current[key])
    return sorted(rows, key=lambda r: (r["Key"], r["__START_AT"]))


def run_random(project: Any, tmp_path: Any, seed: int) -> None:
    rng = random.Random(seed)
    snapshots = random_snapshots(rng, rng.randint(3, 6))
    folder = setup(project, tmp_path, FUNCTION_SCD2)
    delivered = 0
    while delivered < len(snapshots):  # one or more snapshots per run
        batch = rng.randint(1, 3)
        for number in range(delivered, min(delivered + batch, len(snapshots))):
            write(folder / f"snapshot_{number + 1}", snapshots[number])
        delivered = min(delivered + batch, len(snapshots))
        run_ok(project)
        assert history(project) == model(snapshots[:delivered]), f"seed {seed}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_snapshots_match_the_model(project, tmp_path, seed) -> None:
    run_random(project, tmp_path, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [4, 5, 6, 7, 8, 9])
def test_more_random_snapshots_match_the_model(project, tmp_path, seed) -> None:
    run_random(project, tmp_path, seed)
