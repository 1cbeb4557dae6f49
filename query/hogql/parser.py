"""Text → sqlglot tree, in a HogQL dialect of sqlglot's ClickHouse dialect.

The dialect differs from ClickHouse where HogQL does: `$` starts plain identifiers (`properties.$browser`),
the regex operators `~ ~* =~ !~` exist, every function call stays an anonymous call carrying the name the
user wrote (so the allowlist sees real names), `LIMIT n BY … LIMIT m` parses, `{name}` placeholders
survive parsing as `__hogql_placeholder('name')` calls, and `x [NOT] IN COHORT 5` / `IN COHORT 'name'` (not SQL)
parses as `x [NOT] IN __hogql_cohort(5)` (the references pass expands it). Only one SELECT or set operation is
accepted.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.dialects.clickhouse import ClickHouse
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from query.hogql.ast import COHORT_FUNCTION
from query.hogql.errors import HogQLSyntaxError

PLACEHOLDER_FUNCTION = "__hogql_placeholder"
MAX_QUERY_LENGTH = 1_048_576  # as ClickHouse's max_query_size in PostHog's settings
_PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}")
# `IN COHORT` followed by the cohort's id or quoted name; `IN cohort` alone stays (a CTE may be called cohort)
_IN_COHORT = re.compile(r"IN\s+COHORT(?:\s+(?=[0-9'])|(?='))", re.IGNORECASE)
_COHORT_ID = re.compile(r"[0-9]+")
_WORD = re.compile(r"[A-Za-z0-9_$]")


def _limit_modifier(self: sqlglot.parser.Parser) -> tuple[str, exp.Expression | None]:
    key, expression = ClickHouse.Parser.QUERY_MODIFIER_PARSERS[TokenType.LIMIT](self)
    if expression is not None and expression.expressions:
        return "limit_by", expression  # `LIMIT n BY …` lives beside the plain LIMIT
    return key, expression


class HogQLDialect(ClickHouse):
    class Tokenizer(ClickHouse.Tokenizer):
        HEREDOC_STRINGS: list = []  # `$` is an identifier character in HogQL
        SINGLE_TOKENS = {
            **{k: v for k, v in ClickHouse.Tokenizer.SINGLE_TOKENS.items() if k != "$"},
            "~": TokenType.RLIKE,
        }
        KEYWORDS = {
            **ClickHouse.Tokenizer.KEYWORDS,
            "=~": TokenType.RLIKE,
            "~*": TokenType.IRLIKE,
            "=~*": TokenType.IRLIKE,
        }

    class Parser(ClickHouse.Parser):
        # Keep every call as written: the allowlist checks names, the printer prints them.
        FUNCTIONS: dict = {}
        FUNCTION_PARSERS = {k: v for k, v in ClickHouse.Parser.FUNCTION_PARSERS.items() if k in {"CAST"}}
        QUERY_MODIFIER_PARSERS = {**ClickHouse.Parser.QUERY_MODIFIER_PARSERS, TokenType.LIMIT: _limit_modifier}

    class Generator(ClickHouse.Generator):
        # Words ClickHouse's parser reads as syntax even where a name stands (`SELECT top.c`, `FROM t AS all`,
        # `GROUP BY cube`): found by trying every word of system.keywords in those places on chDB.
        RESERVED_KEYWORDS = {
            "all",
            "cube",
            "distinct",
            "false",
            "not",
            "null",
            "recursive",
            "rollup",
            "select",
            "top",
            "true",
        }

        def if_sql(self, expression: exp.If) -> str:
            args = [expression.this, expression.args.get("true"), expression.args.get("false") or exp.null()]
            return self.func("if", *args)

        def case_sql(self, expression: exp.Case) -> str:
            ifs = expression.args.get("ifs") or []
            default = expression.args.get("default") or exp.null()
            subject = expression.this
            if subject is not None:
                keys = exp.Array(expressions=[i.this for i in ifs])
                values = exp.Array(expressions=[i.args["true"] for i in ifs])
                return self.func("transform", subject, keys, values, default)
            if len(ifs) == 1:
                return self.func("if", ifs[0].this, ifs[0].args["true"], default)
            flat: list[exp.Expression] = []
            for branch in ifs:
                flat.extend([branch.this, branch.args["true"]])
            return self.func("multiIf", *flat, default)

        def placeholder_sql(self, expression: exp.Placeholder) -> str:
            return f"{{{expression.name}:String}}"

        def offset_limit_modifiers(self, expression: exp.Expression, fetch: bool, limit: exp.Expression | None) -> list:
            mods = super().offset_limit_modifiers(expression, fetch, limit)
            limit_by = expression.args.get("limit_by")
            return [self.limit_sql(limit_by), *mods] if limit_by is not None else mods


def _quoted_end(text: str, i: int) -> int:
    """The index of the quote closing the string, identifier or backtick name opened at `i` (or the end)."""
    ch, j, n = text[i], i + 1, len(text)
    while j < n:
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == ch:
            if j + 1 < n and text[j + 1] == ch:
                j += 2
                continue
            break
        j += 1
    return j


def _in_cohort(text: str, i: int) -> tuple[str, int] | None:
    """`IN COHORT <id or 'name'>` at `i` → (its rewrite, where it ends); None when there is none."""
    if i > 0 and _WORD.match(text[i - 1]):
        return None
    match = _IN_COHORT.match(text, i)
    if match is None:
        return None
    start = match.end()
    if text[start] == "'":
        end = _quoted_end(text, start) + 1
    else:
        digits = _COHORT_ID.match(text, start)
        assert digits is not None  # the pattern looked ahead for a digit or a quote
        end = digits.end()
    return f"IN {COHORT_FUNCTION}({text[start:end]})", end


def preprocess(text: str) -> str:
    """Rewrite HogQL-only syntax outside strings/comments: `{name}` placeholders, `IN COHORT`, `!~`/`!~*`."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"`":
            j = _quoted_end(text, i)
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(text[i:j])
            i = j
        elif ch == "{" and (match := _PLACEHOLDER.match(text, i)):
            out.append(f"{PLACEHOLDER_FUNCTION}('{match.group(1)}')")
            i = match.end()
        elif ch in "iI" and (cohort := _in_cohort(text, i)):
            out.append(cohort[0])
            i = cohort[1]
        elif text.startswith("!~*", i):
            out.append(" NOT ~* ")
            i += 3
        elif text.startswith("!~", i):
            out.append(" NOT ~ ")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _describe(desc: str, near: str) -> str:
    """sqlglot's messages in the ANTLR style PostHog's parser uses (no internal class names)."""
    if desc.startswith("Required keyword") or desc.startswith("Expected"):
        return f"no viable alternative at input '{near}'"
    if desc.startswith("Expecting )"):
        return f"missing ')' at '{near}'"
    if "Unexpected token" in desc or "Invalid expression" in desc:
        return f"mismatched input '{near}'"
    return re.sub(r"<[^>]*>", "", desc).strip() or "invalid syntax"


def _syntax_error(exc: Exception, source: str) -> HogQLSyntaxError:
    errors = getattr(exc, "errors", None) or []
    if errors:
        first = errors[0]
        line, col = first.get("line") or 1, first.get("col") or 1
        highlight = first.get("highlight") or ""
        lines = source.splitlines() or [""]
        start = sum(len(x) + 1 for x in lines[: max(line - 1, 0)]) + max(col - len(highlight), 0)
        message = _describe(first.get("description") or "", highlight)
        return HogQLSyntaxError(
            f"Syntax error at line {line}, column {col}: {message}", start=start, end=start + len(highlight)
        )
    if isinstance(exc, TokenError):
        return HogQLSyntaxError("Syntax error: unterminated string, identifier or comment")
    return HogQLSyntaxError("Syntax error: invalid syntax")


def parse_select(text: str) -> exp.Query:
    """Parse one HogQL SELECT (or set operation). Anything else is a HogQLSyntaxError."""
    if not text or not text.strip():
        raise HogQLSyntaxError("Empty query")
    if len(text) > MAX_QUERY_LENGTH:
        raise HogQLSyntaxError(f"Query is too long: {len(text)} characters, the maximum is {MAX_QUERY_LENGTH}")
    source = preprocess(text)
    try:
        statements = [s for s in sqlglot.parse(source, dialect=HogQLDialect) if s is not None]
    except (ParseError, TokenError) as exc:
        raise _syntax_error(exc, source) from None
    except Exception as exc:  # sqlglot raises plain errors on some odd inputs
        raise HogQLSyntaxError(f"Syntax error: {exc}") from None
    if not statements:
        raise HogQLSyntaxError("Empty query")
    if len(statements) > 1:
        raise HogQLSyntaxError("mismatched input ';' expecting <EOF>: only one SELECT statement is allowed")
    root = statements[0]
    if not isinstance(root, (exp.Select, exp.SetOperation)):
        kind = root.key.upper() if not isinstance(root, exp.Command) else str(root.this).upper()
        raise HogQLSyntaxError(f"Only SELECT queries are supported, got {kind}")
    for node in root.walk():
        if isinstance(node, exp.Query) and node.args.get("format"):
            raise HogQLSyntaxError("FORMAT is not supported in HogQL queries")
        if isinstance(node, exp.Query) and node.args.get("settings"):
            raise HogQLSyntaxError("Unsupported: SETTINGS clauses cannot be set in HogQL queries")
        if isinstance(node, (exp.Into, exp.Command)) or (isinstance(node, exp.Select) and node.args.get("into")):
            raise HogQLSyntaxError("Only SELECT queries are supported")
        if isinstance(node, exp.Placeholder):
            raise HogQLSyntaxError(f"Unresolved placeholder: {node.sql(dialect=HogQLDialect)}")
        if isinstance(node, exp.With) and node.args.get("recursive"):
            raise HogQLSyntaxError("Syntax error: WITH RECURSIVE is not supported in HogQL queries")
        if isinstance(node, exp.Query) and node.args.get("options"):
            raise HogQLSyntaxError("Unsupported query options")
    return root


class HogQLTextDialect(HogQLDialect):
    """Printing HogQL back as text: backtick identifiers and `properties.`a b`` instead of `['a b']`."""

    class Tokenizer(HogQLDialect.Tokenizer):
        IDENTIFIERS = ["`", '"']

    class Generator(HogQLDialect.Generator):
        def in_sql(self, expression: exp.In) -> str:
            field = expression.args.get("field")
            if isinstance(field, exp.Anonymous) and field.name == COHORT_FUNCTION and len(field.expressions) == 1:
                return f"{self.sql(expression, 'this')} IN COHORT {self.sql(field.expressions[0])}"
            return super().in_sql(expression)

        def bracket_sql(self, expression: exp.Bracket) -> str:
            keys = expression.expressions
            chain = isinstance(expression.this, (exp.Column, exp.Dot, exp.Bracket))
            if chain and len(keys) == 1 and isinstance(keys[0], exp.Literal) and keys[0].is_string:
                return f"{self.sql(expression, 'this')}.{self.sql(exp.to_identifier(keys[0].this))}"
            return super().bracket_sql(expression)


def to_hogql(node: exp.Expression) -> str:
    """Print a tree back as HogQL text (used for `columns` names and the `hogql` response field)."""
    text = node.sql(dialect=HogQLTextDialect, comments=False)
    return re.sub(rf"{PLACEHOLDER_FUNCTION}\('([^']*)'\)", r"{\1}", text)
