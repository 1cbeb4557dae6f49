"""Survey numbers from the events posthog-js sends (§2.4–2.5), each a HogQL query run through the query app's
runner: how many `survey sent` a survey has (deduplicated by submission), and the shown/sent/dismissed stats
with their rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from posthog_clone.accounts.models import Team
from query.runner import hogql_execute

SHOWN, SENT, DISMISSED = "survey shown", "survey sent", "survey dismissed"
FAR_PAST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FAR_FUTURE = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)

# The latest `survey sent` of each submission (`$survey_submission_id`, else the event's own uuid), over all
# time: partial responses send one event per answered question, and only the last one counts.
_LATEST_SENT = """
    SELECT argMax(uuid, timestamp) FROM events
    WHERE event = 'survey sent' AND toString(properties.$survey_id) IN {survey_ids}
    GROUP BY toString(properties.$survey_id),
             coalesce(nullIf(toString(properties.$survey_submission_id), ''), toString(uuid))
"""
_COUNTED = f"""
    toString(properties.$survey_id) IN {{survey_ids}}
    AND timestamp >= toDateTime64({{date_from}}, 6, 'UTC') AND timestamp <= toDateTime64({{date_to}}, 6, 'UTC')
    AND (
        event = 'survey shown'
        OR (event = 'survey dismissed'
            AND lower(coalesce(toString(properties.$survey_partially_completed), '')) != 'true')
        OR (event = 'survey sent' AND uuid IN ({_LATEST_SENT}))
    )
"""
# Who: the person of the event's distinct id, else the distinct id itself (posthog-js sends anonymous visitors'
# events without a person profile: they have no person, and an inner join on persons would drop them).
_FROM = "FROM events LEFT JOIN person_distinct_ids AS pdi ON events.distinct_id = pdi.distinct_id"
_PERSON = "coalesce(nullIf(toString(pdi.person_id), '00000000-0000-0000-0000-000000000000'), events.distinct_id)"
_PER_EVENT = f"""
    SELECT event, count() AS total, count(DISTINCT {_PERSON}) AS persons, min(timestamp), max(timestamp)
    {_FROM} WHERE {_COUNTED} GROUP BY event
"""
_DISMISSED_AND_SENT = f"""
    SELECT count(DISTINCT {_PERSON}) {_FROM}
    WHERE {_COUNTED} AND event = 'survey dismissed' AND {_PERSON} IN (
        SELECT {_PERSON} {_FROM} WHERE {_COUNTED} AND event = 'survey sent'
    )
"""
_RESPONSES = f"""
    SELECT toString(properties.$survey_id) AS survey_id, count() FROM events
    WHERE event = 'survey sent' AND uuid IN ({_LATEST_SENT})
    GROUP BY survey_id
"""


def survey_responses_count(*, team: Team, survey_ids: Sequence[str]) -> dict[str, int]:
    """{survey id: deduplicated `survey sent` count} (surveys without responses are absent)."""
    if not survey_ids:
        return {}
    rows = hogql_execute(team=team, query=_RESPONSES, values={"survey_ids": list(survey_ids)}, limit_context="export")
    return {str(survey_id): int(count) for survey_id, count in rows.results}


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _event_stats(total: int, persons: int, first: str | None, last: str | None) -> dict[str, Any]:
    return {
        "total_count": total,
        "unique_persons": persons,
        "first_seen": first,
        "last_seen": last,
        "unique_persons_only_seen": 0,
        "total_count_only_seen": 0,
    }


def _rate(part: int, whole: int) -> float:
    return round(part / whole * 100, 2) if whole else 0.0


def survey_stats(
    *, team: Team, survey_ids: Sequence[str], date_from: dt.datetime | None, date_to: dt.datetime | None
) -> dict[str, Any]:
    """`{"stats": {event: {...}}, "rates": {...}}` over the surveys `survey_ids`, within the dates."""
    if not survey_ids:
        return {"stats": {}, "rates": rates({})}
    values = {
        "survey_ids": list(survey_ids),
        "date_from": _utc(date_from or FAR_PAST),
        "date_to": _utc(date_to or FAR_FUTURE),
    }
    per_event = hogql_execute(team=team, query=_PER_EVENT, values=values, limit_context="export").results
    stats = {
        event: _event_stats(int(total), int(persons), first, last) for event, total, persons, first, last in per_event
    }
    if DISMISSED in stats:
        both = hogql_execute(team=team, query=_DISMISSED_AND_SENT, values=values, limit_context="export")
        overlap = int(both.results[0][0]) if both.results else 0
        stats[DISMISSED]["unique_persons"] = max(stats[DISMISSED]["unique_persons"] - overlap, 0)
    if SHOWN in stats:

        def others(key: str) -> int:
            return sum(stats[name][key] for name in (SENT, DISMISSED) if name in stats)

        shown = stats[SHOWN]
        shown["unique_persons_only_seen"] = max(shown["unique_persons"] - others("unique_persons"), 0)
        shown["total_count_only_seen"] = max(shown["total_count"] - others("total_count"), 0)
    return {"stats": stats, "rates": rates(stats)}


def rates(stats: dict[str, dict[str, Any]]) -> dict[str, float]:
    def number(event: str, key: str) -> int:
        return stats.get(event, {}).get(key, 0)

    shown, persons = number(SHOWN, "total_count"), number(SHOWN, "unique_persons")
    return {
        "response_rate": _rate(number(SENT, "total_count"), shown),
        "dismissal_rate": _rate(number(DISMISSED, "total_count"), shown),
        "unique_users_response_rate": _rate(number(SENT, "unique_persons"), persons) if shown else 0.0,
        "unique_users_dismissal_rate": _rate(number(DISMISSED, "unique_persons"), persons) if shown else 0.0,
    }
