"""Writes of the console: sign-in throttling, passwords, and what the pages change (through the owning
apps' services)."""

from __future__ import annotations

import hashlib
import secrets

from django.core.cache import cache

from posthog_clone.accounts.models import User

LOGIN_FAILURES_ALLOWED = 5
LOGIN_WINDOW_SECONDS = 15 * 60


def _failures_key(email: str, ip: str) -> str:
    digest = hashlib.sha256(f"{email.strip().lower()}|{ip}".encode()).hexdigest()[:32]
    return f"console:login-failures:{digest}"


def login_throttled(*, email: str, ip: str) -> bool:
    return int(cache.get(_failures_key(email, ip)) or 0) >= LOGIN_FAILURES_ALLOWED


def login_failed(*, email: str, ip: str) -> None:
    key = _failures_key(email, ip)
    if cache.add(key, 1, LOGIN_WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, LOGIN_WINDOW_SECONDS)


def login_succeeded(*, email: str, ip: str) -> None:
    cache.delete(_failures_key(email, ip))


def user_set_password(*, user: User, password: str | None = None) -> str:
    """Set (or generate) the user's console password; returns it."""
    password = password or secrets.token_urlsafe(12)
    user.set_password(password)
    user.save(update_fields=["password"])
    return password
