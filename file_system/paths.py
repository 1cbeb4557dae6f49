"""The one escape-aware path helper of the project tree.

A path is segments joined by `/`; inside a segment a literal `\\` is stored as `\\\\` and a literal `/` as `\\/`.
Every read and write of `FileSystem.path` goes through these functions, so depth and prefix tests agree.
"""

from __future__ import annotations

# Longest stored path, in UTF-8 bytes. PostgreSQL's btree on (team, path) cannot hold an entry much over
# 2.7 kB, so a longer path would fail inside the database; the API refuses it with a 400 instead.
MAX_PATH_BYTES = 2048


def escape_segment(segment: str) -> str:
    """Backslashes are doubled first, then slashes escaped (the order matters)."""
    return segment.replace("\\", "\\\\").replace("/", "\\/")


def split_path(path: str) -> list[str]:
    """Unescaped segments, left to right; empty segments (leading, trailing, doubled `/`) are dropped."""
    segments: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(path):
        char = path[i]
        if char == "\\" and i + 1 < len(path) and path[i + 1] in "/\\":
            current.append(path[i + 1])
            i += 2
            continue
        if char == "/":
            if current:
                segments.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    if current:
        segments.append("".join(current))
    return segments


def join_path(segments: list[str]) -> str:
    """The stored form of these segments; empty segments are dropped, as `split_path` would."""
    return "/".join(escape_segment(segment) for segment in segments if segment)


def normalize_path(path: str) -> str:
    """The canonical stored form: `a//b/` → `a/b`, a lone `\\x` → `\\\\x`."""
    return join_path(split_path(path))


def path_bytes(path: str) -> int:
    return len(path.encode("utf-8"))


def path_fits(path: str) -> bool:
    return path_bytes(path) <= MAX_PATH_BYTES


def path_depth(path: str) -> int:
    return len(split_path(path))


def ancestor_paths(path: str) -> list[str]:
    """Stored paths of every ancestor folder, shallowest first (`a/b/c` → `a`, `a/b`)."""
    segments = split_path(path)
    return [join_path(segments[:n]) for n in range(1, len(segments))]


def parent_path(path: str) -> str:
    """The stored path of the containing folder, `""` at the top level."""
    return join_path(split_path(path)[:-1])


def last_segment(path: str) -> str:
    segments = split_path(path)
    return segments[-1] if segments else ""


def is_descendant(path: str, folder: str) -> bool:
    """The prefix rule used everywhere: strictly below `folder`, at any depth, never the folder itself."""
    return path.startswith(folder + "/")


def rebase(path: str, old_prefix: str, new_prefix: str) -> str:
    """`path` (the folder itself or a descendant of `old_prefix`) moved under `new_prefix`."""
    return new_prefix + path[len(old_prefix) :]
