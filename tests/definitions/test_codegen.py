"""Acceptance 4: the typescript/golang/python endpoints return `{content, event_count, schema_hash,
generator_version}`, and the generated code compiles for a project with several events, groups and every
property type: `tsc --noEmit --strict` (with usage that must and must not type-check), `go vet`, and
`mypy --strict`. `schema_hash` changes exactly when the schema changes.

Go: the Go module proxy is not reachable from the test machines, so the generated package is vetted against
tests/definitions/go_stub/posthog-go, a stand-in declaring the SDK names the wrappers use.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from definitions.models import SchemaPropertyGroupProperty
from tests.conftest import IN_CI
from tests.definitions.conftest import attach, make_event, make_group, url

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "tests" / "js" / "node_modules"
TSC = NODE_MODULES / ".bin" / "tsc"
GO_STUB = Path(__file__).parent / "go_stub" / "posthog-go"
VERSIONS = {"typescript": "1.1.0", "golang": "1.0.0", "python": "1.0.0"}


def require_tool(available: bool, what: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} is missing (runs under CI)")


@pytest.fixture
def schema(project: Any) -> None:
    """Several events; groups covering every property type, names that need sanitising, a name in two groups
    with different types, `is_optional_in_types`, an event without schema and one with an empty group."""
    signed_up = make_event(project, "signed_up")
    attach(signed_up, make_group(project, "account", [
        ("plan", "String", True), ("seats", "Numeric", False), ("trial", "Boolean", True),
        ("signup_at", "DateTime", False), ("metadata", "Object", False),
    ]))  # fmt: skip
    attach(signed_up, make_group(project, "marketing", [
        ("plan", "String", True), ("utm-source", "String", False), ("class", "String", False),
        ("seats", "String", False),
    ]))  # fmt: skip
    order = make_event(project, "order completed")
    order_group = make_group(project, "order", [
        ("order-id", "String", True), ("total", "Numeric", True), ("items", "Object", True),
        ("3d_secure", "Boolean", False), ("delivered at", "DateTime", True),
    ])  # fmt: skip
    SchemaPropertyGroupProperty.objects.filter(property_group=order_group, name="delivered at").update(
        is_optional_in_types=True
    )
    attach(order, order_group)
    make_event(project, "clicked")
    attach(make_event(project, "$pageview"), make_group(project, "page", [("path", "String", True)]))
    make_event(project, "$autocapture")
    attach(make_event(project, "empty schema"), make_group(project, "nothing", []))
    make_event(project, "123start")


def generate(project: Any, language: str) -> dict[str, Any]:
    response = project.client().get(url(project, "event_definitions", f"{language}/"))
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("language", list(VERSIONS))
def test_codegen_response_shape(project, schema, language):
    body = generate(project, language)
    assert set(body) == {"content", "event_count", "schema_hash", "generator_version"}
    assert body["event_count"] == 6, "custom events plus $pageview; other $ events are left out"
    assert body["generator_version"] == VERSIONS[language]
    assert len(body["schema_hash"]) == 32 and int(body["schema_hash"], 16) >= 0
    assert "$autocapture" not in body["content"]


TS_USAGE = """\
import posthog from './posthog-typed'
import type { EventName, EventProperties } from './posthog-typed'

posthog.capture('signed_up', { plan: 'pro', trial: false })
posthog.capture('signed_up', { plan: 'pro', trial: true, seats: 3, metadata: { a: 1 }, signup_at: new Date() })
posthog.capture('signed_up', { plan: 'pro', trial: true, seats: 'three', 'utm-source': 'x', extra: [1] })
posthog.capture('order completed', { 'order-id': 'o1', total: 9.5, items: {} })
posthog.capture('clicked')
posthog.capture('clicked', { anything: 1 })
posthog.capture('empty schema')
posthog.capture('$pageview', { path: '/' })
posthog.capture('not_in_schema', { free: 'form' })
posthog.captureRaw('anything', { free: 'form' })
// @ts-expect-error a required property is missing
posthog.capture('signed_up', { plan: 'pro' })
// @ts-expect-error required properties mean the argument is mandatory
posthog.capture('signed_up')
// @ts-expect-error a property of the wrong type
posthog.capture('signed_up', { plan: 1, trial: true })
// @ts-expect-error DateTime takes a string or a Date
posthog.capture('order completed', { 'order-id': 'o1', total: 1, items: {}, 'delivered at': 5 })
const dynamic: string = 'signed_up'
// @ts-expect-error a bare string variable is rejected
posthog.capture(dynamic, {})
posthog.captureRaw(dynamic, {})
const names: EventName[] = ['signed_up', 'order completed', 'clicked', '$pageview', 'empty schema', '123start']
const props: EventProperties<'$pageview'> = { path: '/', more: true }
export { names, props }
"""


def test_typescript_output_passes_tsc_strict(project, schema, tmp_path):
    require_tool(shutil.which("node") is not None and TSC.exists(), "node and tests/js typescript (npm install)")
    (tmp_path / "node_modules").symlink_to(NODE_MODULES)
    (tmp_path / "posthog-typed.ts").write_text(generate(project, "typescript")["content"])
    (tmp_path / "usage.ts").write_text(TS_USAGE)
    # --skipLibCheck: our two files are checked in full against the .d.ts they use, but the .d.ts of other test
    # packages are not checked against each other (rrweb's @types/css-font-loading-module clashes with lib.dom)
    result = subprocess.run(
        [str(TSC), "--noEmit", "--strict", "--target", "es2020", "--module", "esnext",
         "--moduleResolution", "bundler", "--lib", "es2020,dom", "--skipLibCheck", "posthog-typed.ts", "usage.ts"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


GO_USAGE = """\
package main

import (
	"time"

	posthog "github.com/posthog/posthog-go"

	"example.com/app/typed"
)

func main() {
	client, _ := posthog.NewWithConfig("phc_token", posthog.Config{Endpoint: "http://127.0.0.1:8000"})
	defer client.Close()
	_ = client.Enqueue(typed.SignedUpCapture("u1", "pro", true,
		typed.SignedUpWithSeats(3), typed.SignedUpWithSignupAt(time.Now()),
		typed.SignedUpWithMetadata(map[string]interface{}{"a": 1}), typed.SignedUpWithUtmSource("x"),
		typed.SignedUpWithClass("c"), typed.SignedUpWithExtraProps(posthog.Properties{"extra": 1})))
	_ = client.Enqueue(typed.OrderCompletedCapture("u1", time.Now(), map[string]interface{}{}, "o1", 9.5,
		typed.OrderCompletedWithProp3dSecure(true)))
	base := posthog.Capture{DistinctId: "u2", Properties: posthog.Properties{"kept": true}}
	_ = client.Enqueue(typed.PageviewCaptureFromBase(base, "/"))
	_ = client.Enqueue(typed.ClickedCapture("u1", posthog.Properties{"anything": 1}))
	_ = client.Enqueue(typed.EmptySchemaCapture("u1"))
	_ = client.Enqueue(typed.Event123startCapture("u1"))
}
"""


def test_go_output_passes_go_vet(project, schema, tmp_path):
    go = shutil.which("go")
    require_tool(go is not None, "go (Debian golang-go)")
    (tmp_path / "go.mod").write_text(
        "module example.com/app\n\ngo 1.19\n\nrequire github.com/posthog/posthog-go v0.0.0\n\n"
        f"replace github.com/posthog/posthog-go => {GO_STUB}\n"
    )
    (tmp_path / "typed").mkdir()
    (tmp_path / "typed" / "typed.go").write_text(generate(project, "golang")["content"])
    (tmp_path / "main.go").write_text(GO_USAGE)
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local"}
    fmt = subprocess.run([go, "fmt", "./..."], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert fmt.returncode == 0 and fmt.stdout == "", f"generated Go is not gofmt-clean: {fmt.stdout}{fmt.stderr}"
    result = subprocess.run([go, "vet", "./..."], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


PY_USAGE = """\
from datetime import datetime

import posthog_typed

posthog_typed.capture("signed_up", properties={"plan": "pro", "trial": False}, distinct_id="u1")
posthog_typed.capture(
    "signed_up",
    properties={"plan": "pro", "trial": True, "seats": 3.0, "class_": "c", "utm_source": "x", "metadata": {}},
)
posthog_typed.capture("signed_up", properties={"plan": "pro", "trial": True, "seats": "three"})
posthog_typed.capture(
    "order completed",
    properties={"order_id": "o1", "total": 9.5, "items": {}, "delivered_at": datetime.now(), "prop_3d_secure": True},
)
posthog_typed.capture("clicked", distinct_id="u1")
posthog_typed.capture("empty schema")
posthog_typed.capture("$pageview", properties={"path": "/"})
posthog_typed.capture_raw("anything", {"free": "form"})
posthog_typed.capture("signed_up", properties={"plan": "pro"})  # type: ignore[call-overload]
posthog_typed.capture("signed_up")  # type: ignore[call-overload]
posthog_typed.capture("signed_up", properties={"plan": 1, "trial": True})  # type: ignore[call-overload]
"""


def test_python_output_passes_mypy_strict(project, schema, tmp_path):
    require_tool(importlib.util.find_spec("mypy") is not None, "mypy")
    (tmp_path / "posthog_typed.py").write_text(generate(project, "python")["content"])
    (tmp_path / "usage.py").write_text(PY_USAGE)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.11",
         "posthog_typed.py", "usage.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_output_sends_the_original_property_names(project, schema, tmp_path, monkeypatch):
    import posthog

    path = tmp_path / "posthog_typed.py"
    path.write_text(generate(project, "python")["content"])
    spec = importlib.util.spec_from_file_location("posthog_typed_generated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(posthog, "capture", lambda event, **kwargs: sent.append((event, kwargs)) or "uuid")
    module.capture("order completed", properties={"order_id": "o1", "prop_3d_secure": True}, distinct_id="u1")
    assert sent == [("order completed", {"distinct_id": "u1", "properties": {"order-id": "o1", "3d_secure": True}})]


def hashes(project: Any) -> dict[str, str]:
    return {language: generate(project, language)["schema_hash"] for language in VERSIONS}


def test_schema_hash_changes_exactly_when_the_schema_changes(project, schema):
    from definitions.models import EventDefinition, SchemaPropertyGroup

    client = project.client()
    first = hashes(project)
    assert len(set(first.values())) == 3, "each language has its own hash"
    assert hashes(project) == first, "deterministic"

    order = EventDefinition.objects.get(team=project.team, name="order completed")
    client.patch(url(project, "event_definitions", f"{order.pk}/"), {"description": "docs only"}, format="json")
    group = SchemaPropertyGroup.objects.get(team=project.team, name="order")
    client.patch(url(project, "schema_property_groups", f"{group.pk}/"), {"description": "docs"}, format="json")
    make_event(project, "$identify")
    assert hashes(project) == first, "descriptions and left-out $ events do not change the schema"

    steps = []
    total = group.properties.get(name="total")
    total.property_type = "String"
    total.save()
    steps.append(hashes(project))
    total.is_required = False
    total.save()
    steps.append(hashes(project))
    SchemaPropertyGroupProperty.objects.create(property_group=group, name="coupon", property_type="String")
    steps.append(hashes(project))
    make_event(project, "new_event")
    steps.append(hashes(project))
    attach(EventDefinition.objects.get(team=project.team, name="clicked"), group)
    steps.append(hashes(project))
    seen = [first["python"], *(step["python"] for step in steps)]
    assert len(set(seen)) == len(seen), "type, required flag, new property, new event, new link: each changes it"


@pytest.fixture
def awkward_schema(project: Any) -> None:
    """Names that broke the first generators: an emoji (JSON's surrogate-pair escapes are invalid Go and a
    different string in Python), a BOM, and Go names derived from two events that collide (`A`+`WithCapture`
    vs `AWith`+`Capture`)."""
    attach(make_event(project, "party 🎉"), make_group(project, "party", [
        ("guest 👩‍💻", "String", True), ("size", "Numeric", False),
    ]))  # fmt: skip
    attach(make_event(project, "a"), make_group(project, "a", [("capture", "String", False)]))
    attach(make_event(project, "a with"), make_group(project, "a with", [("x", "String", True)]))
    make_event(project, "bom\ufeffname")


GO_AWKWARD_USAGE = """\
package main

import "example.com/app/typed"

func main() {
	_ = typed.PartyCapture("u1", "ada", typed.PartyWithSize(3))
	_ = typed.AWithCapture("late")
	_ = typed.AWithCapture2("u1", "x")
	_ = typed.BomNameCapture("u1")
}
"""


def test_go_output_vets_with_unicode_and_colliding_names(project, awkward_schema, tmp_path):
    go = shutil.which("go")
    require_tool(go is not None, "go (Debian golang-go)")
    (tmp_path / "go.mod").write_text(
        "module example.com/app\n\ngo 1.19\n\nrequire github.com/posthog/posthog-go v0.0.0\n\n"
        f"replace github.com/posthog/posthog-go => {GO_STUB}\n"
    )
    (tmp_path / "typed").mkdir()
    content = generate(project, "golang")["content"]
    (tmp_path / "typed" / "typed.go").write_text(content)
    (tmp_path / "main.go").write_text(GO_AWKWARD_USAGE)
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local"}
    result = subprocess.run([go, "vet", "./..."], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Event: "party \\U0001f389"' in content


PY_AWKWARD_USAGE = """\
import posthog_typed

posthog_typed.capture("party 🎉", properties={"guest____": "ada", "size": 3.0})
posthog_typed.capture("party 🎉", properties={"size": 3.0})  # type: ignore[call-overload]
"""


def test_python_output_types_and_sends_unicode_names(project, awkward_schema, tmp_path, monkeypatch):
    require_tool(importlib.util.find_spec("mypy") is not None, "mypy")
    path = tmp_path / "posthog_typed.py"
    path.write_text(generate(project, "python")["content"])
    (tmp_path / "usage.py").write_text(PY_AWKWARD_USAGE)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.11",
         "posthog_typed.py", "usage.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr

    import posthog

    spec = importlib.util.spec_from_file_location("posthog_typed_awkward", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(posthog, "capture", lambda event, **kwargs: sent.append((event, kwargs)) or "uuid")
    module.capture("party 🎉", properties={"guest____": "ada"}, distinct_id="u1")
    assert sent == [("party 🎉", {"distinct_id": "u1", "properties": {"guest 👩‍💻": "ada"}})]
