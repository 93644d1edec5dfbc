"""The SELECT blocks of a SQL text, found from sqlglot's tokens, with the spans of their parts:
each select-list item, the FROM clause (joins, LATERAL VIEW, PIVOT included), QUALIFY and what
follows it. Query-form rewrites (`query_forms`) edit these spans in the text, so everything
they do not touch reaches the engine exactly as written (sqlglot regenerating the text would
change column names, e.g. `sum(x)` written `SUM(x)`).

A block is what one SELECT keyword starts: it ends at a set operator, a closing parenthesis or
the end of its statement."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import Token, TokenType
from sqlglot.errors import TokenError

from lakesmith.engine.sql_dialect import DIALECT

_SET_OPERATORS = {TokenType.UNION, TokenType.INTERSECT, TokenType.EXCEPT}
_CLAUSES = {
    TokenType.FROM: "from", TokenType.WHERE: "where", TokenType.GROUP_BY: "group",
    TokenType.HAVING: "having", TokenType.QUALIFY: "qualify", TokenType.WINDOW: "window",
    TokenType.ORDER_BY: "order", TokenType.SORT_BY: "sort", TokenType.CLUSTER_BY: "cluster",
    TokenType.DISTRIBUTE_BY: "distribute", TokenType.LIMIT: "limit",
    TokenType.OFFSET: "offset",
}


@dataclass
class SelectItem:
    start: int
    end: int  # exclusive
    tokens: list[Token]

    @property
    def star(self) -> bool:
        """`*` or `t.*`, with or without `EXCEPT (...)`."""
        kinds = [t.token_type for t in self.tokens]
        return TokenType.STAR in kinds and (kinds[0] == TokenType.STAR or (
            len(kinds) >= 3 and kinds[kinds.index(TokenType.STAR) - 1] == TokenType.DOT))


@dataclass
class SelectBlock:
    start: int  # the SELECT keyword
    end: int  # exclusive: where the block's text ends
    depth: int
    items: list[SelectItem] = field(default_factory=list)
    # clause name → (start of its keyword, end of the clause), in the order written
    clauses: dict[str, tuple[int, int]] = field(default_factory=dict)
    cte_prefix: str = ""  # `WITH ...` of the common table expressions this block may read

    def clause_text(self, text: str, name: str) -> str | None:
        span = self.clauses.get(name)
        return None if span is None else text[span[0]:span[1]]

    @property
    def list_end(self) -> int:
        """Where the select list ends."""
        return min((s for s, _ in self.clauses.values()), default=self.end)


def tokens_of(text: str) -> list[Token] | None:
    try:
        return list(DIALECT().tokenize(text))
    except TokenError:
        return None


def select_blocks(text: str) -> list[SelectBlock]:
    """Every SELECT block of `text`, innermost blocks after the blocks that hold them."""
    tokens = tokens_of(text)
    if tokens is None:
        return []
    blocks: list[SelectBlock] = []
    open_: list[tuple[SelectBlock, int]] = []  # (block, index of its first token after SELECT)
    item_start: dict[int, int] = {}  # id(block) → token index where the current item starts
    clause: dict[int, str | None] = {}
    ctes = _cte_prefixes(text, tokens)
    depth = 0

    def close(block: SelectBlock, end_index: int) -> None:
        end = tokens[end_index - 1].end + 1 if end_index > 0 else block.start
        block.end = end
        if clause[id(block)] is None:
            _add_item(block, tokens, item_start[id(block)], end_index)
        else:
            name = clause[id(block)]
            assert name is not None
            block.clauses[name] = (block.clauses[name][0], end)

    for i, token in enumerate(tokens):
        kind = token.token_type
        if kind == TokenType.L_PAREN:
            depth += 1
            continue
        if kind in (TokenType.R_PAREN, TokenType.SEMICOLON):
            while open_ and (open_[-1][0].depth >= depth or kind == TokenType.SEMICOLON):
                close(open_.pop()[0], i)
            depth -= kind == TokenType.R_PAREN
            continue
        if kind == TokenType.SELECT:
            block = SelectBlock(token.start, len(text), depth,
                                cte_prefix=_prefix_for(ctes, token.start))
            blocks.append(block)
            open_.append((block, i + 1))
            item_start[id(block)] = i + 1
            clause[id(block)] = None
            continue
        if not open_ or open_[-1][0].depth != depth:
            continue
        block = open_[-1][0]
        if kind in _SET_OPERATORS and not (kind == TokenType.EXCEPT and i > 0
                                           and tokens[i - 1].token_type == TokenType.STAR):
            close(open_.pop()[0], i)
            continue
        if kind in _CLAUSES:
            name = _CLAUSES[kind]
            if name in block.clauses:
                continue  # e.g. a second LIMIT: not a form the rewrites look at
            if clause[id(block)] is None:
                _add_item(block, tokens, item_start[id(block)], i)
            else:
                previous = clause[id(block)]
                assert previous is not None
                block.clauses[previous] = (block.clauses[previous][0], _end_before(tokens, i))
            block.clauses[name] = (token.start, len(text))
            clause[id(block)] = name
            continue
        if kind == TokenType.COMMA and clause[id(block)] is None:
            _add_item(block, tokens, item_start[id(block)], i)
            item_start[id(block)] = i + 1
    while open_:
        close(open_.pop()[0], len(tokens))
    return blocks


def _end_before(tokens: list[Token], i: int) -> int:
    return tokens[i - 1].end + 1


def _add_item(block: SelectBlock, tokens: list[Token], first: int, stop: int) -> None:
    own = tokens[first:stop]
    if own and own[0].token_type == TokenType.DISTINCT and not block.items:
        own = own[1:]
    elif own and own[0].token_type == TokenType.ALL and not block.items:
        own = own[1:]
    if own:
        block.items.append(SelectItem(own[0].start, own[-1].end + 1, own))


@dataclass(frozen=True)
class _Cte:
    end: int  # after its closing parenthesis
    text: str  # `name AS (...)`


def _cte_prefixes(text: str, tokens: list[Token]) -> list[_Cte] | None:
    """The statement's common table expressions (a leading `WITH`), with their spans."""
    if not tokens or tokens[0].token_type != TokenType.WITH:
        return None
    ctes: list[_Cte] = []
    depth = 0
    start: int | None = None
    for token in tokens[1:]:
        kind = token.token_type
        if depth == 0 and start is None and kind != TokenType.COMMA:
            if kind == TokenType.SELECT:
                break
            start = token.start
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
            if depth == 0 and start is not None:
                ctes.append(_Cte(token.end + 1, text[start:token.end + 1]))
                start = None
    return ctes


def _prefix_for(ctes: list[_Cte] | None, position: int) -> str:
    """`WITH` and the CTEs defined before `position` (a block inside a CTE reads only the CTEs
    before it; the main query reads them all)."""
    if ctes is None:
        return ""
    before = [c.text for c in ctes if c.end <= position]
    return "" if not before else "WITH " + ", ".join(before) + " "
