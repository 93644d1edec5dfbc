"""lakesmith's port of HotSpot's x86-64 `Math.sin` / `Math.cos` intrinsics gives Apache Spark
4.3's `sin`, `cos`, `sec` and `csc` bit for bit: on 42,016 doubles (random bit patterns, tiny
values and subnormals, |x| < pi/4, values next to multiples of pi/2, each power of two and its
neighbours, both sides of the fast reduction's limit, large values up to the largest double, the
special values) whose Spark answers `scripts/golden/trigonometry.py` recorded, computed in numpy
alone and through the engine with lakesmith's rewrites (SQL text and DataFrame functions)."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lakesmith.engine.semantics import hotspot_trig
from lakesmith.engine.semantics.strict_math import IMPLEMENTATIONS

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "trigonometry.json").read_text())


def _doubles(text: str) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype="<f8").copy()


X = _doubles(GOLDEN["x"])
EVERY = GOLDEN["reciprocal_every"]
# name → (Spark's values, the arguments they were recorded for)
SPARK = {**{name: (_doubles(GOLDEN["results"][name]), X) for name in ("sin", "cos", "tan")},
         **{name: (_doubles(GOLDEN["reciprocals"][name]), X[::EVERY])
            for name in ("cot", "sec", "csc")}}


def _differences(expected: np.ndarray, actual: np.ndarray) -> list[int]:
    same_bits = expected.view(np.int64) == actual.view(np.int64)
    both_nan = np.isnan(expected) & np.isnan(actual)
    return [int(i) for i in np.nonzero(~(same_bits | both_nan))[0]]


def test_the_golden_file_was_recorded_where_the_intrinsics_run() -> None:
    assert GOLDEN["jvm"]["os.arch"] == "amd64" and GOLDEN["jvm"]["UseLibmIntrinsic"] == "true"
    assert len(X) > 40_000 and not any(GOLDEN["nulls"].values())


@pytest.mark.parametrize("name", ["sin", "cos", "sec", "csc"])
def test_the_port_gives_sparks_bits(name: str) -> None:
    expected, x = SPARK[name]
    with np.errstate(all="ignore"):
        actual = IMPLEMENTATIONS[name][1](x)
    wrong = _differences(expected, actual)
    assert wrong == [], [(x[i], expected[i], actual[i]) for i in wrong[:5]]


def test_the_paths_of_the_stub_are_all_in_the_sample() -> None:
    """Each branch of the port is checked: tiny, main, multi-word reduction, special."""
    magnitude = np.abs(X)
    assert (magnitude < 2.0**-252).sum() > 1000
    assert ((magnitude > 0) & (magnitude < 2.0**-1022)).sum() > 500
    assert ((magnitude >= 2.0**-252) & (magnitude < 90112)).sum() > 19_000
    assert ((magnitude >= 90112) & np.isfinite(X)).sum() > 5000
    assert np.isnan(X).any() and np.isinf(X).sum() == 2


def test_special_values() -> None:
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324])
    sine, cosine = hotspot_trig.sin(x), hotspot_trig.cos(x)
    assert list(np.signbit(sine[:2])) == [False, True] and (sine[:2] == 0).all()
    assert (cosine[:2] == 1.0).all() and np.isnan(sine[2:5]).all() and np.isnan(cosine[2:5]).all()
    assert list(sine[5:]) == [5e-324, -5e-324] and (cosine[5:] == 1.0).all()


def test_the_platform_libm_is_not_sparks() -> None:
    """What the port is for: numpy's libm (the engine's kind) rounds otherwise."""
    for name, function in (("sin", np.sin), ("cos", np.cos)):
        expected, _ = SPARK[name]
        with np.errstate(all="ignore"):
            assert len(_differences(expected, function(X))) > 20, name


def test_tan_and_cot_are_not_ported() -> None:
    """Spark's tan (a table of fitted coefficients per interval) has no port: refused."""
    assert "tan" not in IMPLEMENTATIONS and "cot" not in IMPLEMENTATIONS
    expected, _ = SPARK["tan"]
    with np.errstate(all="ignore"):
        assert len(_differences(expected, np.tan(X))) > 50


def test_the_engine_gives_sparks_bits_with_the_rewrites(spark: Any) -> None:
    """The whole sample through the engine: SQL text (registered UDFs) and DataFrame
    functions (inline UDFs), with Spark's NULL rules around them."""
    import pyarrow as pa
    from pyspark.sql import functions as F
    from pyspark.sql.connect import proto

    from lakesmith.engine.plans import dataframe_of, relation_of
    from lakesmith.engine.semantics import spark_semantics

    every = np.zeros(len(X), dtype=bool)
    every[::EVERY] = True
    table = pa.table({"id": np.arange(len(X)), "x": X, "every": every})
    spark.createDataFrame(table).createOrReplaceTempView("trig_sample")  # NaN stays NaN
    relation = proto.Relation()
    relation.sql.query = ("SELECT id, every, sin(x) AS sin, cos(x) AS cos, sec(x) AS sec, "
                          "csc(x) AS csc FROM trig_sample")
    sql = dataframe_of(spark, relation)
    frame = spark.table("trig_sample").select(
        "id", "every", F.sin("x").alias("sin"), F.cos("x").alias("cos"),
        F.sec("x").alias("sec"), F.csc("x").alias("csc"))
    for df in (sql, frame):
        rows = dataframe_of(spark, spark_semantics(spark, relation_of(df))).toArrow()
        rows = rows.sort_by("id")
        picked = rows["every"].to_numpy(zero_copy_only=False)
        for name in ("sin", "cos", "sec", "csc"):
            column = rows[name]
            assert column.null_count == 0, name
            values = column.to_numpy(zero_copy_only=False).astype(float)
            if name in ("sec", "csc"):
                values = values[picked]
            expected, x = SPARK[name]
            wrong = _differences(expected, values)
            assert wrong == [], (name, [(x[i], expected[i], values[i]) for i in wrong[:5]])
