"""Static cohorts made from a query (`query`: an ActorsQuery or a HogQLQuery), through the query app's public
surface: the kinds' own request serializers validate the node and their runners run it (ActorsQuery with
`select: ["id"]`; HogQLQuery's first column is the person id), in the `export` limit context."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cohorts import static
from cohorts.models import Cohort
from posthog_clone.accounts.models import Team
from query.kinds import KINDS
from query.runner import EXPORT_ROW_LIMIT

QUERY_KINDS = ("ActorsQuery", "HogQLQuery")


def validate_query(query: Any, *, team: Team) -> dict[str, Any] | None:
    """The node as the kind validates it (400 naming the field), or None for none."""
    if not query:
        return None
    if not isinstance(query, dict):
        raise serializers.ValidationError("Query must be a dictionary.")
    kind = query.get("kind")
    if kind not in QUERY_KINDS:
        raise serializers.ValidationError(f"Query must be an ActorsQuery or HogQLQuery. Got: {kind}")
    node = KINDS[kind].request(data=query, context={"team": team})
    node.is_valid(raise_exception=True)
    return query


def person_ids(team: Team, query: dict[str, Any]) -> list[str]:
    """The person ids the query returns (at most the export limit)."""
    kind = KINDS[query["kind"]]
    node = kind.request(data=query, context={"team": team})
    node.is_valid(raise_exception=True)
    validated = dict(node.validated_data)
    if query["kind"] == "ActorsQuery":
        validated.update(select=["id"], orderBy=None, limit=EXPORT_ROW_LIMIT, offset=0)
    result = kind.run(team, validated, "export")
    return [str(row[0]) for row in result["results"] if row and row[0] is not None]


def fill_static(cohort: Cohort) -> int:
    """Add the query's persons to the static cohort; its member count after."""
    static.add_members(cohort, static.persons_by_uuid(cohort.team, person_ids(cohort.team, cohort.query)))
    return static.member_count(cohort)
