"""`ShallowFieldCopiesMixin`: a serializer's declared fields copied for each instance without re-running their
constructors.

DRF gives each serializer instance its own copies of the class's declared fields (``get_fields`` deep-copies
them: each field's ``__init__`` runs again with deep-copied arguments), because binding a field to its serializer
(``field.bind``: name, parent, label, source) writes on the field. Only that binding differs between copies:
everything ``__init__`` built from the arguments (validators, error messages, choices, style) is the same, and
DRF only reads it afterwards. So a shallow copy, bound afterwards, is an equal field, sharing those with the
declared field and with the copies of other requests and threads: code must not change a bound field's
validators or choices (none here does). A mutable ``default`` is copied, since it becomes part of the validated
data. On the `/query/` request (the body
and its query node, ~20 fields) the deep copy cost ~0.15 ms of ~3 ms outside ClickHouse (docs/performance.md).

A field that holds a plain field (``ListField``/``DictField``'s ``child``, which their constructor binds) gets a
copy of that too, whose parent is the new field. A nested serializer, a field whose child is a serializer and a
many-related field are deep-copied, as DRF does.
"""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import fields, relations, serializers


def copy_field(field: fields.Field) -> fields.Field:
    child = getattr(field, "child", None)
    if isinstance(field, (serializers.BaseSerializer, relations.ManyRelatedField)) or isinstance(
        child, serializers.BaseSerializer
    ):
        return copy.deepcopy(field)  # holds a serializer or a relation: DRF's own copy
    new = copy.copy(field)
    if isinstance(field.default, (list, dict, set)):  # each request gets its own, as from DRF's copy
        new.default = copy.deepcopy(field.default)
    if isinstance(child, fields.Field):
        new.child = copy_field(child)  # type: ignore[attr-defined]
        new.child.parent = new  # type: ignore[attr-defined]  # the rest of its binding (name "") is the same
    return new


# Put it before ``serializers.Serializer`` in a plain serializer's bases (not a ModelSerializer, which builds its
# own fields). A comment, not a docstring: the spec would give every serializer using it that text.
class ShallowFieldCopiesMixin:
    _declared_fields: dict[str, fields.Field]

    def get_fields(self) -> dict[str, Any]:
        return {name: copy_field(field) for name, field in self._declared_fields.items()}
