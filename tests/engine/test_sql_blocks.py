"""The SELECT blocks of SQL text (spans of items and clauses) that query-form rewrites edit,
and PIVOT's column parenthesised: text in, text out, no engine."""

from __future__ import annotations

from lakesmith.engine.semantics.sql_blocks import select_blocks
from lakesmith.engine.semantics.sql_pivot import parenthesise_pivot_columns
from lakesmith.engine.semantics.sql_star_except import is_star_except

TEXT = ("WITH a AS (SELECT 1 x), b AS (SELECT * EXCEPT (x) FROM a) "
        "SELECT s.* EXCEPT (x), y z, `w` AS q FROM b s LEFT JOIN c ON 1=1 "
        "WHERE (SELECT max(1) FROM d) > 1 QUALIFY row_number() OVER (ORDER BY x) = 1 "
        "ORDER BY 1 LIMIT 3 UNION ALL SELECT 'a, b' AS s")


def _shown(text: str) -> list[tuple[str, list[str], dict[str, str], str]]:
    return [(text[b.start:b.end], [text[i.start:i.end] for i in b.items],
             {k: text[s:e] for k, (s, e) in b.clauses.items()}, b.cte_prefix)
            for b in select_blocks(text)]


def test_blocks_items_clauses_and_the_ctes_each_block_may_read() -> None:
    blocks = _shown(TEXT)
    assert blocks[0] == ("SELECT 1 x", ["1 x"], {}, "")
    assert blocks[1] == ("SELECT * EXCEPT (x) FROM a", ["* EXCEPT (x)"], {"from": "FROM a"},
                         "WITH a AS (SELECT 1 x) ")
    main_text, items, clauses, prefix = blocks[2]
    assert items == ["s.* EXCEPT (x)", "y z", "`w` AS q"]
    assert clauses == {
        "from": "FROM b s LEFT JOIN c ON 1=1",
        "where": "WHERE (SELECT max(1) FROM d) > 1",
        "qualify": "QUALIFY row_number() OVER (ORDER BY x) = 1",
        "order": "ORDER BY 1", "limit": "LIMIT 3"}
    assert prefix == "WITH a AS (SELECT 1 x), b AS (SELECT * EXCEPT (x) FROM a) "
    assert main_text.endswith("LIMIT 3")  # the set operator ends the block
    assert blocks[3][0] == "SELECT max(1) FROM d"
    assert blocks[4] == ("SELECT 'a, b' AS s", ["'a, b' AS s"], {}, prefix)


def test_a_star_except_is_not_the_set_operator() -> None:
    (block,) = [b for b in select_blocks("SELECT * EXCEPT (a) FROM t") if b.depth == 0]
    assert [is_star_except(i) for i in block.items] == [True]
    first, second = select_blocks("SELECT * FROM t EXCEPT SELECT * FROM u")
    assert [is_star_except(i) for i in first.items] == [False]
    assert "from" in first.clauses and "from" in second.clauses


def test_pivot_column_is_parenthesised_once() -> None:
    text = ("SELECT * FROM (SELECT k, p, q FROM t) PIVOT (sum(q) AS s, count(*) FOR p IN "
            "('a' AS a, 'b'))")
    assert parenthesise_pivot_columns(text) == text.replace("FOR p IN", "FOR (p) IN")
    already = "SELECT * FROM t PIVOT (sum(q) FOR (p, r) IN (('a', 1) AS a1))"
    assert parenthesise_pivot_columns(already) == already
    assert parenthesise_pivot_columns("SELECT 'PIVOT (x FOR y IN' AS s") == \
        "SELECT 'PIVOT (x FOR y IN' AS s"
