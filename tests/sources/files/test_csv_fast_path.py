"""Quote-free CSV files are cut by the engine; the result must be the tokenizer's, exactly."""

from __future__ import annotations

import random
from pathlib import Path

from lakesmith.locations import Location
from lakesmith.sources.files.formats.csv_format import (
    POSITION,
    RAW_RECORD,
    TOKENS,
    _engine_tokenized,
    _python_tokenized,
    dialect,
)
from lakesmith.sources.files.formats.file_table import INDEX, file_contents
from lakesmith.sources.files.inputs import InputFile


def rows(df):  # type: ignore[no-untyped-def]
    return sorted((r[INDEX], r[POSITION], r[RAW_RECORD], tuple(r[TOKENS]))
                  for r in df.select(INDEX, POSITION, RAW_RECORD, TOKENS).collect())


def test_engine_and_tokenizer_cut_quote_free_files_alike(spark, tmp_path: Path) -> None:
    generator = random.Random(7)
    files = []
    for n in range(4):
        lines = []
        for _ in range(60):
            kind = generator.random()
            if kind < 0.1:
                lines.append("")
            elif kind < 0.15:
                lines.append("# a comment")
            else:
                lines.append(";".join(generator.choice(["", "a", "b c", " x ", "1.5", "\\t"])
                                      for _ in range(generator.randint(1, 5))))
        ending = generator.choice(["\n", "\r\n", "\r"])
        text = ending.join(lines) + generator.choice(["", ending])
        path = tmp_path / f"f{n}.csv"
        path.write_bytes(text.encode())
        files.append(InputFile(Location.local(path), path.stat().st_size, 1_700_000_000_000))
    for options in ({"sep": ";"}, {"sep": ";", "comment": "#"}):
        settings = dialect(options, "test")
        contents = file_contents(spark, files, [], where="test")
        expected = rows(_python_tokenized(contents, settings))
        assert len(expected) > 150 and any(None in r[3] for r in expected)
        assert rows(_engine_tokenized(contents, settings)) == expected
