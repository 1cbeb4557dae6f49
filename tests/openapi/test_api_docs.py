"""The API reference cannot drift: committed docs equal what the spec generates, and a stale copy fails."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from openapi.docs import render
from openapi.management.commands.generate_api_docs import build_spec

ROOT = Path(__file__).resolve().parents[2]


def test_committed_docs_are_up_to_date(tmp_path):
    call_command("generate_api_docs", "--out", str(tmp_path))
    generated = {str(p.relative_to(tmp_path)): p.read_text() for p in tmp_path.rglob("*.md")}
    committed = {str(p.relative_to(ROOT / "docs/api")): p.read_text() for p in (ROOT / "docs/api").rglob("*.md")}
    stale = sorted(n for n in set(generated) | set(committed) if generated.get(n) != committed.get(n))
    assert stale == [], f"run `manage.py generate_api_docs` and commit docs/api: {stale[:10]}"


def test_output_is_deterministic():
    assert render(build_spec()) == render(build_spec())


def test_every_operation_file_embeds_its_referenced_schemas():
    files = render(build_spec())
    me = files["operations/users_retrieve.md"]
    for name in ('"Me"', '"TeamBasic"', '"OrganizationBasic"'):
        assert name in me


@pytest.mark.slow
def test_check_fails_when_a_help_text_changes_in_a_throwaway_copy(tmp_path):
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns(".venv", "var", "node_modules", ".git", "__pycache__", ".hypothesis")
    shutil.copytree(ROOT, copy, ignore=ignore)
    env = {
        **os.environ,
        "DEBUG": "true",
        "VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "posthog_clone.settings",
    }
    check = [sys.executable, "manage.py", "generate_api_docs", "--check"]
    assert subprocess.run(check, cwd=copy, env=env, capture_output=True).returncode == 0
    serializers = copy / "posthog_clone/accounts/serializers.py"
    text = serializers.read_text()
    assert "Project API key (phc_…) used by SDKs to send events." in text
    serializers.write_text(text.replace("used by SDKs to send events.", "used by SDKs to send their events."))
    stale = subprocess.run(check, cwd=copy, env=env, capture_output=True, text=True)
    assert stale.returncode == 1
    assert "stale" in stale.stderr


def test_spectacular_validates_with_zero_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3")


def test_every_operation_file_lists_its_responses_with_their_bodies():
    spec = build_spec()
    files = render(spec)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            text = files[f"operations/{op['operationId']}.md"]
            table = text.split("## Responses", 1)[1].split("## Schema", 1)[0]
            for code, response in op["responses"].items():
                assert f"| {code} | {' '.join(response['description'].split())} |" in table, (method, path, code)
    me = files["operations/users_retrieve.md"]
    assert "| 403 | Permission denied (`permission_denied`): the personal API key lacks `user:read`" in me
    assert "| 404 | Not found (`not_found`): nothing has this id. | `Error` (application/json) |" in me
    by_name = files["operations/event_definitions_by_name_retrieve.md"]
    assert "| `Error` or `Detail` (application/json) |" in by_name
    index = files["event-definitions.md"]
    assert "| Operation | Method | Path | Errors |" in index
    assert "`/api/projects/{project_id}/event_definitions/{id}/` | 401, 403, 404, 429 |" in index
