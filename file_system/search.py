"""The list `search` mini-language, compiled to one Django `Q` (no per-row work in Python).

    flag "scene tabs" -type:folder name:beta path:Marketing user:me ref:12 !author:bob

Tokens are shell-like (double or single quotes group spaces), AND-combined; a leading `-` or `!` negates
one. Matching is case-insensitive except `type:` and `ref:`, which are exact (`type:x/` is a prefix match).
`path:`/`name:` match within one segment of the stored escaped path, so an escaped `\\/` never splits a name.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, Value
from django.db.models.functions import Concat

from file_system.paths import escape_segment

HOG_FUNCTION_SUBTYPES = frozenset({"broadcast", "campaign", "destination", "site_app", "source", "transformation"})
FIELDS = frozenset({"path", "name", "user", "author", "type", "ref"})
# More AND-ed terms than anyone types; bounds the SQL expression (SQLite refuses trees over 1000 deep).
MAX_SEARCH_TOKENS = 100

# One character of a stored segment: anything but a separator or backslash, or an escape pair.
_SEGMENT_CHAR = r"(?:[^/\\]|\\.)"


def tokenize(search: str) -> list[str]:
    """Shell-like split; an unmatched quote falls back to treating that quote as a plain character."""
    for quotes in ("\"'", '"', ""):
        lexer = shlex.shlex(search, posix=True)
        lexer.whitespace_split = True
        lexer.escape = ""  # backslashes are path content, never shell escapes
        lexer.quotes = quotes
        lexer.commenters = ""
        try:
            return list(lexer)
        except ValueError:
            continue
    return search.split()


def _in_segment_regex(text: str, *, last: bool) -> str:
    """Regex for `text` inside an ancestor segment (`last=False`) or the last segment (`last=True`)."""
    needle = re.escape(escape_segment(text))
    head = rf"^(?:{_SEGMENT_CHAR}*/)*{_SEGMENT_CHAR}*{needle}{_SEGMENT_CHAR}*"
    return head + ("$" if last else "/")


def _plain_regex(token: str) -> str:
    """Each `/` in the token matches a real separator or an escaped `\\/`."""
    parts = [re.escape(part.replace("\\", "\\\\")) for part in token.split("/")]
    return r"(?:\\)?/".join(parts)


def _substring(token: str) -> Q:
    if "/" in token:
        return Q(path__iregex=_plain_regex(token)) | Q(type__icontains=token)
    return Q(path__icontains=token.replace("\\", "\\\\")) | Q(type__icontains=token)


def _user_q(value: str, user: Any) -> Q:
    if value.lower() == "me":
        return Q(created_by_id=getattr(user, "pk", None)) if getattr(user, "pk", None) else Q(pk__in=[])
    users = (
        get_user_model()
        .objects.annotate(_full_name=Concat("first_name", Value(" "), "last_name"))
        .filter(Q(_full_name__icontains=value) | Q(email__icontains=value))
        .values("pk")
    )
    return Q(created_by__in=users)


def _type_q(value: str) -> Q:
    if value.lower() in HOG_FUNCTION_SUBTYPES:
        return Q(type=f"hog_function/{value.lower()}")
    if value.endswith("/"):
        return Q(type__startswith=value)
    return Q(type=value)


def token_q(token: str, *, user: Any) -> Q | None:
    """The condition for one token, or None for a token that means nothing (`-`, `name:`)."""
    negate = token[:1] in ("-", "!")
    body = token[1:] if negate else token
    if not body:
        return None
    field, sep, value = body.partition(":")
    field = field.lower()
    if sep and field in FIELDS:
        if not value:
            return None
        if field == "path":
            q = Q(path__iregex=_in_segment_regex(value, last=False))
        elif field == "name":
            q = Q(path__iregex=_in_segment_regex(value, last=True))
        elif field in ("user", "author"):
            q = _user_q(value, user)
        elif field == "type":
            q = _type_q(value)
        else:
            q = Q(ref=value)
    else:
        q = _substring(body)  # plain token, or an unknown `field:` searched as a whole
    return ~q if negate else q


def search_q(search: str, *, user: Any) -> Q:
    combined = Q()
    for token in tokenize(search):
        q = token_q(token, user=user)
        if q is not None:
            combined &= q
    return combined
