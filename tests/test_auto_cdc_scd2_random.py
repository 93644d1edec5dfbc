"""AUTO CDC SCD type 2 against a reference model: a random change history (inserts, updates that
repeat values, deletes, sequence values out of order, NULL values with ignore_null_updates), cut
into source commits delivered in shuffled order over several runs, with and without track
history. After every run the target's history is exactly the model's history of every event
delivered so far: SCD type 2 does not depend on the batch or run an event arrives in.

The model folds each key's events in sequence order (`cdc/scd2.py` states the rule): an upsert
after nothing or a delete opens a version; an upsert changing a tracked column closes the open one
at its sequence value and opens a new one; one changing no tracked column updates the open one in
place; a delete closes it. With ignore_null_updates a NULL keeps the key's previous value (since
its newest delete). Sequence values are distinct here (ties are tested in test_auto_cdc_scd2.py).
Every other pair of seeds computes the history as a large batch does (keys with a single event
set aside, the others ordered), the rest as a small batch does (every event ordered at once); two
seeds in five MERGE the changes as into a large target, the rest rewrite the small target (or
append new versions: `cdc/scd2_apply.py`).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from lakesmith.cdc import scd2, scd2_apply
from test_auto_cdc import append, run_ok, setup

CDC = """
import dlt
from pyspark.sql.functions import expr

dlt.create_streaming_table("target")
dlt.apply_changes(target="target", source="users", keys=["userId"], sequence_by="sequenceNum",
                  apply_as_deletes=expr("operation = 'DELETE'"),
                  except_column_list=["operation", "sequenceNum"], stored_as_scd_type=2,
                  ignore_null_updates={ignore_nulls}{track})
"""

Event = tuple[int, Any, Any, str, int]


def history(rng: random.Random, ignore_nulls: bool, deletes: bool) -> list[Event]:
    keys = list(range(rng.randint(2, 6)))
    count = rng.randint(10, 30)
    sequence = rng.sample(range(1, 1000), count)  # distinct: no ties
    events = []
    for seq in sequence:
        key = rng.choice(keys)
        if deletes and rng.random() < 0.2:
            events.append((key, None, None, "DELETE", seq))
            continue

        def value(prefix: str) -> Any:
            if ignore_nulls and rng.random() < 0.3:
                return None
            return f"{prefix}{rng.randrange(3)}"  # few values: many updates change nothing
        events.append((key, value("n"), value("c"), rng.choice(["INSERT", "UPDATE"]), seq))
    return events


def model(events: list[Event], tracked: tuple[str, ...], ignore_nulls: bool) -> list[tuple]:
    rows: list[list[Any]] = []
    for key in sorted({e[0] for e in events}):
        previous: dict[str, Any] | None = None  # None: nothing yet, or deleted
        versions: list[list[Any]] = []
        for _, name, city, op, seq in sorted((e for e in events if e[0] == key),
                                            key=lambda e: e[4]):
            if op == "DELETE":
                if previous is not None:
                    versions[-1][4] = seq
                previous = None
                continue
            values = {"name": name, "city": city}
            if ignore_nulls and previous is not None:
                values = {c: previous[c] if v is None else v for c, v in values.items()}
            if previous is None or any(values[c] != previous[c] for c in tracked):
                if previous is not None:
                    versions[-1][4] = seq
                versions.append([key, values["name"], values["city"], seq, None])
            else:
                versions[-1][1:3] = [values["name"], values["city"]]
            previous = values
        rows += versions
    return [tuple(r) for r in rows]


def table(project: Any) -> list[tuple]:
    return sorted(((r["userId"], r["name"], r["city"], r["__START_AT"], r["__END_AT"])
                   for r in project.rows("target")), key=lambda r: (r[0], r[3]))


def check_seed(project: Any, tmp_path: Any, seed: int, monkeypatch: Any) -> None:
    if (seed // 2) % 2 == 1:  # as a batch too large to order every event at once
        monkeypatch.setattr(scd2, "DIRECT_HISTORY_ROWS", 0)
    if seed % 5 in (1, 2):  # as into a target too large to rewrite
        monkeypatch.setattr(scd2_apply, "REWRITE_BYTES", 0)
    rng = random.Random(seed)
    ignore_nulls = seed % 2 == 1
    track_city = seed % 3 == 1  # track_history_except_column_list=["city"]
    deletes = seed % 4 != 2
    events = history(rng, ignore_nulls, deletes)
    rng.shuffle(events)
    cuts = sorted(rng.sample(range(1, len(events)), min(len(events) - 1, rng.randint(2, 6))))
    commits = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]
    track = ', track_history_except_column_list=["city"]' if track_city else ""
    changes = setup(project, tmp_path, CDC.format(ignore_nulls=ignore_nulls, track=track))
    tracked = ("name",) if track_city else ("name", "city")
    delivered: list[Event] = []
    while commits:
        run = [commits.pop(0) for _ in range(min(len(commits), rng.randint(1, 3)))]
        for commit in run:
            append(changes, commit)
            delivered += commit
        run_ok(project)
        assert table(project) == model(delivered, tracked, ignore_nulls), (seed, run)


@pytest.mark.parametrize("seed", range(4))
def test_random_histories_match_the_model(project, tmp_path, seed, monkeypatch) -> None:
    check_seed(project, tmp_path, seed, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4, 40))
def test_more_random_histories_match_the_model(project, tmp_path, seed, monkeypatch) -> None:
    check_seed(project, tmp_path, seed, monkeypatch)
