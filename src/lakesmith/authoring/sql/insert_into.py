"""The body of an append flow: `INSERT INTO [ONCE] target [BY NAME] query`.

The query's columns are matched to the target's by name, whatever the spelling. `ONCE` makes a
batch flow that runs once per full refresh.
"""

from __future__ import annotations

from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.grammar import QUERY_STARTS, parse_name, parse_query
from lakesmith.authoring.sql.lexer import TokenType
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.graph.flows import OnceFlow, QueryFlow
from lakesmith.source_location import SourceLocation


def parse_insert_into(stream: TokenStream, context: FileContext, name: str, comment: str | None,
                      location: SourceLocation) -> QueryFlow:
    stream.expect("INSERT", after="AS")
    if stream.at("OVERWRITE"):
        raise stream.error("INSERT OVERWRITE flows are not supported: a flow appends to its "
                           "target; write INSERT INTO", stream.peek())
    stream.expect("INTO", after="INSERT")
    once = stream.accept("ONCE") is not None
    stream.accept("TABLE")
    target = parse_name(stream, "the target dataset", "INSERT INTO").text
    _refuse_target_options(stream)
    after = f"INSERT INTO {target}"
    if stream.accept("BY", "NAME"):
        after = "BY NAME"
    kind = OnceFlow if once else QueryFlow
    return kind(
        name=name,
        target=target,
        query=parse_query(stream, after),
        location=location,
        spark_conf=context.flow_conf(),
        is_default=False,
        comment=comment,
    )


def _refuse_target_options(stream: TokenStream) -> None:
    token = stream.peek()
    if stream.at("PARTITION"):
        raise stream.error("a partition spec is not allowed on a flow's target", token)
    if stream.at("IF", "NOT", "EXISTS"):
        raise stream.error("IF NOT EXISTS is not allowed on a flow's target", token)
    if stream.at_punct(TokenType.L_PAREN) and stream.word(1) not in QUERY_STARTS:
        raise stream.error("a column list is not allowed on a flow's target: the query's "
                           "columns are matched to the target's by name", token)
