"""GET /api/projects/:id/exports/:id/content/ — bytes typed as the format, the download name, 404 without bytes
(§A9), and object storage in a directory with an inline fallback (§A8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exports.models import ExportedAsset
from tests.auth_matrix import assert_auth_matrix
from tests.exports.conftest import CSV, XLSX, create, exports_url, hogql, make_asset

NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}


def test_auth_matrix(project: Any, other_project: Any) -> None:
    asset = make_asset(project, content=b"x")
    url = exports_url(project, f"{asset.pk}/content/")
    assert_auth_matrix(project, other_project, "get", url, scope="export:read")


def test_serves_bytes_with_the_format_as_content_type_inline(project: Any) -> None:
    asset = make_asset(project, content=b"a,b\r\n1,2\r\n")
    response = project.client().get(exports_url(project, f"{asset.pk}/content/"))
    assert response.status_code == 200
    assert response.content == b"a,b\r\n1,2\r\n"
    assert response["Content-Type"] == CSV
    assert "Content-Disposition" not in response
    assert response["Cache-Control"] == "max-age=86400"


def test_download_names_the_attachment(project: Any) -> None:
    asset = make_asset(project, export_format=XLSX, content=b"PK", export_context={"filename": "Q3 numbers"})
    response = project.client().get(exports_url(project, f"{asset.pk}/content/"), {"download": "true"})
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="q3-numbers.xlsx"'
    unnamed = make_asset(project, export_format="image/png", content=b"png")
    response = project.client().get(exports_url(project, f"{unnamed.pk}/content"), {"download": "true"})
    assert response["Content-Disposition"] == 'attachment; filename="export.png"'


def test_any_accept_header_gets_the_file(project: Any) -> None:
    asset = make_asset(project, content=b"x")
    response = project.client().get(exports_url(project, f"{asset.pk}/content/"), HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response.content == b"x"


def test_404_while_there_are_no_bytes_and_the_row_is_untouched(project: Any) -> None:
    asset = make_asset(project)
    response = project.client().get(exports_url(project, f"{asset.pk}/content/"))
    assert response.status_code == 404 and response.json() == NOT_FOUND
    as_csv = project.client().get(exports_url(project, f"{asset.pk}/content/"), HTTP_ACCEPT="text/csv")
    assert as_csv.status_code == 404 and as_csv["Content-Type"] == "application/json"  # not JSON labelled CSV
    assert as_csv.json() == NOT_FOUND
    assert ExportedAsset.objects.get(pk=asset.pk).exception is None


def test_other_projects_export_is_404(project: Any, other_project: Any) -> None:
    theirs = make_asset(other_project, content=b"secret")
    assert project.client().get(exports_url(project, f"{theirs.pk}/content/")).status_code == 404


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_storage_directory_keeps_only_a_location(project: Any, settings, tmp_path: Path) -> None:
    settings.EXPORTS_STORAGE_DIR = str(tmp_path)
    response = create(project, {"export_format": CSV, "export_context": hogql("SELECT 2 AS two")})
    asset = ExportedAsset.objects.get(pk=response.json()["id"])

    assert response.json()["has_content"] is True
    assert asset.content is None
    assert asset.content_location.startswith(f"exports/csv/team-{project.team.pk}/task-{asset.pk}/")
    assert (tmp_path / asset.content_location).read_bytes() == b"two\r\n2\r\n"
    assert project.client().get(exports_url(project, f"{asset.pk}/content/")).content == b"two\r\n2\r\n"


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_a_failing_store_falls_back_to_inline_bytes(project: Any, settings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.EXPORTS_STORAGE_DIR = str(blocker)
    response = create(project, {"export_format": CSV, "export_context": hogql("SELECT 3 AS three")})
    asset = ExportedAsset.objects.get(pk=response.json()["id"])
    assert asset.content_location is None and bytes(asset.content) == b"three\r\n3\r\n"


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ('Q3 "final"\r\nContent-Type: text/html', "q3-final-content-type-texthtml.csv"),
        ("report; filename=evil.exe", "report-filenameevilexe.csv"),
        ("Über ünïcödé", "uber-unicode.csv"),
        ("日本語", "export.csv"),  # nothing ASCII is left: the default name, never a bare ".csv"
        ("../../etc/passwd", "etcpasswd.csv"),
    ],
)
def test_download_name_is_a_safe_slug(project: Any, requested: str, expected: str) -> None:
    asset = make_asset(project, content=b"x", export_context={"filename": requested})
    response = project.client().get(exports_url(project, f"{asset.pk}/content/"), {"download": "true"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'
    assert project.client().get(exports_url(project, f"{asset.pk}/")).json()["filename"] == expected
