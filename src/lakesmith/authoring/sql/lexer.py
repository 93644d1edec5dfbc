"""Tokens of pipeline SQL, from sqlglot's Databricks tokenizer (Spark's quoting and comment rules).

Only the tokenizer is borrowed from sqlglot: it knows Spark's string literals (`'…'`, `"…"`, `r'…'`,
backslash escapes), backquoted names, `--` and nested `/* */` comments. Every token keeps its
offsets, so the parser can slice the source text verbatim.
"""

from __future__ import annotations

import re

from sqlglot import Token, TokenType
from sqlglot.dialects.databricks import Databricks
from sqlglot.errors import TokenError

__all__ = ["LexError", "Token", "TokenType", "tokenize", "word_of", "is_string", "raw_text"]

_DIALECT = Databricks()
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s")
_NON_SPACE = re.compile(r"\S+")

STRING_TYPES = frozenset({TokenType.STRING, TokenType.RAW_STRING})


class LexError(Exception):
    """The text cannot be split into tokens; `offset` is where the bad token starts."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def tokenize(text: str) -> list[Token]:
    tokenizer = _DIALECT.tokenizer()
    try:
        tokens = tokenizer.tokenize(text)
    except TokenError as e:
        # sqlglot does not put the position in the exception; its core remembers where the token
        # it failed on started.
        offset = getattr(getattr(tokenizer, "_core", None), "_start", None)
        offset = offset if isinstance(offset, int) and 0 <= offset < len(text) else 0
        raise LexError(_describe_failure(text, offset), offset) from e
    return [piece for token in tokens for piece in _split_multi_word(text, token)]


def _split_multi_word(text: str, token: Token) -> list[Token]:
    """sqlglot reads some keyword pairs as one token (`PARTITIONED BY`, `CLUSTER BY`, `PRIMARY
    KEY`); split them back into one token a word."""
    raw = raw_text(text, token)
    if token.token_type in STRING_TYPES or token.token_type is TokenType.IDENTIFIER or (
        not _SPACE.search(raw)
    ):
        return [token]
    return [
        Token(TokenType.VAR, m.group(), token.line, token.col, token.start + m.start(),
              token.start + m.end() - 1)
        for m in _NON_SPACE.finditer(raw)
    ]


def _describe_failure(text: str, offset: int) -> str:
    opener = text[offset] if offset < len(text) else ""
    if opener in ("'", '"'):
        return f"unclosed string literal starting with {opener}"
    if opener == "`":
        return "unclosed backquoted name"
    if text.startswith("/*", offset):
        return "unclosed /* comment"
    return f"cannot read the SQL text near {text[offset:offset + 20]!r}"


def raw_text(text: str, token: Token) -> str:
    """The token exactly as written (quotes and escapes included)."""
    return text[token.start:token.end + 1]


def word_of(text: str, token: Token) -> str | None:
    """The upper-cased keyword or plain name a token spells, or None for quoted names, literals
    and punctuation. Keywords are matched on this, never on sqlglot's token types, which follow
    sqlglot's grammar rather than Spark's."""
    if token.token_type is TokenType.NUMBER or token.token_type in STRING_TYPES:
        return None
    raw = raw_text(text, token)
    if raw != token.text or not _WORD.fullmatch(raw):
        return None
    return raw.upper()


def is_string(token: Token) -> bool:
    return token.token_type in STRING_TYPES
