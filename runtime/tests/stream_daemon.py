"""A fake daemon whose responses are raw bytes written by the test, for stream faults.

Each route is a function that gets the parsed request and the connected socket and writes
whatever it likes: chunked bodies cut at chosen places, a 101 upgrade followed by an echo
of stdin, a body that stops in the middle of a frame. It listens on a unix socket by
default, on TCP at 127.0.0.1 with `tcp`, and on TCP with TLS with `tls_context`.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

_VERSIONED = re.compile(r"/v(\d+\.\d+)(/.*)")


@dataclass
class RawRequest:
    method: str
    target: str
    version: str | None
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    # Bytes the client sent after this request's headers and body, such as stdin written
    # right after an upgrade request.
    extra: bytes = b""
    connection_id: int = 0


@dataclass
class Connection:
    """The server side of one client connection."""

    sock: socket.socket
    buffer: bytes = b""

    def recv(self, size: int = 65536) -> bytes:
        if self.buffer:
            data, self.buffer = self.buffer, b""
            return data
        return self.sock.recv(size)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


# A route writes the response and returns True to keep the connection for another request.
Route = Callable[[RawRequest, Connection], "bool | None"]


def head(status: int, headers: dict[str, str] | None = None, reason: str = "OK") -> bytes:
    """Return a status line and headers, ending with the blank line."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(data: bytes) -> bytes:
    """Encode one chunk of a chunked body; b"" gives the last chunk."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@dataclass
class StreamDaemon:
    directory: str
    tls_context: ssl.SSLContext | None = None
    tcp: bool = False  # listen on TCP (always so with tls_context) instead of a unix socket
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    requests: list[RawRequest] = field(default_factory=list)
    connections: int = 0
    host: str = ""
    errors: list[BaseException] = field(default_factory=list)

    def route(self, method: str, path: str, handler: Route) -> None:
        self.routes[(method, path)] = handler

    def start(self) -> StreamDaemon:
        if self.tls_context is None and not self.tcp:
            path = f"{self.directory}/stream.sock"
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(path)
            self.host = f"unix://{path}"
        else:
            self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._listener.bind(("127.0.0.1", 0))
            self.host = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        self._listener.listen(16)
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()

    def requests_to(self, path: str) -> list[RawRequest]:
        return [request for request in self.requests if request.path == path]

    def _accept(self) -> None:
        while self._running:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(
                target=self._serve, args=(sock, self.connections), daemon=True
            ).start()

    def _serve(self, sock: socket.socket, connection_id: int) -> None:
        try:
            if self.tls_context is not None:
                sock = self.tls_context.wrap_socket(sock, server_side=True)
            connection = Connection(sock)
            while True:
                request = _read_request(connection, connection_id)
                if request is None:
                    return
                self.requests.append(request)
                handler = self.routes.get((request.method, request.path))
                if handler is None:
                    handler = _default_route
                if not handler(request, connection):
                    return
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client closed its stream early, which tests do on purpose
        except Exception as error:  # noqa: BLE001 - kept for the test to inspect
            self.errors.append(error)
        finally:
            try:
                sock.close()
            except OSError:
                pass


def _default_route(request: RawRequest, connection: Connection) -> bool:
    body = b'{"message": "page not found"}'
    connection.send(
        head(404, {"Content-Type": "application/json", "Content-Length": str(len(body))}, "Not Found")
        + body
    )
    return True


def _read_request(connection: Connection, connection_id: int) -> RawRequest | None:
    data = connection.buffer
    connection.buffer = b""
    while b"\r\n\r\n" not in data:
        more = connection.sock.recv(65536)
        if not more:
            return None
        data += more
    header_block, _, rest = data.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()

    lowered = {name.lower(): value for name, value in headers.items()}
    body = b""
    if lowered.get("transfer-encoding", "").lower() == "chunked":
        while True:
            while b"\r\n" not in rest:
                rest += connection.sock.recv(65536)
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += connection.sock.recv(65536)
            body += rest[:size]
            rest = rest[size + 2 :]
            if size == 0:
                break
    else:
        length = int(lowered.get("content-length", "0"))
        while len(rest) < length:
            rest += connection.sock.recv(65536)
        body, rest = rest[:length], rest[length:]
    connection.buffer = rest

    split = urlsplit(target)
    match = _VERSIONED.fullmatch(split.path)
    version, path = (match.group(1), match.group(2)) if match else (None, split.path)
    return RawRequest(
        method=method,
        target=target,
        version=version,
        path=path,
        query=parse_qs(split.query, keep_blank_values=True),
        headers=headers,
        body=body,
        extra=rest,
        connection_id=connection_id,
    )
