"""Personal API key values: generation, hashing and masking (pure functions)."""

from __future__ import annotations

import hashlib
import secrets
import string

PERSONAL_API_KEY_PREFIX = "phx_"
_ALPHABET = string.ascii_letters + string.digits


def generate_personal_api_key() -> str:
    return PERSONAL_API_KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(47))


def hash_key_value(value: str) -> str:
    return "sha256$" + hashlib.sha256(value.encode()).hexdigest()


def mask_key_value(value: str) -> str:
    return f"{value[:4]}...{value[-4:]}"
