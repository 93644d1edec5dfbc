"""Every rewrite rule by the function or operator name it applies to."""

from __future__ import annotations

from lakesmith.engine.semantics.arithmetic import OPERATOR_RULES, SUM_RULE
from lakesmith.engine.semantics.bround import BROUND_RULE
from lakesmith.engine.semantics.casts import (
    CAST_OPERATOR_RULE,
    CAST_RULE,
    TO_DATE_RULE,
    TRY_CAST_RULE,
)
from lakesmith.engine.semantics.comparisons import COMPARISON_RULES
from lakesmith.engine.semantics.conditionals import CONDITIONAL_RULES
from lakesmith.engine.semantics.decimal_lists import DECIMAL_LIST_RULES, ISIN_RULE
from lakesmith.engine.semantics.function_rules import FUNCTION_RULES
from lakesmith.engine.semantics.implicit_strings import IMPLICIT_STRING_RULES
from lakesmith.engine.semantics.in_subqueries import IN_QUERY_RULES
from lakesmith.engine.semantics.rules import RULES, Rule
from lakesmith.engine.semantics.sql_case import CASE
from lakesmith.engine.semantics.strict_math import STRICT_MATH_RULES, TRIGONOMETRY_RULES
from lakesmith.engine.semantics.string_operands import STRING_OPERAND_RULES

ALL_RULES: tuple[Rule, ...] = (*RULES, SUM_RULE, CAST_RULE, TRY_CAST_RULE, TO_DATE_RULE,
                               CAST_OPERATOR_RULE, *OPERATOR_RULES, *CONDITIONAL_RULES,
                               BROUND_RULE, *IMPLICIT_STRING_RULES, *COMPARISON_RULES,
                               *FUNCTION_RULES, *STRICT_MATH_RULES, *TRIGONOMETRY_RULES,
                               *STRING_OPERAND_RULES, *DECIMAL_LIST_RULES, ISIN_RULE,
                               *IN_QUERY_RULES)
RULES_BY_NAME: dict[str, Rule] = {name: rule for rule in ALL_RULES for name in rule.names}
assert len(RULES_BY_NAME) == sum(len(rule.names) for rule in ALL_RULES), "a name has two rules"
# CASE is found as CASE ... END (`sql_case`), `when` and `in` are DataFrame functions (keywords
# in SQL)
FUNCTION_NAMES = frozenset(n for n in RULES_BY_NAME if n[0].isalpha()) - {CASE, "when", "in"}
OPERATORS = frozenset(n for n in RULES_BY_NAME if not n[0].isalpha())
