"""One error type for everything ClickHouse reports, with a flag saying whether a retry can help."""

from __future__ import annotations

import re

# ClickHouse error codes worth retrying: timeouts, too many parts/queries, network and memory pressure, and a
# full disk (75 CANNOT_WRITE_TO_FILE_DESCRIPTOR, 243 NOT_ENOUGH_SPACE: the batch waits for space, it is not
# dead-lettered row by row).
RETRYABLE_CODES = frozenset({3, 75, 159, 160, 202, 209, 210, 241, 243, 252, 285, 319, 425, 999, 1000})
_CODE = re.compile(r"Code:\s*(\d+)")
_NAME = re.compile(r"\(([A-Z_]+)\)")


class ClickHouseError(Exception):
    def __init__(self, message: str, *, code: int | None = None, name: str = "", retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.name = name
        self.retryable = retryable

    @classmethod
    def from_exception(cls, exc: BaseException) -> ClickHouseError:
        text = str(exc)
        match = _CODE.search(text)
        code = int(match.group(1)) if match else None
        # Keep the DB::Exception text only: no stack trace, no driver noise.
        message = text.split("DB::Exception:", 1)[-1].split("Stack trace:", 1)[0].strip()
        name_match = _NAME.search(message)
        name = name_match.group(1) if name_match else ""
        network = exc.__class__.__name__ in {"OperationalError", "ConnectionError", "TimeoutError"}
        return cls(message, code=code, name=name, retryable=network or (code in RETRYABLE_CODES))

    def __str__(self) -> str:
        return self.message
