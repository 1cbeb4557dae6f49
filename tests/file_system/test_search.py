"""The list `search` mini-language, table-driven: every token kind, negation, quotes, combinations."""

from __future__ import annotations

from typing import Any

import pytest

from file_system.models import FileSystem
from file_system.paths import path_depth
from file_system.search import tokenize
from posthog_clone.accounts.services import user_create
from tests.file_system.conftest import fs_url

BETA = "Unfiled/Feature Flags/beta-flag"
TABS = "unfiled/scene-tabs"
REVENUE = "Banana/go\\/revenue"
PLAN = "Marketing/Q1 plan"
NOTES = "Marketing/Q1 plan/notes"
REPORT = "Reports/marketing"
SLACK = "Pipeline/Destinations/slack"
STRIPE = "Pipeline/Sources/stripe"
OBRIEN = "People/O'Brien"
COLON = "Misc/foo:bar"
BACKSLASH = "Misc/back\\\\slash"

# path, type, ref, created by Bob (else the requester)
ROWS = [
    (BETA, "feature_flag", "12", False),
    (TABS, "feature_flag", "13", False),
    (REVENUE, "insight", "abc", False),
    (PLAN, "folder", None, True),
    (NOTES, "notebook", "n1", True),
    (REPORT, "dashboard", "4", False),
    (SLACK, "hog_function/destination", "h1", False),
    (STRIPE, "hog_function/source", "h2", False),
    (OBRIEN, "person", "p", False),
    (COLON, "", None, False),
    (BACKSLASH, "", None, False),
]
ALL = {row[0] for row in ROWS}

CASES = [
    # plain tokens: case-insensitive substring of path or type
    ("beta", {BETA}),
    ("BETA", {BETA}),
    ("flag scene tabs", {TABS}),
    ("notebook", {NOTES}),
    ("go/revenue", {REVENUE}),  # `/` matches an escaped slash ...
    ("banana/GO", {REVENUE}),  # ... or a real separator
    ("back\\slash", {BACKSLASH}),  # a literal backslash matches the stored `\\`
    ("nothing-matches", set()),
    # name: the last segment only; path: an ancestor segment only
    ("name:marketing", {REPORT}),
    ("path:marketing", {PLAN, NOTES}),
    ('name:"q1 plan"', {PLAN}),
    ('path:"q1 plan"', {NOTES}),
    ("name:go/revenue", {REVENUE}),
    ("name:go", {REVENUE}),
    ("path:go", set()),
    ("path:banana", {REVENUE}),
    ("NAME:Slack", {SLACK}),  # field names are case-insensitive
    # user: / author: creator name or email; user:me
    ("user:bob", {PLAN, NOTES}),
    ("author:builder", {PLAN, NOTES}),
    ('user:"bob builder"', {PLAN, NOTES}),
    ("user:BOB@EXAMPLE", {PLAN, NOTES}),
    ("user:me", ALL - {PLAN, NOTES}),
    # type: exact, trailing / = prefix, bare hog function subtypes
    ("type:feature_flag", {BETA, TABS}),
    ("type:feature", set()),
    ("type:hog_function/", {SLACK, STRIPE}),
    ("type:destination", {SLACK}),
    ("type:source", {STRIPE}),
    # ref: exact
    ("ref:12", {BETA}),
    ("ref:1", set()),
    # an unknown field is a plain substring of the whole token
    ("foo:bar", {COLON}),
    # negation with - or !
    ("-beta", ALL - {BETA}),
    ("!beta", ALL - {BETA}),
    ("-type:feature_flag", ALL - {BETA, TABS}),
    ("!user:me", {PLAN, NOTES}),
    ("-ref:12", ALL - {BETA}),
    ("-name:marketing", ALL - {REPORT}),
    # quotes
    ('"scene-tabs"', {TABS}),
    ("'q1 plan'", {PLAN, NOTES}),
    ("o'brien", {OBRIEN}),  # an unmatched apostrophe is a plain character
    ('"feature flags/beta"', {BETA}),
    # combinations (AND)
    ("type:hog_function/ -stripe", {SLACK}),
    ("flag -tabs", {BETA}),
    ("marketing user:me", {REPORT}),
    ("path:pipeline !type:source name:sl", {SLACK}),
    ("- beta", {BETA}),  # a lone `-` means nothing
    ("name: beta", {BETA}),  # an empty field value means nothing
]


@pytest.fixture
def rows(project: Any) -> None:
    bob = user_create(email="bob@example.com", organization=project.organization)
    bob.first_name, bob.last_name = "Bob", "Builder"
    bob.save()
    FileSystem.objects.bulk_create(
        FileSystem(
            team=project.team,
            path=path,
            depth=path_depth(path),
            type=kind,
            ref=ref,
            created_by=bob if by_bob else project.user,
        )
        for path, kind, ref, by_bob in ROWS
    )


@pytest.mark.parametrize(("search", "expected"), CASES, ids=[case[0] for case in CASES])
def test_search(project: Any, rows: None, search: str, expected: set[str]) -> None:
    response = project.client().get(fs_url(project), {"search": search})
    assert response.status_code == 200, response.content
    assert {row["path"] for row in response.json()["results"]} == expected


@pytest.mark.parametrize(
    ("search", "tokens"),
    [
        ('a "b c" d', ["a", "b c", "d"]),
        ("name:'x y'", ["name:x y"]),
        ("o'brien", ["o'brien"]),
        ('say "hi', ["say", '"hi']),
        ('-"two words"', ["-two words"]),
        ("back\\slash", ["back\\slash"]),
    ],
)
def test_tokenize(search: str, tokens: list[str]) -> None:
    assert tokenize(search) == tokens


def test_user_me_is_the_requester_not_the_key_owner_of_another_project(
    project: Any, other_project: Any, rows: None
) -> None:
    FileSystem.objects.create(team=other_project.team, path="theirs", depth=1, created_by=other_project.user)
    results = project.client().get(fs_url(project), {"search": "user:me"}).json()["results"]
    assert {row["path"] for row in results} == ALL - {PLAN, NOTES}
