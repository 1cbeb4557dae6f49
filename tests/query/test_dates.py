"""query.dates: PostHog's dateRange rules (TV-12 and more), the interval grid with its `days` and `labels`, DST
in a non-UTC team, both week starts, the compareFilter previous period, errors, the HogQL pieces, and an
end-to-end grouping in chDB. Every expectation below was worked out by hand from query_kinds.md §1.5, §1.6,
§1.8 and §12."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from query.dates import MONDAY, SUNDAY, DateRangeError, QueryDateRange, parse_date
from query.hogql.parser import to_hogql
from query.runner import hogql_execute
from tests.query.conftest import insert_events

NOW = dt.datetime(2024, 5, 15, 14, 30, tzinfo=dt.UTC)  # Wednesday, as in TV-12
NY = "America/New_York"
END = (23, 59, 59, 999999)


def hours(bucket: Any) -> float:
    """A bucket's real length (aware datetimes in one zone subtract by wall clock, so go through UTC)."""
    return (bucket.end.astimezone(dt.UTC) - bucket.start.astimezone(dt.UTC)) / dt.timedelta(hours=1)


def rng(date_range: Any = None, interval: str | None = None, **kwargs: Any) -> QueryDateRange:
    kwargs.setdefault("now", NOW)
    return QueryDateRange(date_range, interval=interval, **kwargs)


def local(q: QueryDateRange) -> tuple[dt.datetime, dt.datetime]:
    return q.date_from.replace(tzinfo=None), q.date_to.replace(tzinfo=None)


# (dateRange, interval, date_from, date_to) — TV-12 first, team tz UTC, now Wed 2024-05-15 14:30
RANGES: list[tuple[Any, str | None, dt.datetime, dt.datetime]] = [
    (None, None, dt.datetime(2024, 5, 8), dt.datetime(2024, 5, 15, *END)),
    ({"date_from": "-24h"}, "hour", dt.datetime(2024, 5, 14, 14), dt.datetime(2024, 5, 15, 14, 59, 59, 999999)),
    ({"date_from": "mStart"}, None, dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 15, *END)),
    ({"date_from": "-1mStart", "date_to": "-1mEnd"}, None, dt.datetime(2024, 4, 1), dt.datetime(2024, 4, 30, *END)),
    ({"date_from": "-1dStart", "date_to": "-1dEnd"}, None, dt.datetime(2024, 5, 14), dt.datetime(2024, 5, 14, *END)),
    ({"date_from": "-1q"}, None, dt.datetime(2024, 2, 14), dt.datetime(2024, 5, 15, *END)),
    ({"date_from": "yStart"}, None, dt.datetime(2024, 1, 1), dt.datetime(2024, 5, 15, *END)),
    ({"date_from": "-30M"}, "minute", dt.datetime(2024, 5, 15, 14, 0), dt.datetime(2024, 5, 15, 14, 30, 59, 999999)),
    ({"date_from": "2024-05-01", "date_to": "2024-05-10"}, None,
     dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 10, *END)),
    ({"date_from": "2024-05-01", "date_to": "2024-05-10", "explicitDate": True}, None,
     dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 10)),
    # more units: -7d = 8 days back to 00:00, -1w, -3m (day clamped), -1y, dStart = today
    ({"date_from": "-7d"}, None, dt.datetime(2024, 5, 8), dt.datetime(2024, 5, 15, *END)),
    ({"date_from": "-1w"}, None, dt.datetime(2024, 5, 8), dt.datetime(2024, 5, 15, *END)),
    ({"date_from": "-3m"}, None, dt.datetime(2024, 2, 15), dt.datetime(2024, 5, 15, *END)),
    ({"date_from": "-1y"}, None, dt.datetime(2023, 5, 15), dt.datetime(2024, 5, 15, *END)),
    ({"date_from": "dStart"}, None, dt.datetime(2024, 5, 15), dt.datetime(2024, 5, 15, *END)),
    # a relative -Nh keeps its hour even with a day interval; other units go to 00:00
    ({"date_from": "-24h"}, "day", dt.datetime(2024, 5, 14, 14), dt.datetime(2024, 5, 15, *END)),
    ({"date_from": "-90M"}, "day", dt.datetime(2024, 5, 15), dt.datetime(2024, 5, 15, *END)),
    # hour interval: an absolute date_to is taken as is; a relative or absent one goes to the end of its hour
    ({"date_from": "2024-05-15T08:20", "date_to": "2024-05-15T10:15"}, "hour",
     dt.datetime(2024, 5, 15, 8), dt.datetime(2024, 5, 15, 10, 15)),
    ({"date_from": "-2h", "date_to": "-1h"}, "hour",
     dt.datetime(2024, 5, 15, 12), dt.datetime(2024, 5, 15, 13, 59, 59, 999999)),
    # explicitDate keeps both verbatim, an absent date_to is now
    ({"date_from": "2024-05-15T08:20", "explicitDate": "true"}, "hour",
     dt.datetime(2024, 5, 15, 8, 20), dt.datetime(2024, 5, 15, 14, 30)),
    # an offset is converted to the team tz (UTC here); no padding is fine
    ({"date_from": "2024-05-01T22:00:00+02:00", "date_to": "2024-5-3"}, "hour",
     dt.datetime(2024, 5, 1, 20), dt.datetime(2024, 5, 3)),
]  # fmt: skip


@pytest.mark.parametrize(("date_range", "interval", "date_from", "date_to"), RANGES)
def test_date_ranges_resolve_as_posthog(date_range: Any, interval: Any, date_from: Any, date_to: Any) -> None:
    assert local(rng(date_range, interval)) == (date_from, date_to)


def test_the_team_timezone_decides_today_and_the_offsets() -> None:
    # 02:00Z on the 15th is 22:00 on the 14th in New York (EDT, -4)
    q = rng({"date_from": "-1d"}, now=dt.datetime(2024, 5, 15, 2, tzinfo=dt.UTC), timezone=NY)
    assert local(q) == (dt.datetime(2024, 5, 13), dt.datetime(2024, 5, 14, *END))
    assert q.date_from.utcoffset() == dt.timedelta(hours=-4)
    assert q.resolved_date_range() == {
        "date_from": "2024-05-13T00:00:00-04:00",
        "date_to": "2024-05-14T23:59:59.999999-04:00",
    }
    q = rng({"date_from": "2024-05-01T12:00:00Z", "date_to": "2024-05-02"}, "hour", timezone=NY)
    assert local(q) == (dt.datetime(2024, 5, 1, 8), dt.datetime(2024, 5, 2))
    assert rng(None, now=NOW.replace(tzinfo=None), timezone="Asia/Tokyo").date_to.isoformat() == (
        "2024-05-15T23:59:59.999999+09:00"  # a naive now is UTC: 14:30Z is 23:30 in Tokyo
    )


def test_all_starts_at_the_first_event() -> None:
    first = dt.datetime(2024, 3, 2, 20, 0, tzinfo=dt.UTC)  # 3 March 05:00 in Tokyo
    q = rng({"date_from": "all"}, timezone="Asia/Tokyo", earliest_event=lambda: first)
    assert local(q)[0] == dt.datetime(2024, 3, 3)
    q = rng({"date_from": "all"}, "hour", timezone="Asia/Tokyo", earliest_event=lambda: first.replace(tzinfo=None))
    assert local(q)[0] == dt.datetime(2024, 3, 3, 5)
    assert local(rng({"date_from": "all"}, earliest_event=lambda: None))[0] == dt.datetime(2024, 5, 8)


def test_parse_date_reports_what_it_read() -> None:
    parsed = parse_date("-14d", "UTC", NOW)
    assert (parsed.moment, parsed.unit, parsed.amount, parsed.position, parsed.relative) == (
        dt.datetime(2024, 5, 1), "d", 14, None, True
    )  # fmt: skip
    parsed = parse_date("2024-05-01", "UTC", NOW)
    assert (parsed.relative, parsed.date_only) == (False, True)
    assert parse_date("-1mEnd", "UTC", dt.datetime(2024, 3, 31, tzinfo=dt.UTC)).moment == dt.datetime(2024, 2, 29, *END)
    assert parse_date("-1hStart", "UTC", NOW).moment == dt.datetime(2024, 5, 15, 13)
    assert parse_date("-1hEnd", "UTC", NOW).moment == dt.datetime(2024, 5, 15, 13, 59, 59, 999999)
    assert parse_date("yEnd", "UTC", NOW).moment == dt.datetime(2024, 12, 31, *END)


# (dateRange, interval, week start, days, labels)
GRIDS: list[tuple[Any, str, int, list[str], list[str]]] = [
    # TV-1
    ({"date_from": "2024-01-07", "date_to": "2024-01-09"}, "day", SUNDAY,
     ["2024-01-07", "2024-01-08", "2024-01-09"], ["7-Jan-2024", "8-Jan-2024", "9-Jan-2024"]),
    # TV-12 week -14d (2024-05-01 Wed .. 05-15 Wed)
    ({"date_from": "-14d"}, "week", SUNDAY,
     ["2024-04-28", "2024-05-05", "2024-05-12"], ["1–4 May", "5–11 May", "12–15 May"]),
    ({"date_from": "-14d"}, "week", MONDAY,
     ["2024-04-29", "2024-05-06", "2024-05-13"], ["1–5 May", "6–12 May", "13–15 May"]),
    # weeks across a month and a year, both starts (2023-12-28 is a Thursday)
    ({"date_from": "2024-04-25", "date_to": "2024-05-09"}, "week", SUNDAY,
     ["2024-04-21", "2024-04-28", "2024-05-05"], ["25–27 Apr", "28-Apr – 4-May", "5–9 May"]),
    ({"date_from": "2023-12-28", "date_to": "2024-01-10"}, "week", SUNDAY,
     ["2023-12-24", "2023-12-31", "2024-01-07"], ["28–30 Dec", "31-Dec-2023 – 6-Jan-2024", "7–10 Jan"]),
    ({"date_from": "2023-12-28", "date_to": "2024-01-10"}, "week", MONDAY,
     ["2023-12-25", "2024-01-01", "2024-01-08"], ["28–31 Dec", "1–7 Jan", "8–10 Jan"]),
    # a Sunday date_from starts its own week on Sunday, the previous one on Monday
    ({"date_from": "2024-05-12", "date_to": "2024-05-13"}, "week", SUNDAY, ["2024-05-12"], ["12–13 May"]),
    ({"date_from": "2024-05-12", "date_to": "2024-05-13"}, "week", MONDAY,
     ["2024-05-06", "2024-05-13"], ["12–12 May", "13–13 May"]),
    ({"date_from": "2023-11-15", "date_to": "2024-02-01"}, "month", SUNDAY,
     ["2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01"], ["Nov 2023", "Dec 2023", "Jan 2024", "Feb 2024"]),
    ({"date_from": "2024-05-14T22:10", "date_to": "2024-05-15T01:00"}, "hour", SUNDAY,
     ["2024-05-14 22:00:00", "2024-05-14 23:00:00", "2024-05-15 00:00:00", "2024-05-15 01:00:00"],
     ["14-May 22:00", "14-May 23:00", "15-May 00:00", "15-May 01:00"]),
    ({"date_from": "-2M"}, "minute", SUNDAY,
     ["2024-05-15 14:28:00", "2024-05-15 14:29:00", "2024-05-15 14:30:00"],
     ["15-May 14:28", "15-May 14:29", "15-May 14:30"]),
    # date_from after date_to: no error, an empty grid
    ({"date_from": "2024-05-10", "date_to": "2024-05-01"}, "day", SUNDAY, [], []),
]  # fmt: skip


@pytest.mark.parametrize(("date_range", "interval", "week_start", "days", "labels"), GRIDS)
def test_buckets_have_posthogs_days_and_labels(
    date_range: Any, interval: str, week_start: int, days: list[str], labels: list[str]
) -> None:
    q = rng(date_range, interval, week_start_day=week_start)
    assert (q.days, q.labels) == (days, labels)


def test_default_range_is_eight_zero_filled_days() -> None:
    q = rng()
    assert q.days == [f"2024-05-{d:02}" for d in range(8, 16)]
    assert all(b.end == b.start + dt.timedelta(days=1) for b in q.buckets)


def test_hour_buckets_across_dst_are_the_real_hours() -> None:
    # New York springs forward on 2024-03-10 (02:00 EST → 03:00 EDT): that day has 23 hour buckets
    spring = rng({"date_from": "2024-03-10", "date_to": "2024-03-10T23:59"}, "hour", timezone=NY)
    assert len(spring.buckets) == 23
    assert spring.days[:4] == [
        "2024-03-10 00:00:00",
        "2024-03-10 01:00:00",
        "2024-03-10 03:00:00",
        "2024-03-10 04:00:00",
    ]
    assert [b.start.utcoffset().total_seconds() / 3600 for b in spring.buckets[1:3]] == [-5, -4]
    assert hours(spring.buckets[1]) == 1
    # ... and falls back on 2024-11-03 (02:00 EDT → 01:00 EST): 25 buckets, 01:00 twice (EDT, then EST)
    fall = rng({"date_from": "2024-11-03", "date_to": "2024-11-03T23:59"}, "hour", timezone=NY)
    assert len(fall.buckets) == 25
    assert fall.days[:5] == [
        "2024-11-03 00:00:00", "2024-11-03 01:00:00", "2024-11-03 01:00:00",
        "2024-11-03 02:00:00", "2024-11-03 03:00:00",
    ]  # fmt: skip
    assert [b.start.astimezone(dt.UTC).hour for b in fall.buckets[:4]] == [4, 5, 6, 7]
    assert fall.labels[1:3] == ["3-Nov 01:00", "3-Nov 01:00"]


def test_hour_buckets_in_a_half_hour_timezone() -> None:
    q = rng({"date_from": "-2h"}, "hour", timezone="Asia/Kolkata")  # 14:30Z is 20:00 IST
    assert q.days == ["2024-05-15 18:00:00", "2024-05-15 19:00:00", "2024-05-15 20:00:00"]
    assert q.buckets[0].start.astimezone(dt.UTC).strftime("%H:%M") == "12:30"


def test_for_team_reads_timezone_and_week_start() -> None:
    team = SimpleNamespace(timezone="Europe/Berlin", week_start_day=MONDAY)
    q = QueryDateRange.for_team(team, {"date_from": "-14d"}, interval="week", now=NOW)
    assert (q.timezone, q.week_mode, q.days[0]) == ("Europe/Berlin", 3, "2024-04-29")
    q = QueryDateRange.for_team(SimpleNamespace(timezone="UTC"), {"date_from": "-14d"}, interval="week", now=NOW)
    assert (q.week_mode, q.days[0]) == (0, "2024-04-28")  # no week_start_day (this Team has none yet): Sunday


def test_day_and_week_buckets_across_dst_start_at_local_midnight() -> None:
    q = rng({"date_from": "2024-03-09", "date_to": "2024-03-11"}, "day", timezone=NY)
    assert [b.start.isoformat() for b in q.buckets] == [
        "2024-03-09T00:00:00-05:00", "2024-03-10T00:00:00-05:00", "2024-03-11T00:00:00-04:00"
    ]  # fmt: skip
    assert [hours(b) for b in q.buckets] == [24, 23, 24]
    for week_start, first in ((SUNDAY, "2024-11-03T00:00:00-04:00"), (MONDAY, "2024-10-28T00:00:00-04:00")):
        q = rng({"date_from": "2024-11-03", "date_to": "2024-11-12"}, "week", timezone=NY, week_start_day=week_start)
        assert q.buckets[0].start.isoformat() == first
        assert q.buckets[1].start.utcoffset() == dt.timedelta(hours=-5)
        assert {hours(b) for b in q.buckets[1:]} == {168}
    assert [b.start.utcoffset() / dt.timedelta(hours=1) for b in q.buckets] == [-4, -5, -5]
    assert hours(q.buckets[0]) == 169  # the week holding 3 Nov


def test_bucket_index_places_dates_and_datetimes() -> None:
    fall = rng({"date_from": "2024-11-03", "date_to": "2024-11-03T03:00"}, "hour", timezone=NY)
    second_one_am = dt.datetime(2024, 11, 3, 6, 30, tzinfo=dt.UTC)  # 01:30 EST
    assert fall.bucket_index(second_one_am) == 2
    assert fall.bucket_index(dt.datetime(2024, 11, 3, 5, 59, tzinfo=dt.UTC)) == 1  # 01:59 EDT
    assert fall.bucket_index(dt.datetime(2024, 11, 3, 3, 59, tzinfo=dt.UTC)) is None  # 23:59 on the 2nd
    assert fall.bucket_index("2024-11-03T01:30:00-05:00") == 2  # as query results carry a DateTime
    assert fall.bucket_index("2024-11-03T05:30:00Z") == 1
    weeks = rng({"date_from": "-14d"}, "week")
    assert [weeks.bucket_index(dt.date(2024, 5, d)) for d in (5, 12, 19)] == [1, 2, None]
    assert weeks.bucket_index(dt.datetime(2024, 4, 28, 0, 0)) == 0
    assert weeks.bucket_index("2024-05-05") == 1  # a Date, as query results carry it


# (dateRange, interval, compare_to, previous date_from, previous date_to)
PREVIOUS: list[tuple[Any, str, str | None, dt.datetime, dt.datetime]] = [
    # same length, ending where the current range starts
    ({"date_from": "2024-05-01", "date_to": "2024-05-10"}, "day", None,
     dt.datetime(2024, 4, 21), dt.datetime(2024, 4, 30, *END)),
    # -7d / -14d without date_to: a day later, so weeks align (8-day ranges)
    ({"date_from": "-7d"}, "day", None, dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 8, *END)),
    ({"date_from": "-14d"}, "day", None, dt.datetime(2024, 4, 17), dt.datetime(2024, 5, 1, *END)),
    ({"date_from": "-7d"}, "week", None, dt.datetime(2024, 4, 30), dt.datetime(2024, 5, 7, *END)),
    ({"date_from": "-10d"}, "day", None, dt.datetime(2024, 4, 24), dt.datetime(2024, 5, 4, *END)),
    # this month / year so far → the whole previous one
    ({"date_from": "mStart"}, "day", None, dt.datetime(2024, 4, 1), dt.datetime(2024, 4, 30, *END)),
    ({"date_from": "yStart"}, "month", None, dt.datetime(2023, 1, 1), dt.datetime(2023, 12, 31, *END)),
    # ... but last month onwards is an ordinary range: 45 days back (2024 is a leap year)
    ({"date_from": "-1mStart"}, "day", None, dt.datetime(2024, 2, 16), dt.datetime(2024, 3, 31, *END)),
    # hour: same time of day
    ({"date_from": "-24h"}, "hour", None, dt.datetime(2024, 5, 13, 14), dt.datetime(2024, 5, 14, 14, 59, 59, 999999)),
    # compare_to: shifted by it, same length
    ({"date_from": "-7d"}, "day", "-1w", dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 8, *END)),
    ({"date_from": "2024-05-01", "date_to": "2024-05-10"}, "day", "-1m",
     dt.datetime(2024, 4, 1), dt.datetime(2024, 4, 10, *END)),
]  # fmt: skip


@pytest.mark.parametrize(("date_range", "interval", "compare_to", "date_from", "date_to"), PREVIOUS)
def test_previous_period(date_range: Any, interval: str, compare_to: Any, date_from: Any, date_to: Any) -> None:
    previous = rng(date_range, interval).previous_period(compare_to)
    assert local(previous) == (date_from, date_to)
    assert previous.interval == interval


def test_previous_period_keeps_timezone_and_week_start() -> None:
    q = rng({"date_from": "-14d"}, "week", timezone=NY, week_start_day=MONDAY).previous_period("-2w")
    assert (q.timezone, q.week_start_day, q.days) == (NY, MONDAY, ["2024-04-15", "2024-04-22", "2024-04-29"])
    assert q.labels == ["17–21 Apr", "22–28 Apr", "29-Apr – 1-May"]


ERRORS: list[tuple[dict[str, Any], str, str]] = [
    ({"date_range": {"date_from": "last tuesday"}}, "Invalid date 'last tuesday'", "date_from"),
    ({"date_range": {"date_from": "-7d", "date_to": "2024-13-01"}},
     "Invalid date '2024-13-01' in dateRange.date_to: use an ISO date", "date_to"),
    ({"date_range": {"date_from": 7}}, "Invalid date '7'", "date_from"),
    ({"date_range": {"date_from": True}}, "Invalid date 'True'", "date_from"),
    ({"date_range": {"date_from": "-7x"}}, "Invalid date '-7x'", "date_from"),
    ({"date_range": "-7d"}, "dateRange must be an object", "dateRange"),
    ({"interval": "fortnight"}, "Value 'fortnight' is not an instance of IntervalType", "interval"),
    ({"interval": "second"}, "The second interval is not supported", "interval"),
    ({"date_range": {"date_from": "all"}}, "date_from 'all' needs the project's first event", "date_from"),
    ({"timezone": "Mars/Olympus"}, "Unknown timezone: Mars/Olympus", ""),
]  # fmt: skip


@pytest.mark.parametrize(("kwargs", "message", "attr"), ERRORS)
def test_bad_input_raises_a_date_range_error(kwargs: dict[str, Any], message: str, attr: str) -> None:
    with pytest.raises(DateRangeError) as caught:
        QueryDateRange(kwargs.pop("date_range", None), now=NOW, **kwargs)
    assert message in caught.value.message
    assert caught.value.attr == attr
    assert caught.value.code_name == "invalid_date_range"


def test_a_bad_compare_to_is_an_error() -> None:
    with pytest.raises(DateRangeError, match="Invalid compare_to 'last week'"):
        rng().previous_period("last week")


def test_hogql_bucket_expression_and_range() -> None:
    q = rng({"date_from": "2024-05-01", "date_to": "2024-05-10"}, "week", timezone=NY)
    assert to_hogql(q.bucket_expr()) == "toStartOfWeek(timestamp, 0)"
    q = rng({"date_from": "2024-05-01", "date_to": "2024-05-10"}, "week", timezone=NY, week_start_day=MONDAY)
    assert to_hogql(q.bucket_expr()) == "toStartOfWeek(timestamp, 3)"
    for interval, name in (("minute", "Minute"), ("hour", "Hour"), ("day", "Day"), ("month", "Month")):
        assert to_hogql(rng(None, interval).bucket_expr()) == f"toStartOf{name}(timestamp)"
    # bounds as UTC DateTime64 constants: the (Monday) week of 1 May 2024 (29 April, EDT) to 10 May end of day
    assert to_hogql(q.range_condition()) == (
        "timestamp >= toDateTime64('2024-04-29 04:00:00.000000', 6, 'UTC')"
        " AND timestamp <= toDateTime64('2024-05-11 03:59:59.999999', 6, 'UTC')"
    )
    assert "'2024-05-01 04:00:00.000000'" in to_hogql(q.range_condition(from_bucket_start=False))
    assert to_hogql(q.interval_expr()) == "toIntervalWeek(1)"
    assert to_hogql(rng(None, "hour").interval_expr(3)) == "toIntervalHour(3)"


@pytest.mark.clickhouse
def test_events_group_into_the_buckets_in_the_team_timezone(project: Any) -> None:
    team = project.team
    team.timezone = NY
    team.save()
    hours = rng({"date_from": "2024-11-03", "date_to": "2024-11-03T03:45"}, "hour", timezone=NY)
    days = rng({"date_from": "2024-11-02", "date_to": "2024-11-04"}, "day", timezone=NY)
    weeks_sun = rng({"date_from": "2024-10-30", "date_to": "2024-11-12"}, "week", timezone=NY)
    weeks_mon = rng({"date_from": "2024-10-30", "date_to": "2024-11-12"}, "week", timezone=NY, week_start_day=MONDAY)
    utc = dt.UTC
    insert_events(
        team.pk,
        [
            {"timestamp": dt.datetime(2024, 11, 3, 3, 59, tzinfo=utc)},  # 2 Nov 23:59 EDT: before the hour range
            {"timestamp": dt.datetime(2024, 11, 3, 4, 10, tzinfo=utc)},  # 00:10 EDT
            {"timestamp": dt.datetime(2024, 11, 3, 5, 10, tzinfo=utc)},  # 01:10 EDT
            {"timestamp": dt.datetime(2024, 11, 3, 5, 50, tzinfo=utc)},  # 01:50 EDT
            {"timestamp": dt.datetime(2024, 11, 3, 6, 20, tzinfo=utc)},  # 01:20 EST (the second 01:00)
            {"timestamp": dt.datetime(2024, 11, 3, 8, 30, tzinfo=utc)},  # 03:30 EST
            {"timestamp": dt.datetime(2024, 11, 10, 4, 30, tzinfo=utc)},  # Sun 10 Nov 00:00 EST is 05:00Z: Sat 9th
            {"timestamp": dt.datetime(2024, 11, 11, 4, 30, tzinfo=utc)},  # Sun 10 Nov 23:30 EST
            {"timestamp": dt.datetime(2024, 11, 12, 4, 30, tzinfo=utc)},  # Mon 11 Nov 23:30 EST
            {"timestamp": dt.datetime(2024, 11, 13, 5, 30, tzinfo=utc)},  # Wed 13 Nov 00:30 EST: after the range
        ],
    )

    def counts(q: QueryDateRange) -> list[int]:
        query = (
            f"SELECT {to_hogql(q.bucket_expr())} AS bucket, count() FROM events"
            f" WHERE {to_hogql(q.range_condition())} GROUP BY bucket ORDER BY bucket"
        )
        result = [0] * len(q.buckets)
        for bucket, count in hogql_execute(team=team, query=query).results:
            index = q.bucket_index(bucket)
            assert index is not None, bucket
            result[index] += count
        return result

    assert hours.days == [
        "2024-11-03 00:00:00", "2024-11-03 01:00:00", "2024-11-03 01:00:00",
        "2024-11-03 02:00:00", "2024-11-03 03:00:00",
    ]  # fmt: skip
    assert counts(hours) == [1, 2, 1, 0, 1]
    assert counts(days) == [1, 5, 0]  # 3 Nov is 25 hours long
    # Sunday weeks: 27 Oct (30 Oct – 2 Nov), 3 Nov, 10 Nov; Monday weeks: 28 Oct, 4 Nov, 11 Nov
    assert weeks_sun.days == ["2024-10-27", "2024-11-03", "2024-11-10"]
    assert counts(weeks_sun) == [1, 6, 2]
    assert weeks_mon.days == ["2024-10-28", "2024-11-04", "2024-11-11"]
    assert counts(weeks_mon) == [6, 2, 1]
