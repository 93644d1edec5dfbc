"""SQL `PIVOT (agg FOR column IN (...))`: the engine's parser takes the pivot column only in
parentheses (`FOR (column) IN`), which Spark accepts too and computes alike; the column is
parenthesised."""

from __future__ import annotations

from sqlglot import TokenType

from lakesmith.engine.semantics.sql_blocks import tokens_of


def parenthesise_pivot_columns(text: str) -> str:
    tokens = tokens_of(text)
    if tokens is None or not any(t.token_type == TokenType.PIVOT for t in tokens):
        return text
    inserts: list[tuple[int, int]] = []  # (start of the column, end of the column)
    depth = 0
    pivot_depths: list[int] = []
    for i, token in enumerate(tokens):
        kind = token.token_type
        if kind == TokenType.PIVOT and i + 1 < len(tokens) and \
                tokens[i + 1].token_type == TokenType.L_PAREN:
            pivot_depths.append(depth + 1)
        elif kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            if pivot_depths and pivot_depths[-1] == depth:
                pivot_depths.pop()
            depth -= 1
        elif kind == TokenType.FOR and pivot_depths and pivot_depths[-1] == depth:
            following = tokens[i + 1:]
            if not following or following[0].token_type == TokenType.L_PAREN:
                continue
            stop = next((j for j, t in enumerate(following) if t.token_type == TokenType.IN), None)
            if stop:
                inserts.append((following[0].start, following[stop - 1].end + 1))
    for start, end in reversed(inserts):
        text = f"{text[:start]}({text[start:end]}){text[end:]}"
    return text
