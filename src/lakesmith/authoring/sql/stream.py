"""A cursor over one statement's tokens: what the recursive-descent header parsers read from.

It matches keywords by spelling (case-insensitive), slices verbatim source text between tokens,
and builds the errors: every error names the file and the line of the token it is about.
"""

from __future__ import annotations

from lakesmith.authoring.sql.lexer import Token, TokenType, raw_text, word_of
from lakesmith.errors import SqlDefinitionError
from lakesmith.source_location import SourceLocation

_SHOWN_TOKEN_CHARS = 40


class TokenStream:
    def __init__(self, text: str, tokens: list[Token], path: str, line: int) -> None:
        self.text = text
        self.tokens = tokens
        self.path = path
        self.line = line  # line of text[0] in the file
        self.pos = 0

    # -- looking ahead ---------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token | None:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else None

    @property
    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def word(self, ahead: int = 0) -> str | None:
        """The keyword (upper-cased) or plain name at `ahead`, None for anything else."""
        token = self.peek(ahead)
        return word_of(self.text, token) if token is not None else None

    def at(self, *words: str) -> bool:
        """Whether the next tokens spell `words` (each one word, e.g. `at("SEQUENCE", "BY")`)."""
        return all(self.word(i) == w for i, w in enumerate(words))

    def at_punct(self, token_type: TokenType, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token is not None and token.token_type is token_type

    # -- consuming -------------------------------------------------------------------------------

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.unexpected("more")
        self.pos += 1
        return token

    def accept(self, *words: str) -> Token | None:
        """Consume `words` if they come next; return the first of their tokens."""
        if not self.at(*words):
            return None
        first = self.tokens[self.pos]
        self.pos += len(words)
        return first

    def expect(self, *words: str, after: str | None = None) -> Token:
        token = self.accept(*words)
        if token is None:
            raise self.unexpected(" ".join(words), after)
        return token

    def accept_punct(self, token_type: TokenType) -> Token | None:
        if not self.at_punct(token_type):
            return None
        return self.next()

    def expect_punct(self, token_type: TokenType, shown: str, after: str | None = None) -> Token:
        token = self.accept_punct(token_type)
        if token is None:
            raise self.unexpected(shown, after)
        return token

    def rest(self) -> tuple[str, Token] | None:
        """Consume every remaining token; their source text, verbatim, and the first of them."""
        if self.at_end:
            return None
        first, last = self.tokens[self.pos], self.tokens[-1]
        self.pos = len(self.tokens)
        return self.slice(first, last), first

    # -- source text and locations ---------------------------------------------------------------

    def slice(self, first: Token, last: Token) -> str:
        """The source text from `first` to `last`, both included, exactly as written."""
        return self.text[first.start:last.end + 1]

    def raw(self, token: Token) -> str:
        return raw_text(self.text, token)

    def line_of(self, token: Token | None) -> int:
        offset = token.start if token is not None else len(self.text)
        return self.line + self.text.count("\n", 0, offset)

    def location(self, token: Token | None = None) -> SourceLocation:
        """Where `token` is; without one, where the statement starts."""
        return SourceLocation(self.path, self.line if token is None else self.line_of(token))

    # -- errors ----------------------------------------------------------------------------------

    def error(self, message: str, token: Token | None = None, *, hint: str | None = None
              ) -> SqlDefinitionError:
        """An error about `token` (default: the statement)."""
        return SqlDefinitionError(message, self.location(token), hint=hint)

    def found(self) -> str:
        token = self.peek()
        if token is None:
            return "the end of the statement"
        shown = self.raw(token)
        if len(shown) > _SHOWN_TOKEN_CHARS:
            shown = shown[:_SHOWN_TOKEN_CHARS] + "…"
        return repr(shown) if "'" not in shown else f'"{shown}"'

    def unexpected(self, expected: str, after: str | None = None, *, hint: str | None = None
                   ) -> SqlDefinitionError:
        """`expected X [after Y], found 'Z'`, pointing at the line of Z."""
        token = self.peek()
        where = f" after {after}" if after else ""
        if hint is None and self._at_unset_variable():
            hint = (f"${{{self._variable_name()}}} is not set: define it in the pipeline "
                    "configuration or with SET before this statement")
        return SqlDefinitionError(
            f"expected {expected}{where}, found {self.found()}",
            SourceLocation(self.path, self.line_of(token)),
            hint=hint,
        )

    def _at_unset_variable(self) -> bool:
        return (self.at_punct(TokenType.PARAMETER) and self.raw(self.tokens[self.pos]) == "$"
                and self.at_punct(TokenType.L_BRACE, 1))

    def _variable_name(self) -> str:
        start = self.tokens[self.pos].end + 2
        end = self.text.find("}", start)
        return self.text[start:end] if end != -1 else self.text[start:]
