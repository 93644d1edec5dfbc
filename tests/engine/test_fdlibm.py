"""lakesmith's fdlibm ports give Apache Spark 4.3's math functions bit for bit: on 1,304 doubles
(random bit patterns, values next to 1 and to powers of two, subnormals, ordinary ranges, the
special values) whose Spark answers `scripts/golden/strict_math.py` recorded, computed in numpy
alone and through the engine with lakesmith's rewrites (SQL text and DataFrame functions)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lakesmith.engine.semantics.strict_math import IMPLEMENTATIONS

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "strict_math.json").read_text())


def _doubles(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8").copy()


X, Y = _doubles(GOLDEN["x"]), _doubles(GOLDEN["y"])
# golden column → (implementation, its arguments, where Spark's answer is not NULL)
CASES: dict[str, tuple[str, tuple[np.ndarray, ...], np.ndarray]] = {
    "ln": ("ln", (X,), np.isnan(X) | (X > 0)),
    "log10": ("log10", (X,), np.isnan(X) | (X > 0)),
    "log2": ("log2", (X,), np.isnan(X) | (X > 0)),
    "log1p": ("log1p", (X,), np.isnan(X) | (X > -1)),
    "log_b": ("log", (Y, X), (np.isnan(X) | (X > 0)) & (np.isnan(Y) | (Y > 0))),
    "pow": ("pow", (X, Y), np.full(X.shape, True)),
    "pow_yx": ("pow", (Y, X), np.full(X.shape, True)),
    "atan2": ("atan2", (Y, X), np.full(X.shape, True)),
    "hypot": ("hypot", (X, Y), np.full(X.shape, True)),
    **{name: (name, (X,), np.full(X.shape, True)) for name in (
        "exp", "expm1", "sinh", "cosh", "tanh", "asin", "acos", "atan", "cbrt", "asinh",
        "acosh", "atanh")},
}


def _spark(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(Spark's values, where they are NULL)."""
    nulls = np.zeros(X.shape, dtype=bool)
    nulls[GOLDEN["nulls"][name]] = True
    return _doubles(GOLDEN["results"][name]), nulls


def _differences(expected: np.ndarray, expected_null: np.ndarray, actual: np.ndarray,
                 actual_null: np.ndarray) -> list[int]:
    same_bits = expected.view(np.int64) == actual.view(np.int64)
    both_nan = np.isnan(expected) & np.isnan(actual)
    agree = (expected_null == actual_null) & (expected_null | same_bits | both_nan)
    return [int(i) for i in np.nonzero(~agree)[0]]


def test_the_golden_file_covers_every_ported_function() -> None:
    assert set(GOLDEN["functions"]) == set(CASES)
    trigonometry = {"sin", "cos", "sec", "csc"}  # HotSpot's intrinsics: test_hotspot_trig.py
    assert {implementation for implementation, _, _ in CASES.values()} == set(
        IMPLEMENTATIONS) - trigonometry


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_port_gives_sparks_bits(name: str) -> None:
    implementation, arguments, defined = CASES[name]
    with np.errstate(all="ignore"):
        actual = IMPLEMENTATIONS[implementation][1](*arguments)
    expected, expected_null = _spark(name)
    wrong = _differences(expected, expected_null, actual, ~defined)
    assert wrong == [], [(X[i], Y[i], expected[i], actual[i]) for i in wrong[:5]]


def test_the_platform_libm_is_not_sparks() -> None:
    """What the ports are for: numpy's libm (the engine's kind) rounds otherwise."""
    expected, _ = _spark("ln")
    positive = X > 0
    with np.errstate(all="ignore"):
        differ = np.log(X[positive]).view(np.int64) != expected[positive].view(np.int64)
    assert differ.sum() > 0


@pytest.fixture(scope="module")
def spark(sail_url: str) -> Iterator[Any]:
    from pyspark.sql.connect.session import SparkSession

    session = SparkSession.builder.remote(sail_url).create()
    yield session
    session.stop()


def test_the_engine_gives_sparks_bits_with_the_rewrites(spark: Any) -> None:
    """The whole sample through the engine: SQL text (registered UDFs) and DataFrame
    functions (inline UDFs), with Spark's NULL rules around them."""
    import pyarrow as pa
    from pyspark.sql import functions as F
    from pyspark.sql.connect import proto

    from lakesmith.engine.plans import dataframe_of, relation_of
    from lakesmith.engine.semantics import spark_semantics

    table = pa.table({"id": np.arange(len(X)), "x": X, "y": Y})
    spark.createDataFrame(table).createOrReplaceTempView("fdlibm_sample")  # NaN stays NaN
    relation = proto.Relation()
    relation.sql.query = "SELECT id, " + ", ".join(
        f"{sql} AS {name}" for name, sql in GOLDEN["functions"].items()) + " FROM fdlibm_sample"
    sql = dataframe_of(spark, relation)
    frame = spark.table("fdlibm_sample").select(
        "id", F.ln("x").alias("ln"), F.pow("y", "x").alias("pow_yx"),
        F.atan2("y", "x").alias("atan2"), F.log(F.col("y"), F.col("x")).alias("log_b"),
        F.cosh("x").alias("cosh"))
    for df in (sql, frame):
        rows = dataframe_of(spark, spark_semantics(spark, relation_of(df))).toArrow()
        rows = rows.sort_by("id")
        for name in rows.column_names[1:]:
            column = rows[name]
            nulls = column.is_null().to_numpy(zero_copy_only=False)
            values = np.where(nulls, 0.0, column.to_numpy(zero_copy_only=False)).astype(float)
            expected, expected_null = _spark(name)
            wrong = _differences(expected, expected_null, values, nulls)
            assert wrong == [], (name, [(X[i], Y[i], expected[i], values[i])
                                        for i in wrong[:5]])


@pytest.mark.parametrize(("calls", "expected"), [
    ("udfs['pow'](pd.Series([3.0]), pd.Series([0.9498871135024098])).tolist(), "
     "udfs['ln'](pd.Series([3.0])).tolist()", "[2.839300320336265] [1.0986122886681096]"),
    # HotSpot's sin/cos port and its computed tables (`hotspot_trig`) travel the same way
    ("udfs['sin'](pd.Series([7.311712193543694e+205])).tolist(), "
     "udfs['cos'](pd.Series([0.9999999999996372])).tolist()",
     "[-0.20641683641678285] [0.5403023058684451]"),
])
def test_the_udfs_run_where_lakesmith_is_not_installed(tmp_path: Path, calls: str,
                                                        expected: str) -> None:
    """An engine's Python workers get the functions' code (pickled by value), so a cluster
    needs numpy and pandas there, not lakesmith."""
    import subprocess
    import sys

    from pyspark import cloudpickle

    from lakesmith.engine.semantics.strict_math import _body

    payload = tmp_path / "udfs.pickle"
    payload.write_bytes(cloudpickle.dumps({name: _body(name)
                                           for name in ("pow", "ln", "sin", "cos")}))
    script = tmp_path / "worker.py"
    script.write_text(
        "import pickle, sys\n"
        "sys.modules['lakesmith'] = None  # importing lakesmith fails\n"
        "import pandas as pd\n"
        f"udfs = pickle.loads(open({str(payload)!r}, 'rb').read())\n"
        f"print({calls})\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
def test_no_udf_carries_a_module_by_value(name: str) -> None:
    """A module pickled by value travels with its whole namespace, `__loader__` included; under
    pytest (lakesmith is a pytest plugin, so pytest rewrites its modules) that loader holds the
    output capture, and pickling fails ("cannot pickle 'EncodedFile' object"): users' own test
    suites calling sin or cos failed so. The UDFs reference functions and values only."""
    from pyspark import cloudpickle

    from lakesmith.engine.semantics.strict_math import _body

    payload = cloudpickle.dumps(_body(name))
    assert b"dynamic_subimport" not in payload
