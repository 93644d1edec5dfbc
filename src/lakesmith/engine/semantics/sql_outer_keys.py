"""The keys of a SELECT the engine cannot type alone: a correlated subquery's keys that name a
column of an enclosing query (`... WHERE EXISTS (SELECT 1 FROM u GROUP BY t.d + u.d)`). Their
types are asked with the enclosing queries' FROM clauses joined to the subquery's (their columns
then resolve); when even that cannot be analysed, the SELECT is refused only if one of its keys
could be FLOAT or DOUBLE (`sql_float_keys` then cannot compare it as Spark does), never when
every key is made of columns that are not and of operations that cannot make one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql.types import StructType

from lakesmith.engine.semantics.float_keys import is_floating
from lakesmith.errors import NotSupportedYet

SchemaProbe = Callable[[str], StructType | None]


def probe_keys(select: Any, keys: list[Any], with_prefix: str, probe: SchemaProbe,
               extra_sources: list[Any] | None = None) -> StructType | None:
    """The keys' types (and names), asked as `SELECT <keys> FROM <the select's FROM>`
    (`extra_sources` cross-joined to it)."""
    shape = select.copy()
    for clause in ("where", "group", "having", "order", "limit", "qualify", "distinct", "windows",
                   "with_"):
        shape.set(clause, None)
    shape.set("expressions", [k.copy() for k in keys])
    for source in extra_sources or []:
        shape = shape.join(source.copy(), join_type="cross")
    return probe(with_prefix + shape.sql(dialect="spark", normalize_functions="lower"))


def keys_with_outer_scope(select: Any, keys: list[Any], with_prefix: str, probe: SchemaProbe,
                          exp: Any) -> StructType | None:
    """The keys' types asked as `SELECT <keys> FROM <the select's FROM>, <each enclosing
    query's FROM>`; None when the select is not nested or that cannot be analysed either."""
    outer = _enclosing_sources(select, exp)
    if not outer:
        return None
    return probe_keys(select, keys, with_prefix, probe, extra_sources=outer)


def refuse_possible_float_keys(select: Any, keys: list[Any], with_prefix: str,
                               probe: SchemaProbe, exp: Any) -> None:
    """Raise `NotSupportedYet` when a key whose type could not be found could be FLOAT/DOUBLE:
    it names a column that is one in some FROM it can see (each asked as `SELECT * FROM ...`),
    or computes a value that could be one (a division, a function, a cast, a floating-point
    literal). A FROM the engine cannot analyse makes the query fail there, with its error."""
    floating_names: set[str] = set()
    for source in [select, *_enclosing_selects(select, exp)]:
        schema = _source_schema(source, with_prefix, probe, exp)
        if schema is None:
            return  # its FROM is not valid alone: the engine's own error names the problem
        floating_names |= {f.name.lower() for f in schema.fields if is_floating(f.dataType)}
    for key in keys:
        names = {c.name.lower() for c in ([key] if isinstance(key, exp.Column)
                                          else key.find_all(exp.Column))}
        if names & floating_names or _may_make_floating(key, exp):
            _refuse(select, [key], "lakesmith could not find its type")


def _may_make_floating(key: Any, exp: Any) -> bool:
    """Whether an expression over non-floating columns could still be FLOAT/DOUBLE."""
    for node in key.walk():
        if isinstance(node, exp.Div) or isinstance(node, exp.Func) \
                and not isinstance(node, (exp.Count, exp.Column)):
            return True
        if isinstance(node, exp.Literal) and node.is_number \
                and any(c in node.name.lower() for c in "edf"):
            return True
    return False


def _refuse(select: Any, keys: list[Any], why: str) -> None:
    shown = ", ".join(k.sql(dialect="spark") for k in keys)[:200]
    raise NotSupportedYet(
        f"the key {shown} of a nested query ({why}): if it is FLOAT or DOUBLE, Spark compares "
        "it with -0.0 = 0.0 and every NaN as one value, where the engine compares the bits.",
        hint=f"cast the key to the type it has (CAST({keys[0].sql(dialect='spark')} AS ...)), "
        "or move the query to the FROM clause (a join) so that its keys read one input.")


def _enclosing_selects(select: Any, exp: Any) -> list[Any]:
    found = []
    node = select.parent
    while node is not None:
        if isinstance(node, exp.Select):
            found.append(node)
        node = node.parent
    return found


def _enclosing_sources(select: Any, exp: Any) -> list[Any]:
    """The FROM relations and joined relations of every query `select` is nested in."""
    sources = []
    for outer in _enclosing_selects(select, exp):
        source = outer.args.get("from_")
        if source is not None:
            sources.append(source.this)
        sources += [join.this for join in outer.args.get("joins") or []]
    return sources


def _source_schema(select: Any, with_prefix: str, probe: SchemaProbe, exp: Any
                   ) -> StructType | None:
    source = select.args.get("from_")
    if source is None:
        return StructType([])
    shape = exp.select("*").from_(source.this.copy())
    shape.set("joins", [j.copy() for j in select.args.get("joins") or []])
    return probe(with_prefix + shape.sql(dialect="spark", normalize_functions="lower"))
