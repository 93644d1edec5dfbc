"""Keys the engine cannot type alone (a correlated subquery's key naming an enclosing query's
column) and SQL text sqlglot cannot parse: typed another way and rewritten, or refused only when
a key could be FLOAT/DOUBLE; never refused when none can be. (The engine cannot run such
correlated queries yet, so these are checked on the rewritten text; conformance cases
`float_keys/unparsed_*` run the unparsed forms.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lakesmith.engine.semantics.sql_float_keys import normalize_float_keys_sql
from lakesmith.engine.semantics.typing import sql_schema_probe
from lakesmith.errors import NotSupportedYet


@pytest.fixture
def probe(spark: Any) -> Iterator[Any]:
    spark.sql("CREATE OR REPLACE TEMP VIEW fk AS SELECT CAST(d AS DOUBLE) AS d, "
              "CAST(o AS INT) AS o FROM VALUES (-0.0D, 1), (0.0D, 2) AS t(d, o)")
    spark.sql("CREATE OR REPLACE TEMP VIEW ik AS SELECT o, CAST(o AS STRING) AS s FROM fk")
    yield sql_schema_probe(spark, {})


def test_a_correlated_key_is_typed_with_the_enclosing_from(probe: Any) -> None:
    text = ("SELECT o FROM fk a WHERE EXISTS "
            "(SELECT 1 FROM fk b GROUP BY b.d + a.d HAVING count(*) > 1)")
    rewritten = normalize_float_keys_sql(text, probe)
    assert "isnan((b.d + a.d))" in rewritten and "CAST(0.0 AS DOUBLE)" in rewritten, rewritten


def test_a_correlated_integer_key_is_left_as_written(probe: Any) -> None:
    text = "SELECT o FROM fk a WHERE EXISTS (SELECT 1 FROM fk b GROUP BY b.o + a.o)"
    assert normalize_float_keys_sql(text, probe) == text


def test_a_key_that_cannot_be_typed_is_refused_when_it_could_be_double(probe: Any) -> None:
    # `d` is ambiguous once the enclosing FROM is joined in: the key cannot be typed
    text = ("SELECT x FROM (SELECT d AS x, d FROM fk) t WHERE EXISTS "
            "(SELECT 1 FROM fk GROUP BY x + d)")
    with pytest.raises(NotSupportedYet, match=r"the key x \+ d of a nested query"):
        normalize_float_keys_sql(text, probe)


def test_unparsed_text_over_integers_is_left_to_the_engine(probe: Any) -> None:
    text = "SELECT o, count(*) AS c FROM ik GROUP BY CUBE(o, s IS NULL)"
    assert normalize_float_keys_sql(text, probe) == text
    with pytest.raises(NotSupportedYet, match="it computes values that can be FLOAT or DOUBLE"):
        normalize_float_keys_sql("SELECT count(*) AS c FROM ik GROUP BY CUBE(o / 2, s IS NULL)",
                                 probe)
    with pytest.raises(NotSupportedYet, match="it reads fk, which has a FLOAT or DOUBLE column"):
        normalize_float_keys_sql("SELECT d, count(*) FROM fk GROUP BY CUBE(d, o IS NULL)", probe)
