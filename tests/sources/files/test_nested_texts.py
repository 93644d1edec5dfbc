"""The quoted parse of nested STRING values (sources/files/formats/nested_texts.py) is taken by
every record holding a number the engine's parse would write otherwise: checked against the
engine itself on numbers of every shape, so an engine whose number formatting changes fails
here rather than answering silently otherwise than Spark."""

from __future__ import annotations

import random

from pyspark.sql import functions as F

from lakesmith.sources.files.formats.nested_texts import may_rewrite_numbers, numbers_quoted

SHAPES = ["3.5", "-0", "-0.0", "0", "0.0", "0.001", "0.00001", "0.000001", "1e-7", "1E5", "0.5e1",
          "123456789012345", "1234567890123456", "12345678901234567890", "18446744073709551616",
          "-9223372036854775809", "1000000000000000.5", "99999999999999.99", "1e15",
          "10000000000000000.0", "3.141592653589793", "12.30", "1.0", "10.0", "2.50", "100"]


def _numbers() -> list[str]:
    rng = random.Random(7)
    numbers = list(SHAPES)
    for _ in range(400):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 19)))
        digits = digits.lstrip("0") or "0"
        point = rng.randint(0, len(digits))
        text = digits if point in (0, len(digits)) else f"{digits[:point]}.{digits[point:]}"
        if text.startswith("."):
            text = "0" + text
        if rng.random() < 0.2:
            text += f"e{rng.randint(-30, 30)}"
        numbers.append(("-" if rng.random() < 0.3 else "") + text)
    return numbers


def test_every_number_the_parse_rewrites_takes_the_quoted_parse(spark) -> None:
    records = [(f'{{"s": {{"a": {n}}}, "y": [{n}]}}', n) for n in _numbers()]
    df = spark.createDataFrame(records, "record string, n string")
    parsed = F.from_json("record", "s struct<a: string>, y array<string>")
    quoted = F.from_json(numbers_quoted(F.col("record")), "s struct<a: string>, y array<string>")
    rows = df.select("n", parsed["s"]["a"].alias("plain"), quoted["s"]["a"].alias("quoted"),
                     quoted["y"][0].alias("element"),
                     may_rewrite_numbers(F.col("record")).alias("gate")).collect()
    assert len(rows) == len(records)
    missed = [(r.n, r.plain) for r in rows if r.plain != r.n and not r.gate]
    assert missed == []
    assert [r.n for r in rows if r.quoted != r.n or r.element != r.n] == []
    # The gate is not always on: plain integers and short decimals pass without it.
    assert {r.n: r.gate for r in rows if r.n in ("0", "100", "0.001", "3.5")} == {
        "0": False, "100": False, "0.001": False, "3.5": False}


def test_numbers_inside_strings_stay_as_they_are(spark) -> None:
    text = '{"s": {"a": "x: 1.50, \\" -0 [2]", "b": 1.50}}'
    df = spark.createDataFrame([(text,)], "record string")
    (row,) = df.select(F.from_json(numbers_quoted(F.col("record")), "s struct<a: string, "
                                   "b: string>")["s"].alias("s")).collect()
    assert (row.s.a, row.s.b) == ('x: 1.50, " -0 [2]', "1.50")
