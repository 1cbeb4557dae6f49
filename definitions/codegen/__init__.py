"""Typed code generation from the project's event schemas: TypeScript, Go and Python wrappers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from definitions.codegen import golang, python, typescript
from definitions.codegen.base import EventSpec, codegen_events, schema_hash
from posthog_clone.accounts.models import Team

GENERATORS: dict[str, tuple[str, Callable[[list[EventSpec]], str]]] = {
    "typescript": (typescript.VERSION, typescript.generate_typescript),
    "golang": (golang.VERSION, golang.generate_golang),
    "python": (python.VERSION, python.generate_python),
}


def codegen_generate(*, team: Team, language: str) -> dict[str, Any]:
    """`{content, event_count, schema_hash, generator_version}` for one language."""
    version, generate = GENERATORS[language]
    events = codegen_events(team=team)
    return {
        "content": generate(events),
        "event_count": len(events),
        "schema_hash": schema_hash(events, version=version, language=language),
        "generator_version": version,
    }
