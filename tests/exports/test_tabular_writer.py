"""The tabular writer on values a query runner or an API response can hand it but JSON lines cannot hold
as they are (integers beyond 64 bits, NaN, Decimal), written straight through `write_export`."""

from __future__ import annotations

import decimal
import io
from pathlib import Path

import openpyxl
import orjson

from exports.tabular import write_export
from tests.exports.conftest import CSV, XLSX

ROWS = [[{"big": 2**70, "nan": float("nan"), "price": decimal.Decimal("1.50"), "nested": {"neg": -(2**65)}}]]


def test_csv_keeps_huge_integers_as_text_and_empties_nan(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    assert write_export(iter(ROWS), export_format=CSV, out=out) == 1
    assert out.read_bytes() == f"big,nan,price,nested.neg\r\n{2**70},,1.50,-{2**65}\r\n".encode()


def test_xlsx_and_json_write_the_same_rows(tmp_path: Path) -> None:
    xlsx, json_out = tmp_path / "out.xlsx", tmp_path / "out.json"
    write_export(iter(ROWS), export_format=XLSX, out=xlsx)
    write_export(iter(ROWS), export_format="application/json", out=json_out)
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes())).active.iter_rows(values_only=True))
    assert rows == [("big", "nan", "price", "nested.neg"), (str(2**70), None, "1.50", str(-(2**65)))]
    assert orjson.loads(json_out.read_bytes()) == [
        {"big": str(2**70), "nan": None, "price": "1.50", "nested": {"neg": str(-(2**65))}}
    ]
