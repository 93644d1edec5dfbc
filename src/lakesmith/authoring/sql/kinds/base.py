"""What a statement kind is: something that recognises a statement by its first words and turns
it into graph definitions. Each kind is one module in this package; `kinds/__init__.py` lists them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.graph.datasets import Dataset
from lakesmith.graph.flows import AnyFlow

Definition = Dataset | AnyFlow

# Words that may come between `CREATE [OR …]` and the kind of object it creates.
_CREATE_MODIFIERS = frozenset(
    {"PRIVATE", "TEMPORARY", "TEMP", "GLOBAL", "LIVE", "STREAMING", "INCREMENTAL", "MATERIALIZED",
     "EXTERNAL"}
)
_LEAD_WORDS = 4


@dataclass(frozen=True)
class CreateHeader:
    """`CREATE [OR REFRESH|REPLACE] modifier… OBJECT`, e.g. `CREATE OR REFRESH STREAMING TABLE`."""

    or_clause: str | None  # "REFRESH", "REPLACE" or None
    words: tuple[str, ...]  # the modifiers and the object word, TEMP spelled TEMPORARY
    length: int  # in tokens

    @property
    def spelling(self) -> str:
        or_clause = ["OR", self.or_clause] if self.or_clause else []
        return " ".join(["CREATE", *or_clause, *self.words])


@dataclass(frozen=True)
class Lead:
    """How a statement starts: its first words (None where a token is not a word) and, for a
    CREATE statement, its header."""

    words: tuple[str | None, ...]
    create: CreateHeader | None

    @classmethod
    def read(cls, stream: TokenStream) -> Lead:
        words = tuple(stream.word(i) for i in range(_LEAD_WORDS))
        return cls(words, _read_create_header(stream) if words[0] == "CREATE" else None)

    @property
    def spelling(self) -> str:
        """The statement's kind as written, for messages: `CREATE TABLE`, `INSERT INTO`."""
        if self.create is not None:
            return self.create.spelling
        first = self.words[0]
        if first is None:
            return "this statement"
        second = self.words[1]
        return f"{first} {second}" if second in _SECOND_WORDS else first


_SECOND_WORDS = frozenset(
    {"TABLE", "VIEW", "INTO", "OVERWRITE", "FROM", "SCHEMA", "DATABASE", "CATALOG", "NAMESPACE",
     "FUNCTION", "MATERIALIZED", "STREAMING", "TEMPORARY", "VARIABLE", "VAR", "CHANGES", "CDC"}
)


def _read_create_header(stream: TokenStream) -> CreateHeader:
    i = 1
    or_clause = None
    if stream.word(i) == "OR" and stream.word(i + 1) is not None:
        or_clause = stream.word(i + 1)
        i += 2
    words: list[str] = []
    while (word := stream.word(i)) in _CREATE_MODIFIERS:
        words.append("TEMPORARY" if word == "TEMP" else word)
        i += 1
    if (word := stream.word(i)) is not None:
        words.append(word)
        i += 1
    return CreateHeader(or_clause, tuple(words), i)


class StatementKind(ABC):
    """One kind of statement a pipeline SQL file may contain."""

    # How the kind is named in "supported statements" messages.
    title: ClassVar[str]

    @abstractmethod
    def matches(self, lead: Lead) -> bool:
        """Whether a statement starting with `lead` is of this kind."""

    @abstractmethod
    def parse(self, stream: TokenStream, context: FileContext) -> list[Definition]:
        """The statement's definitions; the stream is at its first token, and every token must be
        consumed."""


class CreateStatementKind(StatementKind):
    """A kind spelled `CREATE [OR …] words…`."""

    # The accepted `words` of the header (modifiers and object word), e.g. ("STREAMING", "TABLE").
    spellings: ClassVar[frozenset[tuple[str, ...]]]
    or_clauses: ClassVar[frozenset[str | None]] = frozenset({None, "REFRESH"})

    def matches(self, lead: Lead) -> bool:
        return (lead.create is not None and lead.create.words in self.spellings
                and lead.create.or_clause in self.or_clauses)

    def read_header(self, stream: TokenStream) -> CreateHeader:
        """Consume the `CREATE …` header."""
        header = _read_create_header(stream)
        stream.pos += header.length
        return header
