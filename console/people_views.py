"""People and Cohorts pages: thin views over console.people_selectors (which uses the persons and cohorts
apps' selectors and the query runner)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import people_selectors as people
from console.security import console_page
from persons.selectors import person_display_name
from posthog_clone.accounts.models import Team
from query.exceptions import ExposedHogQLError


def _offset(request: HttpRequest) -> int:
    raw = request.GET.get("offset", "")
    return min(int(raw), 10_000_000) if raw.isdigit() else 0


def _days(request: HttpRequest) -> int:
    raw = request.GET.get("days", "")
    return int(raw) if raw.isdigit() and int(raw) in people.PERSON_EVENTS_DAYS else people.PERSON_EVENTS_DEFAULT_DAYS


@console_page()
@require_GET
def people_list(request: HttpRequest, team: Team) -> HttpResponse:
    search = request.GET.get("search", "").strip()
    page = people.people_page(team=team, search=search, offset=_offset(request))
    rows = [(person, person_display_name(person)) for person in page.rows]
    context = {"team": team, "section": "people", "search": search, "page": page, "rows": rows}
    return render(request, "console/people/people.html", context)


@console_page()
@require_GET
def person_detail(request: HttpRequest, team: Team, person_id: str) -> HttpResponse:
    person = people.person_find(team=team, ident=person_id)
    if person is None:
        raise Http404("Person not found.")
    days, error = _days(request), ""
    try:
        events = people.person_events(team=team, person=person, days=days)
    except ExposedHogQLError as failure:
        events, error = [], str(failure)
    context = {
        "team": team,
        "section": "people",
        "person": person,
        "name": person_display_name(person),
        "properties": people.person_properties(person),
        "distinct_ids": sorted(d.distinct_id for d in person.distinct_ids.all()),
        "events": events,
        "error": error,
        "days": days,
        "day_choices": people.PERSON_EVENTS_DAYS,
        "events_limit": people.PERSON_EVENTS_LIMIT,
        "cohorts": people.cohorts_of_person(team=team, person=person),
    }
    return render(request, "console/people/person.html", context)


@console_page()
@require_GET
def cohort_list(request: HttpRequest, team: Team) -> HttpResponse:
    page = people.cohorts_page(team=team, offset=_offset(request))
    return render(request, "console/people/cohorts.html", {"team": team, "section": "cohorts", "page": page})


@console_page()
@require_GET
def cohort_detail(request: HttpRequest, team: Team, cohort_id: int) -> HttpResponse:
    cohort = people.cohort_find(team=team, cohort_id=cohort_id)
    if cohort is None:
        raise Http404("Cohort not found.")
    page = people.cohort_members(cohort=cohort, offset=_offset(request))
    context = {"team": team, "section": "cohorts", "cohort": cohort, "page": page}
    return render(request, "console/people/cohort.html", context)
