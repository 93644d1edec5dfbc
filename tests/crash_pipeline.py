"""One pipeline with a flow of every kind the exactly-once protocol serves, run as a separate
process (`python -m lakesmith run`) so that it can crash or be killed, and the model of what its
tables must hold, computed in Python from the input the test wrote.

Flows (and the writers each batch has):
- `bronze`: a streaming copy of the source (output);
- `checked`: the source with an `expect_or_drop` rule and a quarantine table (output, quarantine);
- `uniq`: the source deduplicated by id (output, deduplication state);
- `backfill`: a once flow into `history`, which has a drop rule and a quarantine table too
  (output, quarantine; batch 0 only);
- `silver`: a streaming flow reading `bronze` (output).
The source is a Delta table written one file per commit and read with maxFilesPerTrigger=1, so
source commit N is batch N of bronze, checked and uniq.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from lakesmith.runtime.checkpoint.crash import CRASH_ENV

Row = tuple[int, float]

# The crash points each flow reaches in every batch (after_quarantine and after_state only where
# the flow writes a quarantine table or state).
FLOW_POINTS = {
    "bronze": ("before_offsets", "after_offsets", "after_output", "after_commit"),
    "checked": ("before_offsets", "after_offsets", "after_output", "after_quarantine",
                "after_commit"),
    "uniq": ("before_offsets", "after_offsets", "after_output", "after_state", "after_commit"),
    "backfill": ("before_offsets", "after_offsets", "after_output", "after_quarantine",
                 "after_commit"),
    "silver": ("before_offsets", "after_offsets", "after_output", "after_commit"),
}
FLOW_TABLES = {"bronze": "bronze", "checked": "checked", "uniq": "uniq", "backfill": "history",
               "silver": "silver"}
SOURCE_FLOWS = ("bronze", "checked", "uniq")  # one batch per source commit

# Names the pipeline's code spells, in the case Spark ignores (`respell` varies it).
NAMES = ("bronze", "bronze_read", "checked", "uniq", "history", "history_target", "backfill",
         "silver")

PIPELINE = '''
import dlt


def source():
    return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
            .load(spark.conf.get("source")))


@dlt.table
def {bronze}():
    return source()


@dlt.table(table_properties={{"lakesmith.quarantine": "true"}})
@dlt.expect_or_drop("positive", "amount > 0")
def {checked}():
    return source()


@dlt.table
def {uniq}():
    return source().dropDuplicates(["id"])


dlt.create_streaming_table("{history}", table_properties={{"lakesmith.quarantine": "true"}},
                           expect_all_or_drop={{"positive": "amount > 0"}})


@dlt.append_flow(target="{history_target}", once=True)
def {backfill}():
    return spark.createDataFrame({rows!r}, "id BIGINT, amount DOUBLE")


@dlt.table
def {silver}():
    return (spark.readStream.option("maxFilesPerTrigger", "1").table("{bronze_read}")
            .selectExpr("id", "amount * 2 AS doubled"))
'''

BACKFILL: list[Row] = [(100, 1.5), (101, -1.0), (102, 4.0)]


def positive(row: Row) -> bool:
    return row[1] > 0


def expected_tables(commits: Sequence[Sequence[Row]],
                    backfill: Sequence[Row] = BACKFILL) -> dict[str, list[tuple]]:
    """What every table holds after the pipeline processed `commits` (and its once flow ran),
    each exactly once: rows sorted, quarantine rows as (id, amount, failed rules, batch)."""
    rows = [row for commit in commits for row in commit]
    first: dict[int, Row] = {}
    for row in rows:  # a commit repeats an id only with the same amount: the first row is exact
        first.setdefault(row[0], row)
    tables = {
        "bronze": sorted(rows),
        "checked": sorted(r for r in rows if positive(r)),
        "uniq": sorted(first.values()),
        "history": sorted(r for r in backfill if positive(r)),
        "history_quarantine": sorted((*r, ("positive",), 0) for r in backfill if not positive(r)),
        "silver": sorted((r[0], r[1] * 2) for r in rows),
    }
    dropped = sorted((*r, ("positive",), batch) for batch, commit in enumerate(commits)
                     for r in commit if not positive(r))
    if dropped:  # created by the first batch that drops a row
        tables["checked_quarantine"] = dropped
    return dict(sorted(tables.items()))


def random_commit(rng: random.Random) -> list[Row]:
    """1-4 rows over a few ids (so ids repeat across commits), amounts some of them not
    positive; a repeated id within a commit repeats its row (so deduplication is exact)."""
    ids = [rng.randrange(12) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.3:
        ids.append(ids[0])
    amounts = {i: rng.choice([-2.0, -0.5, 0.0, 0.5, 1.0, 2.5, 7.0]) for i in ids}
    return [(i, amounts[i]) for i in ids]


def lower_case() -> dict[str, str]:
    return {key: key.split("_")[0] for key in NAMES}


def random_case(rng: random.Random) -> dict[str, str]:
    """Each name of the code in lower, capitalized or upper case: all the same table to Spark."""
    return {key: rng.choice([name, name.capitalize(), name.upper()])
            for key, name in lower_case().items()}


class CrashPipeline:
    """The pipeline in `folder`, as a separate process. Several can share a folder: each has its
    own spec file (`<name>.yml`), code folder, source, storage and warehouse there."""

    def __init__(self, folder: Path, name: str = "p", *, shared_folder: bool = False) -> None:
        self.folder = folder
        self.name = name
        prefix = f"{name}_" if shared_folder else ""
        self.spec = folder / (f"{name}.yml" if shared_folder else "spark-pipeline.yml")
        self.code = folder / (name if shared_folder else "transformations") / "pipeline.py"
        self.source = folder / f"{prefix}source"
        self.storage = folder / f"{prefix}storage"
        self.warehouse = folder / f"{prefix}warehouse"
        self.commits: list[list[Row]] = []
        folder.mkdir(parents=True, exist_ok=True)
        self.code.parent.mkdir(parents=True, exist_ok=True)
        self.spec.write_text(
            f"name: {name}\nstorage: {self.storage.name}\nconfiguration:\n"
            f"  source: {self.source}\n  spark.sql.warehouse.dir: {self.warehouse.name}\n"
            f"libraries:\n  - glob:\n      include: {self.code.parent.name}/**\n")
        self.respell()

    # -- input and code ------------------------------------------------------------------------

    def append(self, rows: Sequence[Row]) -> None:
        """One source commit (one file)."""
        table = pa.table({"id": pa.array([r[0] for r in rows], pa.int64()),
                          "amount": pa.array([r[1] for r in rows], pa.float64())})
        write_deltalake(str(self.source), table, mode="append")
        self.commits.append(list(rows))

    def respell(self, spelling: Mapping[str, str] | None = None) -> None:
        """Write the pipeline's code with its names spelled as given (default: lower case)."""
        self.code.write_text(PIPELINE.format(rows=BACKFILL, **(spelling or lower_case())))

    # -- running -------------------------------------------------------------------------------

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "lakesmith", "run", "--spec", str(self.spec), *args]

    def _env(self, crash_at: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash_at:
            env[CRASH_ENV] = crash_at
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def run(self, crash_at: str | None = None, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._command(*args), cwd=self.folder, env=self._env(crash_at),
                              capture_output=True, text=True, timeout=120)

    def start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(self._command(), cwd=self.folder, env=self._env(None),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    # -- what it wrote -------------------------------------------------------------------------

    def tables(self) -> dict[str, list[tuple]]:
        """Every table in the warehouse, its rows sorted; quarantine rows without their update id
        (checked to be there)."""
        found = {}
        schema = self.warehouse / "spark_catalog" / "default"
        for path in sorted(schema.iterdir()) if schema.exists() else ():
            rows = []
            for row in DeltaTable(str(path)).to_pyarrow_table().to_pylist():
                if "_update_id" in row:
                    assert isinstance(row.pop("_update_id"), str), (path.name, row)
                rows.append(tuple(tuple(v) if isinstance(v, list) else v for v in row.values()))
            found[path.name] = sorted(rows)
        return found

    def expected(self) -> dict[str, list[tuple]]:
        return expected_tables(self.commits)

    def checkpoint(self, flow: str) -> Path:
        return (self.storage / "checkpoints" / f"spark_catalog.default.{FLOW_TABLES[flow]}"
                / flow)

    def logged(self, flow: str) -> tuple[list[int], list[int]]:
        """The batches in a flow's offsets and commits logs."""
        def batches(log: str) -> list[int]:
            return sorted(int(p.name) for p in (self.checkpoint(flow) / log).glob("[0-9]*"))
        return batches("offsets"), batches("commits")

    def check_done(self) -> None:
        """Every table holds exactly the model's rows, and each flow committed one batch per
        source commit (the once flow one)."""
        assert self.tables() == self.expected()
        batches = list(range(len(self.commits)))
        for flow in SOURCE_FLOWS:
            assert self.logged(flow) == (batches, batches), flow
        assert self.logged("backfill") == ([0], [0])


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr
