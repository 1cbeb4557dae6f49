"""Dates shared by the insight query kinds: PostHog's relative-date grammar, the `dateRange` of a query resolved
in the team timezone, the interval grid (`days` / `labels`), the previous period of `compareFilter`, and the
HogQL pieces that bucket and bound `timestamp`.

Relative dates (`-7d`, `-24h`, `-3m`, `-1q`, `-1y`, `-1mStart`, `-1dEnd`, `mStart`, `yStart`, `-30M`, …) are
wall-clock arithmetic in the team timezone, as PostHog does it: `m` is months and `M` minutes, `q` is 13 weeks.
Absolute dates are ISO (`2024-01-31`, `2024-01-31T10:00`); without an offset they are team-local, with one they
are converted. Everything the user got wrong raises `DateRangeError`, an exposed HogQL error (a 400).

Moments are handled as naive team-local wall-clock datetimes while resolving, and as aware datetimes (team
timezone) once resolved; buckets step by real time for hour/minute intervals, so an hour grid across a DST
change has 23 or 25 entries, the way ClickHouse's `toStartOfHour` in that timezone groups events.

Pure: no Django, no ClickHouse. The HogQL helpers return unresolved HogQL (sqlglot trees) for the compiler.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot import exp

from query import clock
from query.hogql.ast import call, column, const
from query.hogql.errors import HogQLQueryError

INTERVALS = ("minute", "hour", "day", "week", "month")
"""The `IntervalType`s this backend buckets by (`second`, PostHog's newest, is refused)."""
DEFAULT_INTERVAL = "day"
DEFAULT_DATE_FROM_DAYS = 7
SUNDAY, MONDAY = 0, 1
"""`week_start_day` values, as PostHog's `team.week_start_day` (null = Sunday)."""
WEEK_MODES = {SUNDAY: 0, MONDAY: 3}
"""ClickHouse `toStartOfWeek` mode per week start."""

_RELATIVE = re.compile(r"^-?(\d*)([hdwmqysM])(Start|End)?$")
_DATE_HINT = "use an ISO date (2024-01-31) or a relative date (-7d, -1mStart)"
_SECONDS = {"s": 1, "M": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "q": 91 * 86400}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_END_OF_DAY = {"hour": 23, "minute": 59, "second": 59, "microsecond": 999999}
_START_OF_DAY = {"hour": 0, "minute": 0, "second": 0, "microsecond": 0}


class DateRangeError(HogQLQueryError):
    """A date, date range or interval that cannot be used; `attr` names the field (`date_from`, `interval`)."""

    code_name = "invalid_date_range"

    def __init__(self, message: str, attr: str = ""):
        super().__init__(message)
        self.attr = attr


# ---------------------------------------------------------------------------------------------------
# relative and absolute dates


@dataclass(frozen=True)
class ParsedDate:
    """One date string resolved to a naive team-local moment. `unit`/`amount`/`position` describe a relative
    date (`-14d` → d, 14, None); `date_only` is true for an absolute date without a time (`2024-01-31`)."""

    moment: dt.datetime
    unit: str | None = None
    amount: int = 0
    position: str | None = None
    date_only: bool = False

    @property
    def relative(self) -> bool:
        return self.unit is not None


def zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DateRangeError(f"Unknown timezone: {timezone}") from None


def local_now(timezone: str, now: dt.datetime | None = None) -> dt.datetime:
    """`now` (default: the current time; naive = UTC) as a naive wall-clock time in `timezone`."""
    now = now or clock.now()
    return (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).astimezone(zone(timezone)).replace(tzinfo=None)


def parse_date(value: Any, timezone: str, now: dt.datetime | None = None) -> ParsedDate:
    """A date string → the team-local moment it means. Relative dates are truncated to the day (to the hour for
    `h`; not for `M`/`s`); `Start`/`End` snap to the start/end of that day, hour, month or year (`w`, `q` snap
    to the day, as PostHog)."""
    text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
    match = _RELATIVE.match(text)
    if match:
        amount, unit, position = int(match.group(1) or 0), match.group(2), match.group(3)
        moment = shift(local_now(timezone, now), amount, unit)
        return ParsedDate(snap(moment, unit, position), unit, amount, position)
    parsed = _parse_absolute(text)
    if parsed is None:
        raise DateRangeError(f"Invalid date '{value}': {_DATE_HINT}")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(zone(timezone)).replace(tzinfo=None)
    return ParsedDate(parsed, date_only=len(text) <= 10)


def _parse_absolute(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:  # dates without zero padding (2024-1-5), which PostHog accepts too
        return dt.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return None


def shift(moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
    """`moment` minus `amount` units, on the wall clock; months and years clamp the day (31 Mar - 1m = 29 Feb)."""
    if unit in {"m", "y"}:
        months = amount * (12 if unit == "y" else 1)
        total = moment.year * 12 + moment.month - 1 - months
        year, month = divmod(total, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day)
    return moment - dt.timedelta(seconds=amount * _SECONDS[unit])


def snap(moment: dt.datetime, unit: str, position: str | None) -> dt.datetime:
    day_start = moment.replace(**_START_OF_DAY)
    if position is None:
        if unit in {"M", "s"}:
            return moment
        return moment.replace(minute=0, second=0, microsecond=0) if unit == "h" else day_start
    end = position == "End"
    if unit in {"h", "M", "s"}:
        start = moment.replace(minute=0, second=0, microsecond=0)
        return start + dt.timedelta(hours=1, microseconds=-1) if end else start
    if unit == "m":
        start = day_start.replace(day=1)
        last = calendar.monthrange(start.year, start.month)[1]
        return start.replace(day=last, **_END_OF_DAY) if end else start
    if unit == "y":
        start = day_start.replace(month=1, day=1)
        return start.replace(month=12, day=31, **_END_OF_DAY) if end else start
    return moment.replace(**_END_OF_DAY) if end else day_start


# ---------------------------------------------------------------------------------------------------
# the date range of a query


@dataclass(frozen=True)
class Bucket:
    """One interval of the grid: `start` (aware, team tz) ≤ t < `end`; `day` and `label` as PostHog shows them."""

    start: dt.datetime
    end: dt.datetime
    day: str
    label: str


class QueryDateRange:
    """A query's `dateRange` (`{date_from?, date_to?, explicitDate?}`) and `interval`, resolved in `timezone`
    against `now`. `date_from: "all"` asks `earliest_event()` (the team's first event timestamp, naive = UTC;
    None when there are none, which falls back to the default range start).

    Rounding unless `explicitDate`: `date_from` → 00:00 (kept at the hour for a relative `-Nh`, at the hour for
    the hour interval, verbatim for minute); `date_to` → 23:59:59.999999 for day/week/month, and the end of the
    hour/minute for those intervals when `date_to` is relative or absent. A `date_from` after `date_to` is not
    an error (PostHog answers it with an empty grid): `buckets` is then empty.
    """

    def __init__(
        self,
        date_range: Mapping[str, Any] | None = None,
        *,
        interval: str | None = None,
        timezone: str = "UTC",
        week_start_day: int | None = SUNDAY,
        now: dt.datetime | None = None,
        earliest_event: Callable[[], dt.datetime | None] | None = None,
    ):
        if date_range is not None and not isinstance(date_range, Mapping):
            raise DateRangeError("dateRange must be an object", "dateRange")
        self.date_range = dict(date_range or {})
        self.interval = validate_interval(interval)
        self.timezone = timezone
        self.zone = zone(timezone)
        self.week_start_day = week_start_day or SUNDAY
        if self.week_start_day not in WEEK_MODES:
            raise ValueError(f"week_start_day must be 0 (Sunday) or 1 (Monday), not {week_start_day!r}")
        self.now = local_now(timezone, now)
        self.explicit = self.date_range.get("explicitDate") in (True, 1, "true")
        self._earliest_event = earliest_event
        self._from = self._parse("date_from")
        self._to = self._parse("date_to")
        self._local_from = self._resolve_from()
        self._local_to = self._resolve_to()

    @classmethod
    def for_team(cls, team: Any, date_range: Mapping[str, Any] | None = None, **kwargs: Any) -> QueryDateRange:
        """The range in `team.timezone`, weeks starting on `team.week_start_day` (Sunday when it has none)."""
        return cls(
            date_range,
            timezone=team.timezone or "UTC",
            week_start_day=getattr(team, "week_start_day", None),
            **kwargs,
        )

    @classmethod
    def between(
        cls, date_from: dt.datetime, date_to: dt.datetime, *, interval: str, timezone: str, week_start_day: int
    ) -> QueryDateRange:
        """A range with exactly these (naive team-local) bounds, e.g. a previous period."""
        fmt = "%Y-%m-%dT%H:%M:%S.%f"
        return cls(
            {"date_from": date_from.strftime(fmt), "date_to": date_to.strftime(fmt), "explicitDate": True},
            interval=interval,
            timezone=timezone,
            week_start_day=week_start_day,
        )

    # -- resolution

    def _parse(self, key: str) -> ParsedDate | None:
        value = self.date_range.get(key)
        if value is None or (key == "date_from" and value == "all"):
            return None
        try:
            return parse_date(value, self.timezone, self._aware(self.now))
        except DateRangeError:
            raise DateRangeError(f"Invalid date '{value}' in dateRange.{key}: {_DATE_HINT}", key) from None

    def _resolve_from(self) -> dt.datetime:
        parsed = self._from
        if self.date_range.get("date_from") == "all":
            moment = self._earliest()
        elif parsed is None:
            moment = self.now.replace(**_START_OF_DAY) - dt.timedelta(days=DEFAULT_DATE_FROM_DAYS)
        else:
            moment = parsed.moment
        if self.explicit or self.interval == "minute":
            return moment
        if self.interval == "hour" or (parsed is not None and parsed.unit == "h"):
            return moment.replace(minute=0, second=0, microsecond=0)
        return moment.replace(**_START_OF_DAY)

    def _earliest(self) -> dt.datetime:
        if self._earliest_event is None:
            raise DateRangeError("date_from 'all' needs the project's first event, which is unknown here", "date_from")
        first = self._earliest_event()
        if first is None:  # no events yet: the default range
            return self.now.replace(**_START_OF_DAY) - dt.timedelta(days=DEFAULT_DATE_FROM_DAYS)
        return local_now(self.timezone, first)

    def _resolve_to(self) -> dt.datetime:
        parsed = self._to
        moment = self.now if parsed is None else parsed.moment
        if self.explicit:
            return moment
        if self.interval in {"day", "week", "month"}:
            return moment.replace(**_END_OF_DAY)
        if parsed is None or parsed.relative:
            if self.interval == "hour":
                return moment.replace(minute=59, second=59, microsecond=999999)
            return moment.replace(second=59, microsecond=999999)
        return moment

    def _aware(self, local: dt.datetime) -> dt.datetime:
        """A naive team-local time → aware; a time skipped by DST moves forward, a repeated one is the first."""
        return local.replace(tzinfo=self.zone).astimezone(dt.UTC).astimezone(self.zone)

    # -- bounds

    @property
    def date_from(self) -> dt.datetime:
        return self._aware(self._local_from)

    @property
    def date_to(self) -> dt.datetime:
        return self._aware(self._local_to)

    @property
    def week_mode(self) -> int:
        return WEEK_MODES[self.week_start_day]

    def interval_start(self, local: dt.datetime) -> dt.datetime:
        """The (aware) start of the interval holding a naive team-local moment."""
        if self.interval == "minute":
            return self._aware(local.replace(second=0, microsecond=0))
        if self.interval == "hour":
            aware = self._aware(local)
            return aware.replace(minute=0, second=0, microsecond=0, fold=aware.fold)
        day = local.date()
        if self.interval == "week":
            back = (day.weekday() + 1) % 7 if self.week_start_day == SUNDAY else day.weekday()
            day -= dt.timedelta(days=back)
        elif self.interval == "month":
            day = day.replace(day=1)
        return self._aware(dt.datetime.combine(day, dt.time()))

    def _next(self, start: dt.datetime) -> dt.datetime:
        if self.interval in {"minute", "hour"}:  # real time, so DST hours are neither skipped nor merged
            step = dt.timedelta(minutes=1 if self.interval == "minute" else 60)
            return (start.astimezone(dt.UTC) + step).astimezone(self.zone)
        day = start.date()
        if self.interval == "day":
            day += dt.timedelta(days=1)
        elif self.interval == "week":
            day += dt.timedelta(days=7)
        else:
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return self._aware(dt.datetime.combine(day, dt.time()))

    @property
    def first_bucket_start(self) -> dt.datetime:
        return self.interval_start(self._local_from)

    # -- the grid

    @cached_property
    def buckets(self) -> list[Bucket]:
        """Every interval from the one holding `date_from` through the one holding `date_to`, empty ones too."""
        result: list[Bucket] = []
        start, last = self.first_bucket_start, self.date_to.astimezone(dt.UTC)
        while start.astimezone(dt.UTC) <= last:  # in UTC: same-zone datetimes compare by wall clock
            end = self._next(start)
            result.append(Bucket(start, end, self._day(start), self._label(start, end)))
            start = end
        return result

    @cached_property
    def _utc_starts(self) -> list[dt.datetime]:
        return [b.start.astimezone(dt.UTC) for b in self.buckets]

    @property
    def days(self) -> list[str]:
        return [b.day for b in self.buckets]

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.buckets]

    def bucket_index(self, value: dt.datetime | dt.date | str) -> int | None:
        """Which bucket a value of the bucket expression (DateTime, or Date for week/month; or its ISO text, as
        query results carry it) falls in; naive datetimes are team-local. None when outside the grid."""
        if isinstance(value, str):
            value = dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
        if isinstance(value, dt.datetime):
            moment = value.astimezone(self.zone) if value.tzinfo else self._aware(value)
        else:
            moment = self._aware(dt.datetime.combine(value, dt.time()))
        moment = moment.astimezone(dt.UTC)  # same-zone datetimes compare by wall clock, blind to DST folds
        index = bisect.bisect_right(self._utc_starts, moment) - 1
        if index < 0 or moment >= self.buckets[index].end.astimezone(dt.UTC):
            return None
        return index

    def _day(self, start: dt.datetime) -> str:
        return start.strftime("%Y-%m-%d %H:%M:%S" if self.interval in {"minute", "hour"} else "%Y-%m-%d")

    def _label(self, start: dt.datetime, end: dt.datetime) -> str:
        if self.interval in {"minute", "hour"}:
            return f"{start.day}-{_MONTHS[start.month - 1]} {start:%H:%M}"
        if self.interval == "day":
            return _day_label(start.date())
        if self.interval == "month":
            return f"{_MONTHS[start.month - 1]} {start.year}"
        # week: the part of the week inside the range
        first = max(start.date(), self._local_from.date())
        last = min((end - dt.timedelta(microseconds=1)).date(), self._local_to.date())
        if first.year != last.year:
            return f"{_day_label(first)} – {_day_label(last)}"
        if first.month != last.month:
            return f"{first.day}-{_MONTHS[first.month - 1]} – {last.day}-{_MONTHS[last.month - 1]}"
        return f"{first.day}–{last.day} {_MONTHS[first.month - 1]}"

    def resolved_date_range(self) -> dict[str, str]:
        """`resolved_date_range` of a response: ISO, team timezone."""
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}

    # -- compareFilter

    def previous_period(self, compare_to: str | None = None) -> QueryDateRange:
        """The range `compareFilter` compares with. With `compare_to` (`-1w`, `-14d`, …): this range shifted back
        by it. Without: as long as this one and ending where it starts (same time of day for hour/minute,
        whole days otherwise); `mStart`/`yStart` with no `date_to` → the whole previous month/year; a day
        interval with `date_from` `-Nd` (N a multiple of 7) and no `date_to` starts a day later, as PostHog."""
        start, stop = self._local_from, self._local_to
        length = stop - start
        if compare_to is not None:
            match = _RELATIVE.match(str(compare_to).strip()) if isinstance(compare_to, str) else None
            if not match:
                message = f"Invalid compare_to '{compare_to}': use a relative date (-1w, -14d)"
                raise DateRangeError(message, "compare_to")
            amount, unit, position = int(match.group(1) or 0), match.group(2), match.group(3)
            moved = shift(start, amount, unit)
            moved = snap(moved, unit, position) if position else moved
            return self._between(moved, moved + length)
        parsed = self._from
        this_unit = parsed and parsed.position == "Start" and parsed.unit in {"m", "y"} and not parsed.amount
        if this_unit and self._to is None:
            return self._between(shift(start, 1, parsed.unit), start - dt.timedelta(microseconds=1))
        begin = start - length
        if self.interval in {"minute", "hour"}:
            begin = begin.replace(hour=start.hour, minute=start.minute if self.interval == "minute" else 0)
            begin = begin.replace(second=0, microsecond=0)
            end = (begin + length).replace(second=59, microsecond=999999)
            return self._between(begin, end if self.interval == "minute" else end.replace(minute=59))
        begin = begin.replace(**_START_OF_DAY)
        weekly = parsed is not None and parsed.unit == "d" and parsed.position is None and parsed.amount % 7 == 0
        if self.interval == "day" and weekly and parsed.amount and self._to is None:
            begin += dt.timedelta(days=1)
        return self._between(begin, (begin + length).replace(**_END_OF_DAY))

    def _between(self, start: dt.datetime, stop: dt.datetime) -> QueryDateRange:
        return QueryDateRange.between(
            start, stop, interval=self.interval, timezone=self.timezone, week_start_day=self.week_start_day
        )

    # -- HogQL

    def bucket_expr(self, field: exp.Expression | None = None) -> exp.Expression:
        """The start of the interval holding `field` (default `timestamp`), which the compiler reads in the team
        timezone: toStartOfHour/Day/Month, toStartOfWeek(…, mode) (a Date for week and month)."""
        target = field if field is not None else column("timestamp")
        name = {
            "minute": "toStartOfMinute",
            "hour": "toStartOfHour",
            "day": "toStartOfDay",
            "week": "toStartOfWeek",
            "month": "toStartOfMonth",
        }[self.interval]
        if self.interval == "week":
            return call(name, target, const(self.week_mode))
        return call(name, target)

    def interval_expr(self, count: int = 1) -> exp.Expression:
        """`count` intervals as a HogQL interval (`toIntervalDay(1)`), e.g. for a lookback of one interval."""
        return call(f"toInterval{self.interval.capitalize()}", const(count))

    def range_condition(self, field: exp.Expression | None = None, *, from_bucket_start: bool = True) -> exp.Expression:
        """`first bucket start (or date_from) <= field <= date_to` (default field `timestamp`)."""
        target = field if field is not None else column("timestamp")
        lower = self.first_bucket_start if from_bucket_start else self.date_from
        return exp.and_(
            exp.GTE(this=target, expression=moment_expr(lower)),
            exp.LTE(this=target.copy(), expression=moment_expr(self.date_to)),
        )


def validate_interval(interval: Any) -> str:
    if interval is None:
        return DEFAULT_INTERVAL
    if interval == "second":
        raise DateRangeError("The second interval is not supported, use minute, hour, day, week or month", "interval")
    if interval not in INTERVALS:
        raise DateRangeError(f"Value '{interval}' is not an instance of IntervalType", "interval")
    return interval


def moment_expr(moment: dt.datetime) -> exp.Expression:
    """An aware moment as a HogQL DateTime64 constant in UTC (no DST ambiguity of a team-local wall time)."""
    text = moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return call("toDateTime64", exp.Literal.string(text), const(6), exp.Literal.string("UTC"))


def _day_label(day: dt.date) -> str:
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"
