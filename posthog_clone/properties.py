"""PostHog's property-filter operators (`{"key", "value", "operator", "type"}`): the one vocabulary every app
that filters on properties validates against — flag conditions, the persons API's `properties` filter, and
the coming property filters of insights and cohorts. Names only: no app, no Django, no evaluation (each
app compares values its own way: in Python for flags, in SQL for persons and queries)."""

from __future__ import annotations

EQUALITY_OPERATORS = ("exact", "is_not")
CONTAINS_OPERATORS = ("icontains", "not_icontains")
REGEX_OPERATORS = ("regex", "not_regex")
NUMERIC_OPERATORS = ("gt", "gte", "lt", "lte")
SET_OPERATORS = ("is_set", "is_not_set")
DATE_OPERATORS = ("is_date_before", "is_date_after")

PROPERTY_OPERATORS = (
    *EQUALITY_OPERATORS,
    *CONTAINS_OPERATORS,
    *REGEX_OPERATORS,
    *NUMERIC_OPERATORS,
    *SET_OPERATORS,
    *DATE_OPERATORS,
)
