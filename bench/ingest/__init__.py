"""Ingestion benchmarks. ``in_process_project`` sets up the in-process ones (`profile_batch`,
`clickhouse_parses`): Django on the embedded default in a throwaway VAR_DIR, migrated, with the demo project."""

from __future__ import annotations

import os
import tempfile


def in_process_project(prefix: str) -> str:
    """Django set up on a fresh VAR_DIR (SQLite, chDB, the spool), both databases migrated and the demo project
    made; the project's API token."""
    var_dir = tempfile.mkdtemp(prefix=prefix)
    os.environ.update(VAR_DIR=var_dir, SECRET_KEY="x", DJANGO_SETTINGS_MODULE="posthog_clone.settings")
    for name in ("SPOOL_PATH", "CELERY_BROKER_URL", "DATABASE_URL", "CLICKHOUSE_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    from posthog_clone.clickhouse.migrations import migrate

    migrate()
    with open(os.devnull, "w") as devnull:
        call_command("bootstrap", "--json", stdout=devnull)
    from posthog_clone.accounts.models import Team

    return Team.objects.first().api_token
