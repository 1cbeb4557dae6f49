"""CSV / XLSX / JSON writers with constant memory: pages of rows are flattened into a temporary JSON-lines
spill (collecting the header keys), then written out row by row.

Rules (PostHog's tabular exporter): nested keys are joined with `.` and list items indexed; without
`columns` the header is the keys in first-seen order grouped by their top-level prefix; with `columns` the
user's order is kept, a column present only as nested keys is expanded in place, unknown columns stay empty.
Zero rows give a single `error` column (or, with `columns`, the header and one empty row). Text cells that
a spreadsheet would read as a formula are prefixed with `'`.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from exports.models import ExportFormat

NO_DATA = "No data available or unable to format for export."
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

Row = dict[str, Any]
Progress = Callable[[int], None]


def _as_object(value: Any) -> Any:
    """A string holding a JSON object (e.g. an event's `properties`) is nested data, flattened like a dict."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "{" and value[-1] == "}":
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        return parsed if isinstance(parsed, dict) else value
    return value


def _flatten_into(value: Any, key: str, out: Row) -> None:
    if isinstance(value, dict) and value:
        for sub, item in value.items():
            _flatten_into(item, f"{key}.{sub}", out)
    elif isinstance(value, (list, tuple)) and value:
        for index, item in enumerate(value):
            _flatten_into(item, f"{key}.{index}", out)
    else:
        out[key] = None if isinstance(value, (dict, list, tuple)) else value


def flatten_row(row: Row) -> Row:
    out: Row = {}
    for key, value in row.items():
        _flatten_into(_as_object(value), str(key), out)
    return out


def header_for(keys: list[str], columns: list[str] | None) -> list[str]:
    if not columns:
        groups: dict[str, list[str]] = {}
        for key in keys:
            groups.setdefault(key.split(".", 1)[0], []).append(key)
        return [key for group in groups.values() for key in group]
    present = set(keys)
    header: list[str] = []
    for column in columns:
        nested = [key for key in keys if key.startswith(f"{column}.")]
        if column in present or not nested:
            header.append(column)
        header.extend(nested)
    return list(dict.fromkeys(header))


def neutralise(text: str) -> str:
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return neutralise(str(value))


def _xlsx_cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    # Strip the characters Excel cannot hold *before* checking for a formula: "\x01=1+1" must not become a
    # live "=1+1" (openpyxl writes any text starting with "=" as a formula).
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1


def _jsonable(value: Any) -> Any:
    """`value` with integers orjson cannot write (beyond 64 bits) as text; everything else as it is."""
    if isinstance(value, int) and not isinstance(value, bool) and not _INT64_MIN <= value <= _UINT64_MAX:
        return str(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


def _dumps(row: Any) -> bytes:
    """One JSON document; NaN and infinities become null, other non-JSON values (Decimal, …) their text."""
    try:
        return orjson.dumps(row, default=str)
    except TypeError:  # integers beyond 64 bits
        return orjson.dumps(_jsonable(row), default=str)


class Spill:
    """Flattened rows on disk plus the header keys in first-seen order."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "rows.jsonl"
        self.keys: dict[str, None] = {}
        self.count = 0

    def fill(self, pages: Iterable[list[Row]], progress: Progress | None = None) -> None:
        with self.path.open("wb") as out:
            for page in pages:
                for row in page:
                    flat = flatten_row(row)
                    for key in flat:
                        if key not in self.keys:
                            self.keys[key] = None
                    out.write(_dumps(flat) + b"\n")
                self.count += len(page)
                if progress is not None:
                    progress(self.count)

    def rows(self) -> Iterable[Row]:
        with self.path.open("rb") as handle:
            for line in handle:
                yield orjson.loads(line)


def _table(spill: Spill, columns: list[str] | None) -> tuple[list[str], Iterable[list[Any]]]:
    if spill.count == 0:
        if columns:
            return list(columns), [[None] * len(columns)]
        return ["error"], [[NO_DATA]]
    header = header_for(list(spill.keys), columns)
    return header, ([row.get(key) for key in header] for row in spill.rows())


def write_csv(header: list[str], rows: Iterable[list[Any]], out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([neutralise(name) for name in header])
        for row in rows:
            writer.writerow([cell_text(value) for value in row])


def write_xlsx(header: list[str], rows: Iterable[list[Any]], out: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([_xlsx_cell(name) for name in header])
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    workbook.save(out)


def write_json(pages: Iterable[list[Row]], out: Path, progress: Progress | None = None) -> int:
    """A JSON array of the rows as they came (not flattened), written as it streams."""
    count = 0
    with out.open("wb") as handle:
        handle.write(b"[")
        for page in pages:
            for row in page:
                handle.write((b"," if count else b"") + _dumps(row))
                count += 1
            if progress is not None:
                progress(count)
        handle.write(b"]")
    return count


def write_export(
    pages: Iterable[list[Row]],
    *,
    export_format: str,
    out: Path,
    columns: list[str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Write `pages` to `out` in `export_format` (CSV, XLSX or JSON); the number of rows."""
    if export_format == ExportFormat.JSON:
        return write_json(pages, out, progress)
    with tempfile.TemporaryDirectory(prefix="export-") as directory:
        spill = Spill(Path(directory))
        spill.fill(pages, progress)
        header, rows = _table(spill, [str(c) for c in columns] if columns else None)
        if export_format == ExportFormat.CSV:
            write_csv(header, rows, out)
        else:
            write_xlsx(header, rows, out)
        return spill.count
