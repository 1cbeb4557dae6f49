"""Property type detection at ingestion (definitions reference §3.5, capture reference §12).

Pure: given a property key and a JSON value, the detected ``property_type`` or None. The first match
wins; keys are compared lower-cased.
"""

from __future__ import annotations

import re
import time
from email.utils import parsedate_tz
from typing import Any

DATETIME, STRING, NUMERIC, BOOLEAN = "DateTime", "String", "Numeric", "Boolean"

_DATE_KEYWORDS = ("time", "timestamp", "date", "_at", "-at", "createdat", "updatedat")
_SIX_MONTHS_S = 15_768_000
_TIME_SUFFIX = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
_DATE_LIKE = re.compile(
    rf"^(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{4}}/\d{{2}}/\d{{2}}|\d{{2}}-\d{{2}}-\d{{4}}|\d{{2}}/\d{{2}}/\d{{4}}){_TIME_SUFFIX}$"
)
_RFC2822 = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?(?:\s+\S+)?$")


def is_date_like(value: str) -> bool:
    text = value.strip()
    if _DATE_LIKE.match(text):
        return True
    return bool(_RFC2822.match(text)) and parsedate_tz(text) is not None


def detect_property_type(key: str, value: Any, *, now: float | None = None) -> str | None:
    lowered = key.lower()
    if lowered.startswith(("utm_", "$feature/", "$survey_response")) or lowered == "$feature_flag_response":
        return STRING
    if any(word in lowered for word in _DATE_KEYWORDS):
        if isinstance(value, str) and is_date_like(value):
            return DATETIME
        if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value) and value >= 0:
            threshold = (time.time() if now is None else now) - _SIX_MONTHS_S
            if value >= threshold:
                return DATETIME
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, str):
        if value.strip().lower() in ("true", "false"):
            return BOOLEAN
        return DATETIME if is_date_like(value) else STRING
    if isinstance(value, int | float):
        return NUMERIC
    return None
