"""Install the pinned posthog-js release that /static/ serves (idempotent; `make serve` runs it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sdk_assets.fetch import FetchError, Release, fetch_release
from sdk_assets.selectors import asset_cache_clear


class Command(BaseCommand):
    help = "Fetch the pinned posthog-js release from the npm registry (checked against its sha512) for /static/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Fetch again even if the release is installed.")
        parser.add_argument("--no-npm", action="store_true", help="Download with Python even if npm is present.")
        parser.add_argument("--registry", default="", help="npm registry URL (default: NPM_REGISTRY_URL or npm's).")
        parser.add_argument("--dest", default="", help="Directory of installed releases (default: SDK_ASSETS_DIR).")

    def handle(self, *args: Any, **options: Any) -> None:
        dest = Path(options["dest"] or settings.SDK_ASSETS_DIR)
        release = Release()
        self.stdout.write(f"posthog-js {release.version} ({release.integrity[:24]}…) → {dest}")
        try:
            fetch_release(
                dest,
                release,
                registry=options["registry"] or settings.NPM_REGISTRY_URL or None,
                use_npm=not options["no_npm"],
                force=options["force"],
                progress=self.stdout.write,
            )
        except FetchError as exc:
            raise CommandError(f"posthog-js assets not installed: {exc}") from exc
        asset_cache_clear()
