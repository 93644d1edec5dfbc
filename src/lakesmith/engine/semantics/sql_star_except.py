"""`SELECT * EXCEPT (a, b)` (and `t.* EXCEPT (...)`): the engine reads EXCEPT there as the set
operator. The star is expanded to the columns it stands for (asked of the engine) without the
excepted ones, in order, as Spark does."""

from __future__ import annotations

from typing import Any

from sqlglot import TokenType

from lakesmith.engine.semantics.sql_blocks import SelectItem
from lakesmith.engine.semantics.sql_scope import Scope, quoted
from lakesmith.errors import LakesmithError, NotSupportedYet


def is_star_except(item: SelectItem) -> bool:
    kinds = [t.token_type for t in item.tokens]
    return item.star and TokenType.EXCEPT in kinds and \
        kinds[kinds.index(TokenType.EXCEPT) - 1] == TokenType.STAR


def expand_star_except(scope: Scope, text: str, item: SelectItem) -> str:
    """`text` with `item` (a star with EXCEPT) replaced by the columns it keeps."""
    written = text[item.start:item.end]
    kinds = [t.token_type for t in item.tokens]
    star = kinds.index(TokenType.STAR)
    qualifier = text[item.start:item.tokens[star - 1].start] if star > 0 else None
    excepted = excepted_names(item.tokens[star + 2:], written)
    columns = scope.columns(qualifier)
    if columns is None:
        raise NotSupportedYet(
            f"{written}: lakesmith could not find the columns the star stands for (its input "
            "reads an outer query, or names a qualifier lakesmith cannot resolve), and the "
            "engine cannot run * EXCEPT itself.",
            hint="list the columns you want instead of * EXCEPT (...).")
    lowered = [c.lower() for c in columns]
    for name in excepted:
        if name.lower() not in lowered:
            raise LakesmithError(
                f"[EXCEPT_UNRESOLVED_COLUMN] {written}: the column '{name}' is not among the "
                f"columns of {qualifier + '.*' if qualifier else '*'}: "
                f"{', '.join(columns)}.", hint=f"remove '{name}' from EXCEPT (...).")
    kept = [c for c in columns if c.lower() not in {n.lower() for n in excepted}]
    if len({c.lower() for c in kept}) < len(kept):
        raise NotSupportedYet(
            f"{written}: the columns it keeps have duplicate names ({', '.join(kept)}); "
            "lakesmith expands * EXCEPT by name and cannot tell them apart.",
            hint="qualify the star (t.* EXCEPT (...)) or list the columns.")
    if not kept:
        raise LakesmithError(f"{written} keeps no column.", hint="remove the item.")
    prefix = f"{qualifier}." if qualifier else ""
    expanded = ", ".join(prefix + quoted(c) for c in kept)
    return text[:item.start] + expanded + text[item.end:]


def excepted_names(tokens: list[Any], written: str) -> list[str]:
    """The names in `EXCEPT (a, b)` (a nested field, `s.a`, is refused)."""
    if not tokens or tokens[0].token_type != TokenType.L_PAREN \
            or tokens[-1].token_type != TokenType.R_PAREN:
        names = tokens
    else:
        names = tokens[1:-1]
    result = []
    for token in names:
        if token.token_type == TokenType.COMMA:
            continue
        if token.token_type not in (TokenType.VAR, TokenType.IDENTIFIER) and \
                not token.text.isidentifier():
            raise NotSupportedYet(
                f"{written}: lakesmith expands * EXCEPT over top-level columns only.",
                hint="select the struct's fields instead of excepting a nested field.")
        result.append(token.text)
    return result
