"""ShallowFieldCopiesMixin gives each serializer instance its own bound fields, like DRF's deep copy, and the
same validation: values, errors, nested children and nested serializers."""

from __future__ import annotations

import copy

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


class _Defaults(ShallowFieldCopiesMixin, serializers.Serializer):
    tags = serializers.ListField(child=serializers.CharField(), default=[])
    items = serializers.ListField(child=_Inner(), required=False)


def test_a_mutable_default_is_each_requests_own():
    first, second = _Defaults(data={}), _Defaults(data={})
    assert first.is_valid() and second.is_valid()
    first.validated_data["tags"].append("changed")
    assert second.validated_data["tags"] == [] and _Defaults._declared_fields["tags"].default == []


def test_a_serializer_child_is_copied_and_bound_as_drf_does():
    shallow = _Defaults(data={"items": [{"n": 1}, {"n": 0}]})
    assert not shallow.is_valid()
    assert shallow.errors == {"items": {1: {"n": ["Ensure this value is greater than or equal to 1."]}}}
    child = shallow.fields["items"].child
    assert child is not _Defaults._declared_fields["items"].child and child.parent is shallow.fields["items"]
    drf = copy.deepcopy(_Defaults._declared_fields["items"]).child
    assert (child.field_name, child.source, child.source_attrs) == (drf.field_name, drf.source, drf.source_attrs)


QUERY_BODIES = [
    {"query": {"kind": "HogQLQuery", "query": "select 1"}, "refresh": "force_blocking"},
    {"query": {"kind": "HogQLQuery", "query": "select 1", "values": {"a": 1}, "filters": {}}, "async": True},
    {"query": {"kind": "HogQLQuery", "query": 5, "bogus": 1}, "refresh": 3},
    {"query": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], "interval": "day"}},
    {"query": {"kind": "TrendsQuery", "series": "nope", "interval": "fortnight"}, "client_query_id": "x" * 201},
    {"query": {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": "a"}, {"kind": "EventsNode"}]}},
    {"query": {"kind": "RetentionQuery", "retentionFilter": {"totalIntervals": "x"}}, "limit_context": "other"},
    {"query": {"kind": "NoSuchQuery"}},
]


@pytest.mark.parametrize("body", QUERY_BODIES)
def test_query_requests_validate_as_with_drfs_deep_copies(body, monkeypatch, team):
    from query.serializers import QueryRequestSerializer

    def result() -> tuple[bool, object]:
        serializer = QueryRequestSerializer(data=body, context={"team": team})
        valid = serializer.is_valid()
        return valid, serializer.validated_data if valid else serializer.errors

    shallow = result()
    monkeypatch.setattr(ShallowFieldCopiesMixin, "get_fields", lambda self: copy.deepcopy(self._declared_fields))
    assert shallow == result()
