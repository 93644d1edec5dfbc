"""Record Apache Spark 4.3's `sin`, `cos`, `tan`, `cot`, `sec` and `csc` on a sample of doubles
as a golden file, so that lakesmith's port of HotSpot's x86-64 intrinsics
(`lakesmith/engine/semantics/intel_trig.py`) is checked bit for bit without a JVM
(`tests/engine/test_intel_trig.py`).

Spark calls `java.lang.Math.sin/cos/tan`; HotSpot on x86-64 runs them as Intel LIBM-derived
stubs (`StubRoutines::dsin/dcos/dtan`, on while the diagnostic flag `UseLibmIntrinsic` is, its
default), in the interpreter and in compiled code alike. The script prints which JVM ran and the
flag, and records both in the file.

Run with the oracle environment (classic PySpark 4.3.0 on a local JVM, Java 17), from the
repository root:

    /work/spark-venv/bin/python scripts/golden/trigonometry.py [--out tests/golden/trigonometry.json]

The sample (standard library only, seeded, so a rerun records the same values) holds what the
algorithms branch on: random bit patterns over the whole range, tiny values and subnormals
(sin(x) = x, tan(x) = x paths), |x| < pi/4, values a few units in the last place from multiples
of pi/2 (where the reduced argument cancels), each power of two and its neighbours (the
thresholds are exponent tests), values on both sides of the fast reduction's limit (|x| near
90112) and large values up to the largest double (the multi-word reduction by 2/pi), -0.0, NaN
and the infinities. Every double is stored as its 8 bytes, little-endian, zlib-compressed and
base64 per column. `cot`, `sec` and `csc` are recorded on every 8th row (Spark defines them as
1 / tan, 1 / cos, 1 / sin; the test checks that on those rows).
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import random
import struct
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "golden" / "trigonometry.json"

FUNCTIONS = ("sin", "cos", "tan")
RECIPROCALS = ("cot", "sec", "csc")
RECIPROCAL_EVERY = 8


def from_bits(bits: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


def to_bits(value: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", value))[0])


def ulps(value: float, k: int) -> float:
    """`value` moved by k units in the last place (in magnitude)."""
    return from_bits(max(0, to_bits(abs(value)) + k)) * (1.0 if value >= 0 else -1.0)


def sample(seed: int = 20261127) -> list[float]:
    rng = random.Random(seed)
    sign = lambda: rng.choice((1.0, -1.0))  # noqa: E731
    xs: list[float] = []
    while len(xs) < 8000:  # random bit patterns, both signs
        value = from_bits(rng.getrandbits(64))
        if math.isfinite(value):
            xs.append(value)
    xs += [sign() * math.ldexp(rng.random() + 0.5, rng.randint(-1073, -20))
           for _ in range(3000)]  # tiny
    xs += [sign() * from_bits(rng.randint(1, 2**52 - 1)) for _ in range(500)]  # subnormals
    xs += [rng.uniform(-math.pi / 4, math.pi / 4) for _ in range(6000)]
    xs += [sign() * rng.uniform(0, 1e-3) for _ in range(1000)]
    for _ in range(6000):  # next to multiples of pi/2
        k = rng.choice((rng.randint(1, 64), rng.randint(1, 60000), rng.randint(1, 10**9),
                        rng.randint(1, 10**15)))
        xs.append(sign() * ulps(k * math.pi / 2, rng.randint(-20, 20)))
    xs += [rng.uniform(-100, 100) for _ in range(3000)]
    xs += [rng.uniform(-1e5, 1e5) for _ in range(2000)]
    xs += [sign() * ulps(90112.0 * f, rng.randint(-3, 3))
           for f in (0.9999, 1.0, 1.0001, 2.0 ** -0.5, 2.0 ** 0.5) for _ in range(40)]
    xs += [sign() * 10.0 ** rng.uniform(5, 308.2) for _ in range(4000)]
    xs += [sign() * rng.uniform(0, 10) for _ in range(2000)]
    for exponent in range(-1074, 1024):  # each power of two and its neighbours
        power = math.ldexp(1.0, exponent)
        xs += [ulps(power, -1), power, ulps(power, 1)]
    xs += [0.0, -0.0, math.nan, math.inf, -math.inf, 1.0, -1.0, math.pi, -math.pi,
           math.pi / 2, math.pi / 4, 1e308, -1e308, 1.7976931348623157e308, 5e-324, -5e-324,
           2.2250738585072014e-308, 1e22, 2.0**-252, 2.0**-26, 2.0**-27, 2.0**-28]
    return xs


def pack(values: list[float | None]) -> str:
    raw = b"".join(struct.pack("<d", 0.0 if v is None else v) for v in values)
    return base64.b64encode(zlib.compress(raw, 9)).decode()


def _bits_or_nan(value: float | None) -> int | None:
    if value is None:
        return None
    return -1 if math.isnan(value) else to_bits(value)


def _java_double(text: str | None) -> int | None:
    """A double from Java's `Double.toString` (which round-trips), as bits (NaN: -1)."""
    if text is None:
        return None
    return _bits_or_nan(float(text.replace("Infinity", "inf")))


def _jvm_facts(spark: object) -> dict[str, str]:
    jvm = spark._jvm  # type: ignore[attr-defined]
    management = jvm.java.lang.management.ManagementFactory
    bean = management.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean"))
    return {"java.version": jvm.System.getProperty("java.version"),
            "java.vm.name": jvm.System.getProperty("java.vm.name"),
            "os.arch": jvm.System.getProperty("os.arch"),
            "UseLibmIntrinsic": bean.getVMOption("UseLibmIntrinsic").getValue()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    import pyspark
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
             .config("spark.driver.extraJavaOptions", "-XX:+UnlockDiagnosticVMOptions")
             .getOrCreate())
    try:
        facts = _jvm_facts(spark)
        print(facts)
        xs = sample()
        df = spark.createDataFrame([(i, x) for i, x in enumerate(xs)], "id INT, x DOUBLE")
        rows = df.selectExpr(
            "id", *[f"{n}(x) AS {n}" for n in FUNCTIONS + RECIPROCALS],
            *[f"reflect('java.lang.StrictMath', '{n}', x) AS strict_{n}" for n in FUNCTIONS]) \
            .orderBy("id").collect()
    finally:
        spark.stop()
    for n in FUNCTIONS:  # how far HotSpot's intrinsics are from StrictMath (fdlibm): printed
        differ = sum(_java_double(r[f"strict_{n}"]) != _bits_or_nan(r[n]) for r in rows)
        print(f"{n}: {differ} of {len(rows)} values differ from StrictMath.{n}")
    every = rows[::RECIPROCAL_EVERY]
    golden = {
        "spark": pyspark.__version__, "jvm": facts, "x": pack(xs),
        "results": {n: pack([r[n] for r in rows]) for n in FUNCTIONS},
        "reciprocal_every": RECIPROCAL_EVERY,
        "reciprocals": {n: pack([r[n] for r in every]) for n in RECIPROCALS},
        "nulls": {n: [r["id"] for r in rows if r[n] is None] for n in FUNCTIONS + RECIPROCALS},
    }
    args.out.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"{len(xs)} values x {len(FUNCTIONS + RECIPROCALS)} functions written to {args.out}")


if __name__ == "__main__":
    main()
