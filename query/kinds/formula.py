"""Trends formulas (`trendsFilter.formulaNodes`, `formulas`, `formula`): arithmetic over series `A`, `B`, …
(case-insensitive, in series order), evaluated point by point. `+ - * / % **`, unary minus, numbers and
parentheses; division (and `%`) by zero gives 0 and a missing value counts as 0. Anything else is a
`FormulaError` (a 400) with PostHog's wording.

The formula is read with Python's `ast` in expression mode and only the nodes above are evaluated.
"""

from __future__ import annotations

import ast
import math
import string
from collections.abc import Mapping, Sequence
from typing import Any

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%", ast.Pow: "**"}


class FormulaError(ValueError):
    pass


def formula_nodes(trends_filter: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """`formulaNodes` ([{"formula", "custom_name"?}]), else the deprecated `formulas` list, else `formula`."""
    trends_filter = trends_filter or {}
    nodes = trends_filter.get("formulaNodes")
    if nodes:
        return [dict(node) if isinstance(node, Mapping) else {"formula": node} for node in nodes]
    if trends_filter.get("formulas"):
        return [{"formula": text} for text in trends_filter["formulas"]]
    if trends_filter.get("formula"):
        return [{"formula": trends_filter["formula"]}]
    return []


def _letters(count: int) -> str:
    return ", ".join(string.ascii_uppercase[:count])


def parse_formula(text: Any, series_count: int) -> ast.Expression:
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("A formula must be a non-empty string")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise FormulaError(f"Invalid formula '{text}'") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load, ast.USub, ast.UAdd, *_OPERATORS)):
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            continue
        if isinstance(node, ast.Name):
            index = _series_index(node.id)
            if index is None:
                raise FormulaError(f"Formula references unknown series {node.id}; series are named A, B, C, …")
            if index >= series_count:
                verb = "series is" if series_count == 1 else "series are"
                raise FormulaError(
                    f"Formula references series {node.id.upper()}, but only {series_count} {verb} defined "
                    f"({_letters(series_count)})"
                )
            continue
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else "a function"
            raise FormulaError(
                f"Formulas only support arithmetic between series (like (A + B) / 2), not {name}(). To aggregate a "
                "series, set its measurement (for example median or p95) on the series itself."
            )
        op = getattr(node, "op", node)
        raise FormulaError(f"Formulas only support arithmetic ( + - * / % ** ) between series, not {type(op).__name__}")
    return tree


def _series_index(name: str) -> int | None:
    if len(name) == 1 and name.upper() in string.ascii_uppercase:
        return string.ascii_uppercase.index(name.upper())
    return None


def _evaluate(node: ast.AST, values: Sequence[float]) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, values)
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        index = _series_index(node.id)
        return float(values[index] or 0) if index is not None and index < len(values) else 0.0
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, values)
        return -value if isinstance(node.op, ast.USub) else value
    assert isinstance(node, ast.BinOp)
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    op = type(node.op)
    if op in (ast.Div, ast.Mod) and right == 0:
        return 0.0
    try:
        result = {
            ast.Add: lambda: left + right,
            ast.Sub: lambda: left - right,
            ast.Mult: lambda: left * right,
            ast.Div: lambda: left / right,
            ast.Mod: lambda: math.fmod(left, right),
            ast.Pow: lambda: left**right,
        }[op]()
    except (OverflowError, ZeroDivisionError, ValueError):
        return 0.0
    if isinstance(result, complex) or not math.isfinite(result):
        return 0.0
    return result


def evaluate(tree: ast.Expression, series: Sequence[Sequence[float]]) -> list[float]:
    """The formula at each point of the series (all the same length; series[i] is letter i)."""
    length = max((len(s) for s in series), default=0)
    return [_evaluate(tree, [s[i] if i < len(s) else 0 for s in series]) for i in range(length)]
