"""AUTO CDC SCD type 1 against a reference model: a random change history (inserts, updates,
deletes, repeated keys, sequence values out of order, NULL values with ignore_null_updates), cut
into source commits delivered in shuffled order over several runs. After every run the target
holds exactly what the model says.

The model applies each run's changes (one AUTO CDC batch: the flow reads everything its source
gained) the way Databricks describes SCD type 1: per key, only changes newer than the newest one
applied before count, in sequence order; a delete removes the row and is remembered; with
ignore_null_updates a NULL leaves the current value. Sequence values are distinct per key here
(ties are tested in test_auto_cdc.py).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from test_auto_cdc import append, run_ok, setup, target

CDC = """
import dlt
from pyspark.sql.functions import expr

dlt.create_streaming_table("target")
dlt.apply_changes(target="target", source="users", keys=["userId"], sequence_by="sequenceNum",
                  apply_as_deletes=expr("operation = 'DELETE'"),
                  except_column_list=["operation", "sequenceNum"],
                  ignore_null_updates={ignore_nulls})
"""

Event = tuple[int, Any, Any, str, int]


def history(rng: random.Random, ignore_nulls: bool) -> list[Event]:
    keys = list(range(rng.randint(3, 8)))
    count = rng.randint(10, 30)
    sequence = rng.sample(range(1, 1000), count)  # distinct: no ties
    events = []
    for seq in sequence:
        key = rng.choice(keys)
        if rng.random() < 0.2:
            events.append((key, None, None, "DELETE", seq))
            continue
        def value(prefix: str) -> Any:
            if ignore_nulls and rng.random() < 0.3:
                return None
            return f"{prefix}{rng.randrange(100)}"
        events.append((key, value("n"), value("c"), rng.choice(["INSERT", "UPDATE"]), seq))
    return events


class Model:
    def __init__(self, ignore_nulls: bool) -> None:
        self.ignore_nulls = ignore_nulls
        self.seq: dict[int, int] = {}
        self.rows: dict[int, dict[str, Any]] = {}

    def apply(self, batch: list[Event]) -> None:
        new = sorted((e for e in batch if e[4] > self.seq.get(e[0], -1)), key=lambda e: e[4])
        for key, name, city, op, seq in new:
            if op == "DELETE":
                self.rows.pop(key, None)
            elif key in self.rows and self.ignore_nulls:
                row = self.rows[key]
                row.update({k: v for k, v in (("name", name), ("city", city)) if v is not None})
            else:
                self.rows[key] = {"name": name, "city": city}
            self.seq[key] = seq

    def table(self) -> list[dict[str, Any]]:
        return [{"userId": k, **self.rows[k]} for k in sorted(self.rows)]


def check_seed(project: Any, tmp_path: Any, seed: int) -> None:
    rng = random.Random(seed)
    ignore_nulls = seed % 2 == 1
    events = history(rng, ignore_nulls)
    rng.shuffle(events)
    cuts = sorted(rng.sample(range(1, len(events)), min(len(events) - 1, rng.randint(2, 6))))
    commits = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]
    changes = setup(project, tmp_path, CDC.format(ignore_nulls=ignore_nulls))
    model = Model(ignore_nulls)
    while commits:
        run = [commits.pop(0) for _ in range(min(len(commits), rng.randint(1, 3)))]
        for commit in run:
            append(changes, commit)
        run_ok(project)
        model.apply([e for commit in run for e in commit])
        assert target(project) == model.table(), (seed, run)


@pytest.mark.parametrize("seed", range(4))
def test_random_histories_match_the_model(project, tmp_path, seed) -> None:
    check_seed(project, tmp_path, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4, 40))
def test_more_random_histories_match_the_model(project, tmp_path, seed) -> None:
    check_seed(project, tmp_path, seed)
