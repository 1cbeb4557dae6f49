"""`manage.py export_query`: the operator's export, through the same runner paging and writers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from tests.exports.conftest import insert_events

pytestmark = pytest.mark.clickhouse


def test_writes_a_csv_with_a_progress_bar(project: Any, other_project: Any, tmp_path: Path) -> None:
    insert_events(project.team.pk, [{"event": "a"}] * 2 + [{"event": "b"}])
    insert_events(other_project.team.pk, [{"event": "theirs"}])
    out, err, stdout = tmp_path / "e.csv", io.StringIO(), io.StringIO()
    query = "SELECT event, count() AS n FROM events GROUP BY event ORDER BY event"

    call_command("export_query", query, "--format", "csv", "--out", str(out), "--project", str(project.team.pk),
                 stdout=stdout, stderr=err)  # fmt: skip

    assert out.read_bytes() == b"event,n\r\na,2\r\nb,1\r\n"
    assert "2 rows written" in stdout.getvalue()


def test_xlsx_and_columns(project: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    insert_events(project.team.pk, [{"event": "a", "properties": {"plan": "pro"}}])
    out = tmp_path / "e.xlsx"
    call_command("export_query", "SELECT event, properties FROM events", "--format", "xlsx", "--out", str(out),
                 "--columns", "properties,event", "--project", str(project.team.pk))  # fmt: skip
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows == [("properties.plan", "event"), ("pro", "a")]
    assert "[" in capsys.readouterr().err  # the bar was drawn


def test_bad_query_is_a_command_error(project: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="nope"):
        call_command("export_query", "SELECT nope FROM events", "--out", str(tmp_path / "x.csv"))
