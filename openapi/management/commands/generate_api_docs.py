"""Write the API reference as markdown (one file per operationId, an index page per tag).

`--check` compares instead of writing and exits 1 when the committed docs are stale (CI runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from drf_spectacular.generators import SchemaGenerator

from openapi.docs import render


def build_spec() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


class Command(BaseCommand):
    help = "Generate docs/api/ from the OpenAPI spec (deterministic); --check fails when it is stale."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", default="docs/api")
        parser.add_argument("--check", action="store_true", help="Compare only; exit 1 if anything differs.")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        wanted = render(build_spec())
        existing = {str(p.relative_to(out)): p.read_text() for p in out.rglob("*.md")} if out.exists() else {}
        if options["check"]:
            stale = sorted(name for name in set(wanted) | set(existing) if wanted.get(name) != existing.get(name))
            if stale:
                self.stderr.write(f"docs/api is stale ({len(stale)} files), run `manage.py generate_api_docs`:")
                for name in stale[:20]:
                    self.stderr.write(f"  {name}")
                sys.exit(1)
            self.stdout.write(f"docs/api is up to date ({len(wanted)} files)")
            return
        for name in set(existing) - set(wanted):
            (out / name).unlink()
        for name, text in sorted(wanted.items()):
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if existing.get(name) != text:
                path.write_text(text)
        self.stdout.write(f"wrote {len(wanted)} files to {out}")
