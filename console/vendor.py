"""The front-end libraries the console's pages load, pinned by version and tarball integrity, installed flat
into ``settings.CONSOLE_VENDOR_DIR`` at install time (``manage.py fetch_console_assets``; ``make serve`` and
``make test`` run it) and served as static files under ``/static/console/vendor/``. No build step: each is the
package's own browser bundle. To upgrade one: change its version and integrity
(``npm view <name>@<version> dist.integrity``) and run the command again.
"""

from __future__ import annotations

import sys
from pathlib import Path

from posthog_clone.npm_packages import NpmPackage, install_files, install_main

CHART_JS = NpmPackage(
    "chart.js",
    "4.6.2",
    "sha512-xachB+pPHjp0syJi7llUBA1w3kMYl6NF3o7eVrvjnWCT+IB2zMaF2pX5UYDiwbbfsioFEIRnAjreNOMsGj5TIA==",
    {"dist/chart.umd.min.js": "chart.umd.min.js"},
)
HTMX = NpmPackage(
    "htmx.org",
    "2.0.11",
    "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
    {"dist/htmx.min.js": "htmx.min.js"},
)
RRWEB_PLAYER = NpmPackage(
    "rrweb-player",
    "2.1.7",
    "sha512-jY6ovTq+Ll9nh8s0WEUl9abNKY9UQO524lFShaoSakQsGooYUGvzxg0xFWEQn7qY4rP5Q5BSRV0vbtRW35+o6A==",
    {"dist/rrweb-player.umd.min.cjs": "rrweb-player.min.js", "dist/style.min.css": "rrweb-player.min.css"},
)
PACKAGES = (CHART_JS, HTMX, RRWEB_PLAYER)


def install_all(dest: Path, registry: str | None = None) -> None:
    for package in PACKAGES:
        install_files(dest, package, registry=registry)


def main(argv: list[str] | None = None) -> int:
    """``python -m console.vendor DEST``: the same install without Django (the image build step)."""
    return install_main(sys.argv[1:] if argv is None else argv, "console.vendor", install_all)


if __name__ == "__main__":
    raise SystemExit(main())
