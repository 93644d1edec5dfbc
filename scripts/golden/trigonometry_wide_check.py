"""Check lakesmith's port of HotSpot's x86-64 `sin` / `cos` (`engine/semantics/hotspot_trig.py`)
against Apache Spark on millions of doubles: too many for a golden file, so run by hand after a
change to the port or on a new JVM. Prints, per function, how many values the port and numpy's
libm (the engine's kind) answer otherwise than Spark.

Run with an environment that has PySpark 4.3 (classic, local JVM) and numpy, from the repository
root (lakesmith's sources on the path, not installed):

    PYTHONPATH=src /work/spark-ref/venv/bin/python scripts/golden/trigonometry_wide_check.py [--millions 1]

The sample, `--millions` million values of each kind: random bit patterns of both signs,
|x| < pi, |x| < 1e5, whole degrees to 4 decimals in radians, values a few units in the last
place from multiples of pi/2, and magnitudes from 1e-30 to 1e300. Last run (2026-11-27, Spark 4.3.0, OpenJDK 17.0.15, x86-64,
`--millions 1`, 6.0 million values): the port differs nowhere, numpy's libm for 9,038 (sin) and
8,942 (cos).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def sample(millions: float, seed: int = 20261127) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(millions * 1_000_000)
    sign = rng.choice([-1.0, 1.0], n)
    with np.errstate(all="ignore"):
        bits = rng.integers(0, 2**63, n, dtype=np.int64).view(np.float64) * sign
    parts = [bits[np.isfinite(bits)], rng.uniform(-np.pi, np.pi, n), rng.uniform(-1e5, 1e5, n),
             np.radians(np.round(rng.uniform(-180, 180, n), 4)),
             rng.integers(1, 10**7, n) * (np.pi / 2) * (1 + rng.integers(-8, 9, n) * 2.0**-52),
             10.0 ** rng.uniform(-30, 300, n) * sign]
    return np.concatenate(parts)


def _differences(expected: np.ndarray, actual: np.ndarray) -> int:
    differ = expected.view(np.int64) != actual.view(np.int64)
    return int((differ & ~(np.isnan(expected) & np.isnan(actual))).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--millions", type=float, default=1.0)
    args = parser.parse_args()

    from pyspark.sql import SparkSession

    from lakesmith.engine.semantics import hotspot_trig

    x = sample(args.millions)
    with tempfile.TemporaryDirectory(prefix="trig-check-") as folder:
        source, answers = Path(folder) / "in.parquet", Path(folder) / "out.parquet"
        pq.write_table(pa.table({"id": np.arange(len(x)), "x": x}), source)
        spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                 .config("spark.driver.memory", "4g").getOrCreate())
        try:
            spark.read.parquet(str(source)).selectExpr("id", "sin(x) AS sin", "cos(x) AS cos") \
                .write.parquet(str(answers))
        finally:
            spark.stop()
        spark_answers = pq.read_table(answers).sort_by("id")
    for name, port, libm in (("sin", hotspot_trig.sin, np.sin), ("cos", hotspot_trig.cos, np.cos)):
        expected = spark_answers[name].to_numpy()
        with np.errstate(all="ignore"):
            counts = [_differences(expected, f(x)) for f in (port, libm)]
        print(f"{name}: {len(x)} values; the port differs for {counts[0]}, "
              f"numpy's libm for {counts[1]}")


if __name__ == "__main__":
    main()
