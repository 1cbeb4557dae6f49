"""Prints how much schemathesis exercised: operations and generated examples (for the CI log)."""

from __future__ import annotations

from collections import Counter

import pytest

SCHEMATHESIS_CALLS: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not SCHEMATHESIS_CALLS:
        return
    terminalreporter.write_line(
        f"schemathesis: {len(SCHEMATHESIS_CALLS)} operations, {sum(SCHEMATHESIS_CALLS.values())} examples sent"
    )
