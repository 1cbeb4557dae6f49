"""The escape-aware path helper: escaping, round trips, empty segments, depth, the prefix rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from file_system.paths import (
    ancestor_paths,
    escape_segment,
    is_descendant,
    join_path,
    last_segment,
    normalize_path,
    parent_path,
    path_depth,
    split_path,
)


@pytest.mark.parametrize(
    ("stored", "segments"),
    [
        ("Documents", ["Documents"]),
        ("Folder/Subfolder/File", ["Folder", "Subfolder", "File"]),
        ("Unfiled/Feature Flags/Flag \\/ With Slash", ["Unfiled", "Feature Flags", "Flag / With Slash"]),
        ("a\\\\b", ["a\\b"]),  # an escaped backslash
        ("a\\\\/b", ["a\\", "b"]),  # escaped backslash, then a real separator
        ("a\\\\\\/b", ["a\\/b"]),  # escaped backslash, then an escaped slash
        ("a\\b", ["a\\b"]),  # a lone backslash before anything else is literal
        ("trailing\\", ["trailing\\"]),  # ... also at the very end
        ("/leading", ["leading"]),
        ("trailing/", ["trailing"]),
        ("double//slash", ["double", "slash"]),
        ("///", []),
        ("", []),
        ("ünï/cødé", ["ünï", "cødé"]),
    ],
)
def test_split_reads_escapes_and_drops_empty_segments(stored: str, segments: list[str]) -> None:
    assert split_path(stored) == segments
    assert path_depth(stored) == len(segments)


@pytest.mark.parametrize(
    ("segments", "stored"),
    [
        (["Documents"], "Documents"),
        (["a/b"], "a\\/b"),
        (["a\\b"], "a\\\\b"),
        (["a\\/b"], "a\\\\\\/b"),  # backslashes doubled first, then slashes escaped
        (["x", "", "y"], "x/y"),  # empty segments dropped
        ([], ""),
    ],
)
def test_join_escapes_backslashes_then_slashes(segments: list[str], stored: str) -> None:
    assert join_path(segments) == stored


@pytest.mark.parametrize(
    ("path", "depth"),
    [("Documents", 1), ("Folder/Subfolder/File", 3), ("Unfiled/Feature Flags/Flag \\/ With Slash", 3), ("a//b/", 2)],
)
def test_depth_counts_segments(path: str, depth: int) -> None:
    assert path_depth(path) == depth


def test_normalize_ancestors_parent_and_last_segment() -> None:
    assert normalize_path("/a//b\\x/") == "a/b\\\\x"
    assert ancestor_paths("a/b\\/c/d") == ["a", "a/b\\/c"]
    assert ancestor_paths("single") == []
    assert parent_path("a/b\\/c/d") == "a/b\\/c"
    assert parent_path("top") == ""
    assert last_segment("a/b\\/c") == "b/c"
    assert escape_segment("1/2\\3") == "1\\/2\\\\3"


@pytest.mark.parametrize(
    ("path", "folder", "expected"),
    [
        ("a/b", "a", True),
        ("a/b/c", "a", True),
        ("a", "a", False),  # the folder itself is not its own descendant
        ("ab/c", "a", False),
        ("a\\/b", "a", False),  # `a/b` is one segment named "a/b"
        ("a\\\\/b", "a\\\\", True),  # folder named "a\"
        ("a\\\\\\/b", "a\\\\", False),  # one segment named "a\/b"
    ],
)
def test_descendant_rule_is_prefix_plus_separator(path: str, folder: str, expected: bool) -> None:
    assert is_descendant(path, folder) is expected


segment_lists = st.lists(st.text(min_size=1, alphabet=st.characters(codec="utf-8")), max_size=8)


@given(segment_lists)
def test_split_inverts_join(segments: list[str]) -> None:
    assert split_path(join_path(segments)) == segments
    assert path_depth(join_path(segments)) == len(segments)


@given(st.text())
def test_normalize_is_idempotent(raw: str) -> None:
    assert normalize_path(normalize_path(raw)) == normalize_path(raw)


@given(segment_lists.filter(bool), segment_lists, st.data())
def test_stored_prefix_test_agrees_with_segments(folder: list[str], tail: list[str], data: st.DataObject) -> None:
    # Half the time a real descendant (or the folder itself), else a path sharing only some characters.
    related = data.draw(st.booleans())
    path = folder + tail if related else [folder[0] + data.draw(st.sampled_from(["\\", "/", "x"])), *tail]
    expected = len(path) > len(folder) and path[: len(folder)] == folder
    assert is_descendant(join_path(path), join_path(folder)) is expected
