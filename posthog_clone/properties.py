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

# The rest of PostHog's PropertyOperator, used by insight/query filters (flags and the persons API keep
# PROPERTY_OPERATORS above: widening it would change what they accept).
NUMERIC_ALIASES = {"min": "gte", "max": "lte"}
RANGE_OPERATORS = ("between", "not_between")
MEMBERSHIP_OPERATORS = ("in", "not_in")
QUERY_PROPERTY_OPERATORS = (
    *PROPERTY_OPERATORS,
    "is_date_exact",
    *NUMERIC_ALIASES,
    *RANGE_OPERATORS,
    *MEMBERSHIP_OPERATORS,
    "is_cleaned_path_exact",
)
# Newer PostHog operators a query may name but this backend does not evaluate ("… not implemented").
UNIMPLEMENTED_OPERATORS = (
    "semver_eq",
    "semver_neq",
    "semver_gt",
    "semver_gte",
    "semver_lt",
    "semver_lte",
    "semver_tilde",
    "semver_caret",
    "semver_wildcard",
    "icontains_multi",
    "not_icontains_multi",
    "flag_evaluates_to",
)
# Operators whose list values are ANDed (every value must hold); other operators OR their list values.
NEGATIVE_OPERATORS = ("is_not", "not_icontains", "not_regex")
