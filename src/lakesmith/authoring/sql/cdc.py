"""The clauses of an AUTO CDC flow (`AUTO CDC INTO`, `APPLY CHANGES INTO`, `FLOW AUTO CDC`):

    FROM STREAM(source)
    KEYS (key, ...)
    [IGNORE NULL UPDATES]
    [APPLY AS DELETE WHEN condition]
    [APPLY AS TRUNCATE WHEN condition]
    SEQUENCE BY expression
    [COLUMNS * | COLUMNS (a, b) | COLUMNS * EXCEPT (a, b)]
    [STORED AS SCD TYPE 1 | 2]
    [TRACK HISTORY ON * | TRACK HISTORY ON (a, b) | TRACK HISTORY ON * EXCEPT (a, b)]

`FROM` comes first; the other clauses may come in any order, each at most once. Conditions and the
sequencing expression are kept as SQL text; column lists as tuples of names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.grammar import (
    parse_bare_name_list,
    parse_name,
    parse_name_list,
    parse_text_until,
)
from lakesmith.authoring.sql.lexer import TokenType
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.graph.flows import AutoCdcFlow
from lakesmith.source_location import SourceLocation

Fields = dict[str, Any]


def _keys(stream: TokenStream) -> Fields:
    return {"keys": parse_name_list(stream, "key columns", "KEYS")}


def _ignore_null_updates(stream: TokenStream) -> Fields:
    if stream.at("ON"):
        raise stream.error("IGNORE NULL UPDATES ON a column list is not supported yet; "
                           "IGNORE NULL UPDATES applies to every column", stream.peek())
    return {"ignore_null_updates": True}


def _apply_as_deletes(stream: TokenStream) -> Fields:
    return {"apply_as_deletes": _expression(stream, "a condition", "APPLY AS DELETE WHEN")}


def _apply_as_truncates(stream: TokenStream) -> Fields:
    return {"apply_as_truncates": _expression(stream, "a condition", "APPLY AS TRUNCATE WHEN")}


def _sequence_by(stream: TokenStream) -> Fields:
    return {"sequence_by": _expression(stream, "an expression", "SEQUENCE BY")}


def _columns(stream: TokenStream) -> Fields:
    if stream.at("TO", "UPDATE"):
        raise stream.error("COLUMNS TO UPDATE is not supported yet", stream.peek())
    included, excluded = _column_selection(stream, "COLUMNS")
    return {"column_list": included, "except_column_list": excluded}


def _stored_as(stream: TokenStream) -> Fields:
    if stream.at("BITEMPORAL"):
        raise stream.error("STORED AS BITEMPORAL is not supported yet; use SCD TYPE 1 or 2",
                           stream.peek())
    stream.expect("SCD", "TYPE", after="STORED AS")
    token = stream.peek()
    if token is None or token.token_type is not TokenType.NUMBER or token.text not in ("1", "2"):
        raise stream.unexpected("1 or 2", "STORED AS SCD TYPE")
    stream.next()
    return {"stored_as_scd_type": int(token.text)}


def _track_history(stream: TokenStream) -> Fields:
    included, excluded = _column_selection(stream, "TRACK HISTORY ON")
    if included is None and excluded is None:
        excluded = ()  # `*`: every column, except none
    return {"track_history_column_list": included, "track_history_except_column_list": excluded}


# Each clause: its opening words and what it sets on the flow.
CLAUSES: dict[tuple[str, ...], Callable[[TokenStream], Fields]] = {
    ("KEYS",): _keys,
    ("IGNORE", "NULL", "UPDATES"): _ignore_null_updates,
    ("APPLY", "AS", "DELETE", "WHEN"): _apply_as_deletes,
    ("APPLY", "AS", "TRUNCATE", "WHEN"): _apply_as_truncates,
    ("SEQUENCE", "BY"): _sequence_by,
    ("COLUMNS",): _columns,
    ("STORED", "AS"): _stored_as,
    ("TRACK", "HISTORY", "ON"): _track_history,
}

# Databricks clauses lakesmith cannot honour yet.
UNSUPPORTED_CLAUSES: tuple[tuple[str, ...], ...] = (("SYSTEM", "SEQUENCE", "BY"),)

# Where an expression stops: the start of the next clause.
_CLAUSE_STARTS = tuple(words[:2] for words in CLAUSES) + UNSUPPORTED_CLAUSES


def _at_clause(stream: TokenStream) -> bool:
    return any(stream.at(*words) for words in _CLAUSE_STARTS)


def _expression(stream: TokenStream, what: str, after: str) -> str:
    text, _ = parse_text_until(stream, _at_clause, what, after)
    return text


def _column_selection(stream: TokenStream, after: str
                      ) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """`*`, `* EXCEPT (a, b)`, `(a, b)` or `a, b`: (columns, excepted columns)."""
    if stream.accept_punct(TokenType.STAR):
        if stream.accept("EXCEPT"):
            return None, parse_name_list(stream, "columns", f"{after} * EXCEPT")
        return None, None
    if stream.at_punct(TokenType.L_PAREN):
        return parse_name_list(stream, "columns", after), None
    return parse_bare_name_list(stream, "'*' or a list of columns", after), None


def parse_auto_cdc(stream: TokenStream, context: FileContext, name: str | None,
                   location: SourceLocation, *, comment: str | None = None) -> AutoCdcFlow:
    """`AUTO CDC INTO target …` or `APPLY CHANGES INTO target …`; the flow is named `name`, or
    after its target."""
    if stream.accept("AUTO", "CDC"):
        lead = "AUTO CDC"
    else:
        stream.expect("APPLY", "CHANGES")
        lead = "APPLY CHANGES"
    stream.expect("INTO", after=lead)
    target = parse_name(stream, "the target streaming table", f"{lead} INTO").text
    return parse_cdc_clauses(stream, context, name=name or target, target=target,
                             location=location, after=f"{lead} INTO {target}", comment=comment)


def parse_cdc_clauses(stream: TokenStream, context: FileContext, *, name: str, target: str,
                      location: SourceLocation, after: str,
                      comment: str | None = None) -> AutoCdcFlow:
    """`FROM STREAM(source)` and the clauses after it, to the end of the statement."""
    stream.expect("FROM", after=after)
    source = _parse_source(stream)
    fields: Fields = {}
    seen: set[tuple[str, ...]] = set()
    after = f"FROM STREAM({source})"
    while not stream.at_end:
        for words, parse in CLAUSES.items():  # noqa: B007 (used after the loop)
            if stream.at(*words):
                break
        else:
            _refuse_unsupported(stream)
            raise stream.unexpected(f"an AUTO CDC clause ({_listing()})", after)
        clause = " ".join(words)
        if words in seen:
            raise stream.error(f"{clause} is given twice", stream.peek())
        seen.add(words)
        stream.accept(*words)
        fields.update(parse(stream))
        after = f"the {clause} clause"
    _check_required(stream, fields)
    return AutoCdcFlow(name=name, target=target, source=source, location=location,
                       spark_conf=context.flow_conf(), comment=comment, **fields)


def _parse_source(stream: TokenStream) -> str:
    if not stream.accept("STREAM"):
        raise stream.unexpected(
            "STREAM(source)", "FROM",
            hint="AUTO CDC reads its source as a stream: write FROM STREAM(source)")
    if stream.accept_punct(TokenType.L_PAREN):
        source = parse_name(stream, "the source dataset", "STREAM(").text
        stream.expect_punct(TokenType.R_PAREN, "')'", f"STREAM({source}")
        return source
    return parse_name(stream, "the source dataset", "STREAM").text


def _check_required(stream: TokenStream, fields: Fields) -> None:
    """The clauses every AUTO CDC statement has; which clauses go together is AutoCdcFlow's
    rule, checked when it is built."""
    for field, clause in (("keys", "KEYS (key, ...)"), ("sequence_by", "SEQUENCE BY expression")):
        if field not in fields:
            raise stream.error(f"an AUTO CDC flow needs {clause}")


def _refuse_unsupported(stream: TokenStream) -> None:
    for words in UNSUPPORTED_CLAUSES:
        if stream.at(*words):
            raise stream.error(f"{' '.join(words)} is not supported yet", stream.peek())


def _listing() -> str:
    return ", ".join(" ".join(words) for words in CLAUSES)
