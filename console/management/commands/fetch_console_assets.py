"""Install the pinned front-end libraries of the console's pages (idempotent; `make serve` runs it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.vendor import PACKAGES
from posthog_clone.npm_packages import FetchError, install_files


class Command(BaseCommand):
    help = "Fetch the console's pinned front-end libraries (Chart.js, htmx, rrweb-player), checked by sha512."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Fetch again even if installed.")
        parser.add_argument("--no-npm", action="store_true", help="Download with Python even if npm is present.")
        parser.add_argument("--registry", default="", help="npm registry URL (default: NPM_REGISTRY_URL or npm's).")
        parser.add_argument("--dest", default="", help="Directory (default: CONSOLE_VENDOR_DIR).")

    def handle(self, *args: Any, **options: Any) -> None:
        dest = Path(options["dest"] or settings.CONSOLE_VENDOR_DIR)
        failed = []
        for index, package in enumerate(PACKAGES, 1):
            self.stdout.write(f"[{index}/{len(PACKAGES)}] {package.spec} → {dest}")
            try:
                install_files(
                    dest,
                    package,
                    registry=options["registry"] or settings.NPM_REGISTRY_URL or None,
                    use_npm=not options["no_npm"],
                    force=options["force"],
                    progress=self.stdout.write,
                )
            except FetchError as exc:
                failed.append(f"{package.spec}: {exc}")
        if failed:
            raise CommandError("console assets not installed: " + "; ".join(failed))
