"""Listing one folder's children in a 100,000-row tree: a fixed number of queries, and how long it takes."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from file_system.models import FileSystem
from file_system.paths import path_depth
from tests.file_system.conftest import fs_url

ROWS = 100_000


def build_tree(team: Any, creator: Any) -> None:
    """100 top folders × 10 sub-folders × ~100 files (escaped names included, each naming its creator)."""
    rows = []
    for top in range(100):
        rows.append(f"Top {top}")
        for sub in range(10):
            folder = f"Top {top}/Sub\\/{sub}"
            rows.append(folder)
            rows.extend(f"{folder}/file {n}" for n in range(98))
    rows = rows[:ROWS] + [f"Top 0/extra {n}" for n in range(ROWS - len(rows))]
    assert len(rows) == ROWS
    FileSystem.objects.bulk_create(
        (
            FileSystem(team=team, path=p, depth=path_depth(p), type="doc", meta={"created_by": creator.pk})
            if "file" in p
            else FileSystem(team=team, path=p, depth=path_depth(p), type="folder")
            for p in rows
        ),
        batch_size=5000,
    )


@pytest.mark.slow
def test_children_of_one_folder_in_a_100k_tree_take_a_fixed_number_of_queries(project: Any, capsys: Any) -> None:
    build_tree(project.team, project.user)
    client = project.client()
    client.get(fs_url(project), {"limit": 1})  # warm the key's last_used_at write out of the measurement
    params = {"parent": "Top 42/Sub\\/7", "depth": 3, "limit": 100}
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(fs_url(project), params)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 98
    assert len(body["results"]) == 98
    assert body["results"][0]["path"] == "Top 42/Sub\\/7/file 0"
    assert [user["id"] for user in body["users"]] == [project.user.pk]
    # key, team, membership, count, page, the page's users: nothing per row
    assert len(queries) <= 7, [q["sql"] for q in queries]
    with capsys.disabled():
        print(f"\n100k-row tree: children of one folder listed in {elapsed * 1000:.0f} ms, {len(queries)} queries")
    folders = client.get(fs_url(project), {"parent": "Top 42", "depth": 2}).json()
    assert [r["path"] for r in folders["results"]] == [f"Top 42/Sub\\/{n}" for n in range(10)]
