"""The rules for functions the engine lacks or answers otherwise (strings, dates, JSON, arrays
and maps, higher-order functions, regular expressions), one module each, gathered for the registry."""

from __future__ import annotations

from lakesmith.engine.semantics.arrays import ARRAY_RULES
from lakesmith.engine.semantics.date_parts import DATE_PART_RULES
from lakesmith.engine.semantics.date_trunc import DATE_TRUNC_RULE
from lakesmith.engine.semantics.decode import DECODE_RULE
from lakesmith.engine.semantics.field_access import FIELD_RULE
from lakesmith.engine.semantics.higher_order import HIGHER_ORDER_RULES
from lakesmith.engine.semantics.json_functions import JSON_RULES
from lakesmith.engine.semantics.regex_rules import REGEX_RULES
from lakesmith.engine.semantics.rules import Rule
from lakesmith.engine.semantics.strings import STRING_RULES

FUNCTION_RULES: tuple[Rule, ...] = (*STRING_RULES, *DATE_PART_RULES, DATE_TRUNC_RULE, DECODE_RULE,
                                    *JSON_RULES, *ARRAY_RULES, *HIGHER_ORDER_RULES, FIELD_RULE,
                                    *REGEX_RULES)
