"""Query forms Spark SQL accepts and the engine's parser or analyser does not, rewritten into
forms it runs with the same answer: PIVOT's unparenthesised column (`sql_pivot`),
a qualified star over a USING or NATURAL join (`sql_using_stars`),
`* EXCEPT (...)` (`sql_star_except`), GROUP BY ALL and ORDER BY ALL (`sql_group_by_all`),
grouping expressions computed with a UDF by ordinal (`sql_grouping_ordinals`),
lateral column aliases (`sql_lateral_alias`) and QUALIFY
(`sql_qualify`). One block is rewritten at a time, innermost first (a block's probes read the
blocks inside it and the common table expressions before it), until none is left."""

from __future__ import annotations

from typing import Any

from lakesmith.engine.semantics.sql_blocks import SelectBlock, select_blocks
from lakesmith.engine.semantics.sql_group_by_all import (
    is_group_by_all,
    is_order_by_all,
    rewrite_group_by_all,
    rewrite_order_by_all,
)
from lakesmith.engine.semantics.sql_grouping_ordinals import (
    needs_grouping_ordinals,
    use_grouping_ordinals,
)
from lakesmith.engine.semantics.sql_lateral_alias import resolve_lateral_aliases
from lakesmith.engine.semantics.sql_pivot import parenthesise_pivot_columns
from lakesmith.engine.semantics.sql_qualify import check_grouped_qualify, rewrite_qualify
from lakesmith.engine.semantics.sql_scope import SqlScope
from lakesmith.engine.semantics.sql_star_except import expand_star_except, is_star_except
from lakesmith.engine.semantics.sql_using_stars import expand_using_stars

_MAX_STEPS = 1000  # each step removes one construct; a loop beyond this is a bug


def rewrite_query_forms(spark: Any, text: str) -> str:
    text = parenthesise_pivot_columns(text)
    for block in select_blocks(text):  # on the text as written: Spark's resolution
        if "qualify" in block.clauses and not any(i.star for i in block.items):
            check_grouped_qualify(text, block)
    done: set[tuple[str, int]] = set()  # blocks whose lateral aliases are resolved
    for _ in range(_MAX_STEPS):
        step = _next_step(spark, text, done)
        if step is None:
            return text
        text = step
    raise RuntimeError(f"query forms of {text[:200]!r} did not settle")


def _next_step(spark: Any, text: str, done: set[tuple[str, int]]) -> str | None:
    for block in sorted(select_blocks(text), key=lambda b: b.end):
        if "from" in block.clauses:
            expanded = expand_using_stars(spark, text, block)
            if expanded is not None:
                return expanded
        star = next((i for i in block.items if is_star_except(i)), None)
        if star is not None:
            return expand_star_except(SqlScope(spark, text, block), text, star)
        for applies, rewrite in ((is_group_by_all, rewrite_group_by_all),
                                 (is_order_by_all, rewrite_order_by_all)):
            if applies(text, block):
                rewritten = rewrite(SqlScope(spark, text, block), text, block)
                if rewritten != text:
                    return rewritten
        key = (text[block.start:block.end], block.start)
        if key not in done:
            done.add(key)
            rewritten = resolve_lateral_aliases(SqlScope(spark, text, block), text, block,
                                                _condition(block))
            if rewritten != text:
                return rewritten
        if "qualify" in block.clauses:
            return rewrite_qualify(spark, text, block)
        if needs_grouping_ordinals(text, block):
            rewritten = use_grouping_ordinals(text, block)
            if rewritten != text:
                return rewritten
    return None


def _condition(block: SelectBlock) -> tuple[int, int] | None:
    span = block.clauses.get("qualify")
    return None if span is None else (span[0] + len("QUALIFY"), span[1])
