"""A qualified star over a join by column names in a DataFrame plan
(`a.alias("o").join(b.alias("l"), "k", "left").select("o.*", ...)`): Spark's `o.*` is `o`'s
own join columns (NULL where `o` has no row), then its other columns; the engine leaves the join
columns out. As in SQL text (`sql_using_stars`), the side is read through a projection that keeps
a copy of its join columns under a hidden name, and the star becomes the side's columns with the
copies first. The side's columns are asked of the engine (one analysis per side a star names)."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import proto

from lakesmith.engine.ddl import quote_name as quoted  # (sql_scope would load the SQL parser)
from lakesmith.engine.plans import all_relations, dataframe_of
from lakesmith.errors import NotSupportedYet

_HIDDEN = "__lakesmith_using_{}_{}"  # a side's copy of its join column (side, column)
_COVERED = (proto.Join.JOIN_TYPE_INNER, proto.Join.JOIN_TYPE_LEFT_OUTER,
            proto.Join.JOIN_TYPE_RIGHT_OUTER, proto.Join.JOIN_TYPE_FULL_OUTER,
            proto.Join.JOIN_TYPE_LEFT_SEMI, proto.Join.JOIN_TYPE_LEFT_ANTI)


def expand_using_stars_plan(spark: Any, relation: proto.Relation) -> None:
    """Every projection of `relation` that stars a side of a join by column names, rewritten
    in place; innermost first (a side's copy holds its own rewrites)."""
    for rel in reversed(list(all_relations(relation))):
        if rel.WhichOneof("rel_type") == "project" and \
                rel.project.input.WhichOneof("rel_type") == "join" and \
                rel.project.input.join.using_columns:
            _expand(spark, rel.project)


def _expand(spark: Any, project: proto.Project) -> None:
    join = project.input.join
    sides = {side.subquery_alias.alias.lower(): index
             for index, side in enumerate((join.left, join.right))
             if side.WhichOneof("rel_type") == "subquery_alias"}
    starred = {}  # position in the projection → side index
    for position, expression in enumerate(project.expressions):
        if expression.WhichOneof("expr_type") != "unresolved_star":
            continue
        target = expression.unresolved_star.unparsed_target
        qualifier = target[:-2].strip("`").lower() if target.endswith(".*") else None
        if qualifier in sides:
            starred[position] = sides[qualifier]
    if not starred:
        return
    if join.join_type not in _COVERED:
        raise NotSupportedYet(
            f"select('{project.expressions[min(starred)].unresolved_star.unparsed_target}') over "
            "a cross join by column names: the engine's star leaves the join columns out "
            "(Spark's keeps them).", hint="list the side's columns.")
    keys = list(join.using_columns)
    columns = {}
    for side in sorted(set(starred.values())):
        relation = join.left if side == 0 else join.right
        try:
            columns[side] = [str(c) for c in dataframe_of(
                spark, relation.subquery_alias.input).columns]
        except Exception as e:  # the engine's error names the problem  # noqa: BLE001
            raise NotSupportedYet(
                "a star over a side of a join by column names: lakesmith could not find the "
                f"side's columns ({str(e)[:200]}), and the engine's star leaves the join "
                "columns out (Spark's keeps them).", hint="list the side's columns.") from e
        _keep_copies(relation.subquery_alias, keys, side)
    expressions = []
    for position, expression in enumerate(project.expressions):
        if position not in starred:
            expressions.append(expression)
            continue
        side = starred[position]
        alias = (join.left if side == 0 else join.right).subquery_alias.alias
        expressions += _side_columns(alias, columns[side], keys, side)
    del project.expressions[:]
    project.expressions.extend(expressions)


def _keep_copies(side: proto.SubqueryAlias, keys: list[str], index: int) -> None:
    """The side read through a projection adding its join columns' hidden copies."""
    projection = proto.Relation()
    projection.project.input.CopyFrom(side.input)
    projection.project.expressions.add().unresolved_star.SetInParent()
    for i, key in enumerate(keys):
        copy = projection.project.expressions.add().alias
        copy.expr.unresolved_attribute.unparsed_identifier = quoted(key)
        copy.name.append(_HIDDEN.format(index, i))
    side.input.CopyFrom(projection)


def _side_columns(alias: str, columns: list[str], keys: list[str],
                  index: int) -> list[proto.Expression]:
    """Spark's expansion of `alias.*`: the side's join columns (its copies, as it names them),
    then its other columns."""
    own = {c.lower(): c for c in columns}
    lowered = [k.lower() for k in keys]
    expressions = []
    for i, key in enumerate(lowered):
        expression = proto.Expression()
        expression.alias.expr.unresolved_attribute.unparsed_identifier = \
            f"{quoted(alias)}.{quoted(_HIDDEN.format(index, i))}"
        expression.alias.name.append(own.get(key, keys[i]))
        expressions.append(expression)
    for column in columns:
        if column.lower() not in lowered:
            expression = proto.Expression()
            expression.unresolved_attribute.unparsed_identifier = \
                f"{quoted(alias)}.{quoted(column)}"
            expressions.append(expression)
    return expressions
