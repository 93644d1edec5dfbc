"""Record Apache Spark 4.3's math functions on a sample of doubles as a golden file, so that
lakesmith's fdlibm ports (`lakesmith/engine/semantics/fdlibm.py`) are checked bit for bit
without a JVM (`tests/engine/test_fdlibm.py`).

Run with the oracle environment (classic PySpark 4.3.0 on a local JVM, Java 17), from the
repository root:

    /work/spark-venv/bin/python scripts/golden/strict_math.py [--out tests/golden/strict_math.json]

The sample (standard library only, seeded, so a rerun records the same values) holds what makes
libms round differently: random bit patterns over the whole range, values a few units in the
last place from 1 and from powers of two, subnormals, and ordinary ranges; `y` is a second
argument (bases, exponents). Every double is stored as its 8 bytes, little-endian, base64 per
column; a result Spark returned as NULL is listed by row in `nulls`.
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import random
import struct
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "golden" / "strict_math.json"

# name → Spark SQL over the sample's columns x and y
FUNCTIONS = {
    "ln": "ln(x)", "log10": "log10(x)", "log2": "log2(x)", "log1p": "log1p(x)",
    "log_b": "log(y, x)", "exp": "exp(x)", "expm1": "expm1(x)", "pow": "pow(x, y)",
    "pow_yx": "pow(y, x)", "sinh": "sinh(x)", "cosh": "cosh(x)", "tanh": "tanh(x)",
    "asin": "asin(x)", "acos": "acos(x)", "atan": "atan(x)", "atan2": "atan2(y, x)",
    "cbrt": "cbrt(x)", "hypot": "hypot(x, y)", "asinh": "asinh(x)", "acosh": "acosh(x)",
    "atanh": "atanh(x)",
}


def sample(seed: int = 20261127) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)

    def from_bits(bits: int) -> float:
        return float(struct.unpack("<d", struct.pack("<Q", bits))[0])

    xs: list[float] = []
    while len(xs) < 300:  # random bit patterns, positive
        value = from_bits(rng.getrandbits(63))
        if math.isfinite(value):
            xs.append(value)
    xs += [-v for v in xs[:100]]
    xs += [1.0 + k * 2.0**-52 for k in (rng.randint(-3000, 3000) for _ in range(150))]
    xs += [1.0 + rng.uniform(-0.3, 0.3) for _ in range(100)]
    xs += [math.ldexp(1.0, rng.randint(-1070, 1022)) * (1 + rng.randint(-4, 4) * 2.0**-53)
           for _ in range(200)]
    xs += [from_bits(rng.randint(1, 2**52 - 1)) for _ in range(80)]  # subnormals
    xs += [rng.uniform(0, 10) for _ in range(100)] + [rng.uniform(-10, 10) for _ in range(100)]
    xs += [rng.uniform(-1, 1) for _ in range(100)] + [rng.uniform(-800, 800) for _ in range(60)]
    xs += [0.0, -0.0, math.nan, math.inf, -math.inf, 1.0, -1.0, 2.0, 0.5, 3.0, 10.0, 1e308,
           5e-324, 2.2250738585072014e-308]
    bases = [2.0, 10.0, 0.5, 3.0, 1.5, -2.0, 0.1, math.e]
    ys = [rng.uniform(-5, 5) if i % 2 else rng.choice(bases) for i in range(len(xs))]
    return xs, ys


def pack(values: list[float | None]) -> str:
    return base64.b64encode(b"".join(struct.pack("<d", 0.0 if v is None else v)
                                     for v in values)).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    import pyspark
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
             .getOrCreate())
    try:
        xs, ys = sample()
        df = spark.createDataFrame([(i, x, y) for i, (x, y) in enumerate(zip(xs, ys))],
                                   "id INT, x DOUBLE, y DOUBLE")
        rows = df.selectExpr("id", *[f"{e} AS {n}" for n, e in FUNCTIONS.items()]) \
            .orderBy("id").collect()
    finally:
        spark.stop()
    golden = {
        "spark": pyspark.__version__, "functions": FUNCTIONS, "x": pack(xs), "y": pack(ys),
        "results": {n: pack([r[n] for r in rows]) for n in FUNCTIONS},
        "nulls": {n: [r["id"] for r in rows if r[n] is None] for n in FUNCTIONS},
    }
    args.out.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"{len(xs)} values x {len(FUNCTIONS)} functions written to {args.out}")


if __name__ == "__main__":
    main()
