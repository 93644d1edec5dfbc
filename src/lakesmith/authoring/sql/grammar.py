"""Grammar pieces every statement kind shares: names, string literals, name lists, property lists,
expressions kept as text, and the query after `AS`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lakesmith.authoring.sql.lexer import Token, TokenType, is_string
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.graph.flows import SqlQuery
from lakesmith.graph.identifiers import quote_part

# Words a Spark query can start with (besides an opening parenthesis).
QUERY_STARTS = frozenset({"SELECT", "WITH", "FROM", "VALUES", "TABLE", "MAP", "REDUCE"})

_OPENERS = {TokenType.L_PAREN: TokenType.R_PAREN, TokenType.L_BRACKET: TokenType.R_BRACKET,
            TokenType.L_BRACE: TokenType.R_BRACE}
_CLOSERS = frozenset(_OPENERS.values())


@dataclass(frozen=True)
class Name:
    """A possibly qualified name (`x`, `live.x`, `` cat.`my schema`.x ``) as the user wrote it."""

    parts: tuple[str, ...]
    token: Token  # its first token

    @property
    def text(self) -> str:
        """The name with backquotes only where a part needs them."""
        return ".".join(quote_part(p) for p in self.parts)


def _name_part(stream: TokenStream) -> str | None:
    token = stream.peek()
    if token is None:
        return None
    if token.token_type is TokenType.IDENTIFIER:  # backquoted; sqlglot has undone the quoting
        stream.next()
        return token.text
    if stream.word() is not None:
        stream.next()
        return stream.raw(token)
    return None


def parse_name(stream: TokenStream, what: str, after: str | None = None) -> Name:
    """`part(.part)*`."""
    first = stream.peek()
    part = _name_part(stream)
    if part is None or first is None:
        raise stream.unexpected(what, after)
    parts = [part]
    while stream.accept_punct(TokenType.DOT):
        part = _name_part(stream)
        if part is None:
            raise stream.unexpected("a name", "'.'")
        parts.append(part)
    return Name(tuple(parts), first)


def parse_identifier(stream: TokenStream, what: str, after: str | None = None) -> Name:
    """A single, unqualified name."""
    name = parse_name(stream, what, after)
    if len(name.parts) != 1:
        raise stream.error(f"{what} must be a single name, not the qualified name {name.text}",
                           name.token)
    return name


def parse_string(stream: TokenStream, what: str, after: str | None = None) -> str:
    """A string literal; adjacent literals are concatenated, as Spark does (`'a' 'b'` is `'ab'`),
    and a doubled quote inside one is the quote (`'it''s'` is `it's`, Spark 4's reading; the
    tokenizer sees two literals touching)."""
    token = stream.peek()
    if token is None or not is_string(token):
        raise stream.unexpected(what, after)
    parts = []
    previous = None
    while (token := stream.peek()) is not None and is_string(token):
        if previous is not None and token.start == previous.end + 1:
            quote = stream.raw(previous)[-1]
            if stream.raw(token)[:1] == quote:
                parts.append(quote)
        previous = stream.next()
        parts.append(previous.text)
    return "".join(parts)


def parse_name_list(stream: TokenStream, what: str, after: str | None = None,
                    *, single_part: bool = False) -> tuple[str, ...]:
    """`(name, ...)`, at least one name."""
    stream.expect_punct(TokenType.L_PAREN, f"'(' and {what}", after)
    names = parse_bare_name_list(stream, what, single_part=single_part)
    stream.expect_punct(TokenType.R_PAREN, "',' or ')'", f"the list of {what}")
    return names


def parse_bare_name_list(stream: TokenStream, what: str, after: str | None = None,
                         *, single_part: bool = False) -> tuple[str, ...]:
    """`name, ...` without parentheses, at least one name."""
    parse = parse_identifier if single_part else parse_name
    names = [parse(stream, what, after).text]
    while stream.accept_punct(TokenType.COMMA):
        names.append(parse(stream, what).text)
    return tuple(names)


def parse_text_until(stream: TokenStream, stop: Callable[[TokenStream], bool], what: str,
                     after: str | None = None) -> tuple[str, Token]:
    """An expression kept as verbatim source text: every token up to the end of the statement,
    an unmatched closing bracket, or a point outside brackets where `stop` is true."""
    first = stream.peek()
    last: Token | None = None
    depth = 0
    while (token := stream.peek()) is not None:
        if depth == 0 and (token.token_type in _CLOSERS or stop(stream)):
            break
        if token.token_type in _OPENERS:
            depth += 1
        elif token.token_type in _CLOSERS:
            depth -= 1
        last = stream.next()
    if first is None or last is None:
        raise stream.unexpected(what, after)
    return stream.slice(first, last), first


def parse_parenthesized_text(stream: TokenStream, what: str, after: str | None = None
                             ) -> tuple[str, Token]:
    """`( expression )`: the expression's text without the parentheses."""
    stream.expect_punct(TokenType.L_PAREN, f"'(' and {what}", after)
    text, first = parse_text_until(stream, lambda _: False, what, "'('")
    stream.expect_punct(TokenType.R_PAREN, "')'", what)
    return text, first


def parse_query(stream: TokenStream, after: str) -> SqlQuery:
    """The rest of the statement, verbatim, as the query."""
    if not (stream.word() in QUERY_STARTS or stream.at_punct(TokenType.L_PAREN)):
        raise stream.unexpected("a query (SELECT, WITH, FROM, VALUES, TABLE or '(')", after)
    rest = stream.rest()
    assert rest is not None
    text, first = rest
    return SqlQuery(text, stream.location(first))


def parse_properties(stream: TokenStream, after: str) -> dict[str, str]:
    """`(key = value, ...)`: keys are string literals or dotted names, values are literals."""
    stream.expect_punct(TokenType.L_PAREN, "'(' and table properties", after)
    properties: dict[str, str] = {}
    while True:
        key_token = stream.peek()
        if key_token is not None and is_string(key_token):
            key = parse_string(stream, "a property key")
        else:
            key = ".".join(parse_name(stream, "a property key", "'(' or ','").parts)
        stream.accept_punct(TokenType.EQ)
        value = _property_value(stream, key)
        if key in properties:
            raise stream.error(f"duplicate table property {key!r}", key_token)
        properties[key] = value
        if not stream.accept_punct(TokenType.COMMA):
            break
    stream.expect_punct(TokenType.R_PAREN, "',' or ')'", "a table property")
    return properties


def _property_value(stream: TokenStream, key: str) -> str:
    token = stream.peek()
    if token is not None and is_string(token):
        return parse_string(stream, "a property value")
    if token is not None and token.token_type is TokenType.NUMBER:
        return stream.next().text
    if stream.word() in ("TRUE", "FALSE"):
        return stream.next().text.lower()
    raise stream.unexpected("a string, number or boolean value", f"property {key!r}")
