"""ShallowFieldCopiesMixin gives each serializer instance its own bound fields, like DRF's deep copy, and the
same validation: values, errors, nested children and nested serializers."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from posthog_clone.api.field_copies import ShallowFieldCopiesMixin


class _Inner(serializers.Serializer):
    n = serializers.IntegerField(min_value=1)


class _Declared(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    kind = serializers.ChoiceField(choices=["a", "b"])
    tags = serializers.DictField(child=serializers.CharField(max_length=3), required=False)
    grid = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()), required=False)
    inner = _Inner(required=False)
    when = serializers.DateTimeField(required=False)


class Shallow(ShallowFieldCopiesMixin, _Declared):
    pass


class Deep(_Declared):
    pass


CASES = [
    {"name": "ok", "kind": "a", "tags": {"x": "abc"}, "grid": [[1, 2], ["3"]], "inner": {"n": 2}},
    {"name": "toolong", "kind": "c", "tags": {"x": "abcd", "y": 1}, "grid": [[1, "x"]], "inner": {"n": 0}},
    {"name": "ok", "kind": "b", "when": "2026-12-07T10:00:00Z", "grid": "no"},
    {"kind": "a", "tags": "no"},
]


@pytest.mark.parametrize("data", CASES)
def test_validates_as_drfs_deep_copies_do(data):
    shallow, deep = Shallow(data=data), Deep(data=data)
    assert shallow.is_valid() == deep.is_valid()
    assert shallow.errors == deep.errors
    if not deep.errors:
        assert shallow.validated_data == deep.validated_data


def test_each_instance_has_its_own_bound_fields():
    first, second = Shallow(), Shallow()
    for name in _Declared._declared_fields:
        a, b = first.fields[name], second.fields[name]
        assert a is not b and a is not _Declared._declared_fields[name]
        assert a.parent is first and b.parent is second and a.field_name == b.field_name == name
    tags, grid = first.fields["tags"], first.fields["grid"]
    assert tags.child is not Shallow._declared_fields["tags"].child and tags.child.parent is tags
    assert grid.child.parent is grid and grid.child.child.parent is grid.child
    assert grid.child.child is not second.fields["grid"].child.child
    assert first.fields["inner"].fields["n"].parent is first.fields["inner"]


def test_the_declared_fields_stay_unbound():
    Shallow(data=CASES[0]).is_valid()
    for field in Shallow._declared_fields.values():
        assert getattr(field, "parent", None) is None and getattr(field, "field_name", None) is None


def test_context_reaches_the_children():
    shallow = Shallow(context={"team": "t"})
    assert shallow.fields["tags"].child.context == {"team": "t"}
    assert shallow.fields["grid"].child.child.root is shallow
