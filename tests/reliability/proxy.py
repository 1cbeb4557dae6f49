"""A TCP proxy the fault tests put between the server and a dependency (Redis), to take it away and give
it back while the real processes run: ``refuse`` (nothing listens: connections are refused, open ones are
cut), ``blackhole`` (connections are accepted and cut from the far side, and nothing is ever answered:
a dependency that hangs), ``forward`` (back to normal)."""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class TcpProxy:
    def __init__(self, listen_port: int, target: tuple[str, int]):
        self.port, self.target = listen_port, target
        self.mode = "forward"
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by refuse()/close()
                return
            with self._lock:
                self._open.add(client)
            if self.mode == "blackhole":
                continue  # held open, read by nobody, answered never
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._drop(client)
                continue
            with self._lock:
                self._open.add(upstream)
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 1.0)
                if self.mode != "forward" and not readable:
                    continue
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):  # ValueError: cut by another thread (refuse, close), its descriptor gone
            return
        finally:
            self._drop(a)
            self._drop(b)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _cut_all(self) -> None:
        with self._lock:
            open_now = list(self._open)
        for sock in open_now:
            self._drop(sock)

    def refuse(self) -> None:
        self.mode = "refuse"
        if self._listener is not None:
            with contextlib.suppress(OSError):  # wakes the blocked accept(): close alone would not
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        self._cut_all()

    def blackhole(self) -> None:
        if self._listener is None:
            self._listen()
        self.mode = "blackhole"
        self._cut_all()

    def forward(self) -> None:
        self._cut_all()  # held blackhole connections go too
        self.mode = "forward"
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self.refuse()
