"""Benchmark: wall time of `lakesmith run` on the project `spark-pipelines init` creates, from a
cold process, against the engine floor (the same tables written by hand on embedded Sail) and,
when a Spark 4.3 reference install is present, against Spark's own `spark-pipelines run`.

    python benchmarks/init_project.py [--runs 5]

The Spark reference is used when $SPARK_REF_VENV (default /work/spark-ref/venv) has pyspark 4.3;
create it with benchmarks/setup_spark_reference.sh.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

from common import PYTHON, REPO, Measurement, print_table, time_command

SPARK_REF_VENV = Path(os.environ.get("SPARK_REF_VENV", "/work/spark-ref/venv"))


def make_project(parent: Path) -> Path:
    from pyspark.pipelines.init_cli import init

    with contextlib.chdir(parent), contextlib.redirect_stdout(io.StringIO()):
        init("bench")
    return parent / "bench"


def spark_reference() -> tuple[list[str], dict[str, str]] | None:
    cli = SPARK_REF_VENV / "bin" / "spark-pipelines"
    if not cli.exists():
        return None
    site = next((SPARK_REF_VENV / "lib").glob("python3*/site-packages/pyspark"), None)
    if site is None:
        return None
    env = {"SPARK_HOME": str(site), "PATH": f"{SPARK_REF_VENV / 'bin'}:{os.environ['PATH']}"}
    return [str(cli), "run"], env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lakesmith-bench-"))
    try:
        project = make_project(work)
        lakesmith = Measurement("lakesmith run (cold process)")
        floor = Measurement("engine floor (hand-written, Sail)")
        for _ in range(args.runs):
            lakesmith.seconds.append(time_command([PYTHON, "-m", "lakesmith", "run"], cwd=project))
            floor.seconds.append(time_command(
                [PYTHON, str(REPO / "benchmarks" / "engine_floor_init.py"),
                 str(work / "floor-warehouse")], cwd=work))
        rows = [lakesmith, floor]
        reference = spark_reference()
        if reference is not None:
            argv, env = reference
            spark = Measurement("spark-pipelines 4.3 run (JVM)")
            for i in range(min(args.runs, 3)):
                (work / f"spark{i}").mkdir()
                spark.seconds.append(time_command(argv, cwd=make_project(work / f"spark{i}"),
                                                  env=env))
            rows.append(spark)
        else:
            print(f"(Spark reference not found in {SPARK_REF_VENV}: run "
                  "benchmarks/setup_spark_reference.sh to compare with spark-pipelines)")
        print_table("`spark-pipelines init` project, cold process, wall time", rows,
                    baseline="engine floor (hand-written, Sail)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
