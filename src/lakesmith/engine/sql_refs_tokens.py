"""The tables a query reads, found from its tokens when sqlglot cannot parse it (Spark SQL that
sqlglot does not know, such as `GROUP BY CUBE(upper(trim(x)), q IS NULL)`): the engine analyses
the query itself later, so lakesmith only needs the names after `FROM` / `JOIN` (and the commas of
a FROM list), and `STREAM(...)` around them. A query reading files (`read_files(...)`) still
needs the parser: None is returned and the parse error stands."""

from __future__ import annotations

from sqlglot import Token, TokenType

from lakesmith.engine.sql_files import FILE_FUNCTIONS

_CLAUSE_ENDS = frozenset({"WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "UNION", "EXCEPT",
                          "INTERSECT", "MINUS", "QUALIFY", "WINDOW", "CLUSTER", "DISTRIBUTE",
                          "SORT", "LATERAL", "PIVOT", "UNPIVOT", "ON", "USING", "SELECT"})


def table_names_from_tokens(tokens: list[Token], text: str
                            ) -> list[tuple[tuple[str, ...], int, int]] | None:
    """(name parts, start, end) of each table read, in text order; CTE names left out; None
    when the query calls a file-reading function."""
    if any(t.text.lower() in FILE_FUNCTIONS for t in tokens if t.token_type != TokenType.STRING):
        return None
    ctes = _cte_names(tokens)
    found: list[tuple[tuple[str, ...], int, int]] = []
    from_depth: set[int] = set()  # paren depths at which a FROM list is open
    depth = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind, word = token.token_type, token.text.upper()
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            from_depth.discard(depth)
            depth -= 1
        elif word in _CLAUSE_ENDS and kind != TokenType.IDENTIFIER:
            from_depth.discard(depth)
        if (kind in (TokenType.FROM, TokenType.JOIN)
                or (kind == TokenType.COMMA and depth in from_depth)):
            if kind != TokenType.COMMA:
                from_depth.add(depth)
            name = _name_at(tokens, i + 1, text)
            if name is not None:
                parts, start, end, next_index = name
                if not (len(parts) == 1 and parts[0].lower() in ctes):
                    found.append((parts, start, end))
                i = next_index
                continue
        i += 1
    return found


def _name_at(tokens: list[Token], i: int, text: str
             ) -> tuple[tuple[str, ...], int, int, int] | None:
    """A dotted name starting at token i (not a call, not a subquery)."""
    parts: list[str] = []
    start = end = None
    j = i
    while j < len(tokens):
        token = tokens[j]
        if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER) or (
                token.text.isidentifier() and token.token_type not in (
                    TokenType.SELECT, TokenType.VALUES, TokenType.L_PAREN)):
            quoted = token.token_type == TokenType.IDENTIFIER
            token_start = token.start - 1 if quoted and text[token.start - 1:token.start] == "`" \
                else token.start
            start = token_start if start is None else start
            end = token.end + 1 + (1 if quoted and text[token.end + 1:token.end + 2] == "`" else 0)
            parts.append(token.text)
            if j + 1 < len(tokens) and tokens[j + 1].token_type == TokenType.DOT:
                j += 2
                continue
            if j + 1 < len(tokens) and tokens[j + 1].token_type == TokenType.L_PAREN:
                return None  # a table-valued function such as range(10)
            assert start is not None and end is not None
            return tuple(parts), start, end, j + 1
        return None
    return None


def _cte_names(tokens: list[Token]) -> set[str]:
    names: set[str] = set()
    for i, token in enumerate(tokens[:-2]):
        if token.token_type in (TokenType.WITH, TokenType.COMMA) and \
                tokens[i + 2].token_type == TokenType.ALIAS and i + 3 < len(tokens) and \
                tokens[i + 3].token_type == TokenType.L_PAREN:
            names.add(tokens[i + 1].text.lower())
    return names
