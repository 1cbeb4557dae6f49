"""The request body as the application reads it from the HTTP server: any failure of the server's input
stream (a chunk size that is not hex, a chunked body that ends before its last chunk, a body shorter than its
Content-Length when the server says so, a reset or timed-out socket) becomes one exception, ``BodyUnreadable``,
whatever the server raised (gunicorn's ``InvalidChunkSize``/``NoMoreData``, an ``OSError``, granian's or any
other server's own). ``guard_input`` wraps ``wsgi.input`` once, at the WSGI entry point, so every reader
(capture's capped read, ``request.body``, DRF's parsers, Django's multipart parser, CSRF's form read) sees it.

``BodyUnreadable`` is Django's ``UnreadablePostError`` (an ``OSError``: ``HttpRequest.body`` and the CSRF check
already treat it as an unreadable body) and a ``BadRequest`` (Django answers 400, never 500, wherever it
escapes). The public SDK endpoints answer it with capture's 400 `invalid_payload`, the API with a 400
`parse_error`, anything else with the project's JSON 400 (``handler400``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import BadRequest
from django.http import UnreadablePostError

BODY_UNREADABLE_DETAIL = "The request body could not be read: it ended early or its chunked encoding is invalid."


class BodyUnreadable(UnreadablePostError, BadRequest):
    def __init__(self, detail: str = BODY_UNREADABLE_DETAIL):
        super().__init__(detail)
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


class ClientInput:
    """``wsgi.input`` whose reads raise ``BodyUnreadable`` when the server's stream fails."""

    __slots__ = ("_stream",)

    def __init__(self, stream: Any):
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._stream.read(size) if size is not None and size >= 0 else self._stream.read()
        except BodyUnreadable:
            raise
        # Only reading the client's stream happens here, so whatever it raises (each server has its own
        # classes; gunicorn's chunk errors are not even OSErrors) means the body could not be read.
        except Exception as exc:
            raise BodyUnreadable() from exc

    def readline(self, size: int = -1, /) -> bytes:
        try:
            return self._stream.readline(size) if size is not None and size >= 0 else self._stream.readline()
        except BodyUnreadable:
            raise
        except Exception as exc:  # as in read()
            raise BodyUnreadable() from exc

    def readlines(self, hint: int = -1, /) -> list[bytes]:
        lines, total = [], 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def __getattr__(self, name: str) -> Any:  # anything else a server's stream offers
        return getattr(self._stream, name)


def guard_input(environ: dict[str, Any]) -> None:
    """Wrap the request's ``wsgi.input`` (in place) so a failed read raises ``BodyUnreadable``."""
    stream = environ.get("wsgi.input")
    if stream is not None and not isinstance(stream, ClientInput):
        environ["wsgi.input"] = ClientInput(stream)
