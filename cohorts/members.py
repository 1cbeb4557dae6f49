"""Reads and writes of dynamic cohorts' members in ClickHouse `cohortpeople`, the cohort app's own table
(posthog_clone.clickhouse's client, parameters bound by the server; every statement names the team).

A calculation inserts all its members at a new `version`; readers take `version = cohort.version`."""

from __future__ import annotations

from collections.abc import Iterator

from posthog_clone.clickhouse import get_client, table
from query.runner import CompiledSelect

_KEY = "team_id = {team_id:Int64} AND cohort_id = {cohort_id:Int64} AND version = {version:UInt64}"


def insert_members(*, team_id: int, cohort_id: int, version: int, members: CompiledSelect) -> None:
    """`INSERT … SELECT` of the compiled members SELECT (one column: person ids; its own team guards) at
    `version`, for this team and cohort only."""
    if len(members.columns) != 1:
        raise ValueError(f"a cohort's members SELECT has one column (the person id), not {members.columns}")
    overlap = {"team_id", "cohort_id", "version"} & set(members.params)
    if overlap:
        raise ValueError(f"parameter names clash: {sorted(overlap)}")
    sql = (
        f"INSERT INTO {table('cohortpeople')} (person_id, team_id, cohort_id, version) "
        "SELECT DISTINCT member.1, {team_id:Int64}, {cohort_id:Int64}, {version:UInt64} "
        f"FROM (SELECT tuple(*) AS member FROM ({members.sql}))"
    )
    params = {**members.params, "team_id": team_id, "cohort_id": cohort_id, "version": version}
    get_client().command(sql, params, settings=members.settings)


def count(*, team_id: int, cohort_id: int, version: int) -> int:
    sql = f"SELECT uniqExact(person_id) FROM {table('cohortpeople')} WHERE {_KEY}"
    rows = get_client().query(sql, {"team_id": team_id, "cohort_id": cohort_id, "version": version}).rows
    return int(rows[0][0]) if rows else 0


def page(*, team_id: int, cohort_id: int, version: int, limit: int, offset: int) -> list[str]:
    """Member person ids at `version`, in id order."""
    sql = (
        f"SELECT DISTINCT person_id FROM {table('cohortpeople')} WHERE {_KEY} "
        "ORDER BY person_id LIMIT {limit:UInt64} OFFSET {offset:UInt64}"
    )
    params = {"team_id": team_id, "cohort_id": cohort_id, "version": version, "limit": limit, "offset": offset}
    return [str(row[0]) for row in get_client().query(sql, params).rows]


def every(*, team_id: int, cohort_id: int, version: int, chunk: int = 10_000) -> Iterator[list[str]]:
    """All member person ids at `version`, a chunk at a time."""
    offset = 0
    while True:
        ids = page(team_id=team_id, cohort_id=cohort_id, version=version, limit=chunk, offset=offset)
        if ids:
            yield ids
        if len(ids) < chunk:
            return
        offset += chunk


def cohorts_of(*, team_id: int, person_id: str, versions: dict[int, int]) -> set[int]:
    """Which of these cohorts (cohort id → the calculation readers take) hold the person at that version
    (one lookup on the table's key: team, cohort, person)."""
    if not versions:
        return set()
    sql = (
        f"SELECT DISTINCT cohort_id, version FROM {table('cohortpeople')} WHERE team_id = {{team_id:Int64}} "
        "AND cohort_id IN {cohort_ids:Array(Int64)} AND person_id = {person_id:UUID}"
    )
    params = {"team_id": team_id, "cohort_ids": sorted(versions), "person_id": person_id}
    return {int(row[0]) for row in get_client().query(sql, params).rows if versions.get(int(row[0])) == int(row[1])}
