"""A tiny HTTP server on a unix socket that plays a Docker daemon and records each request.

By default it answers like Docker Engine 29.0: `GET /_ping` with `Api-Version: 1.52`,
`GET /version` with `"ApiVersion": "1.52", "MinAPIVersion": "1.44"`, and any request for
an API version outside that range with the daemon's 400 "too old" or "too new" message,
the Api-Version header included. Tests add routes for everything else.
"""

from __future__ import annotations

import json
import os
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

_VERSIONED = re.compile(r"/v(\d+\.\d+)(/.*)")


@dataclass
class Recorded:
    """One request as the fake daemon received it."""

    method: str
    target: str  # as sent, with version prefix and query
    version: str | None  # the API version of the prefix, None when unversioned
    path: str  # without the version prefix and query
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    connection_id: int


@dataclass
class Answer:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    close: bool = False  # close the connection after answering, saying so
    drop: bool = False  # close the connection after answering without saying so


Route = Callable[[Recorded], Answer]


def _version_key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


class FakeDaemon:
    def __init__(
        self,
        directory: str,
        *,
        api_version: str = "1.52",
        min_api_version: str | None = "1.44",
        engine_version: str = "29.0.0",
        ping_header: bool = True,
        tcp_address: str | None = None,
    ) -> None:
        # With tcp_address ("127.0.0.1" or "::1") it listens on a free TCP port there.
        self.tcp_address = tcp_address
        self.socket_path = os.path.join(directory, "docker.sock")
        self.host = "unix://" + self.socket_path
        self.api_version = api_version
        self.min_api_version = min_api_version
        self.engine_version = engine_version
        self.ping_header = ping_header
        self.routes: dict[tuple[str, str], Route | Answer] = {}
        self.requests: list[Recorded] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._server: socketserver.BaseServer | None = None
        self._thread: threading.Thread | None = None

    # --- setup ---

    def route(self, method: str, path: str, answer: Route | Answer) -> None:
        self.routes[(method, path)] = answer

    def start(self) -> FakeDaemon:
        daemon = self

        class Handler(_Handler):
            fake = daemon

        server: socketserver.BaseServer
        if self.tcp_address is None:
            server = _Server(self.socket_path, Handler)
        else:
            server_class = _TCP6Server if ":" in self.tcp_address else _TCPServer
            server = server_class((self.tcp_address, 0), Handler)
            port = server.server_address[1]
            name = f"[{self.tcp_address}]" if ":" in self.tcp_address else self.tcp_address
            self.host = f"tcp://{name}:{port}"
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    # --- what it saw ---

    def versioned_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path not in ("/_ping", "/version") or r.version]

    # --- answering ---

    def answer(self, request: Recorded) -> Answer:
        version_headers = {"Api-Version": self.api_version, "Server": f"Docker/{self.engine_version}"}
        if request.version is not None:
            if self.min_api_version and _version_key(request.version) < _version_key(self.min_api_version):
                return Answer(
                    400,
                    {
                        "message": f"client version {request.version} is too old. Minimum "
                        f"supported API version is {self.min_api_version}, please upgrade "
                        "your client to a newer version"
                    },
                    version_headers,
                )
            if _version_key(request.version) > _version_key(self.api_version):
                return Answer(
                    400,
                    {
                        "message": f"client version {request.version} is too new. Maximum "
                        f"supported API version is {self.api_version}"
                    },
                    version_headers,
                )

        route = self.routes.get((request.method, request.path))
        if route is not None:
            answer = route(request) if callable(route) else route
            answer.headers = {**version_headers, **answer.headers}
            return answer
        if request.path == "/_ping" and request.method in ("GET", "HEAD"):
            return Answer(200, b"OK", version_headers if self.ping_header else {})
        if request.path == "/version" and request.method == "GET":
            document: dict[str, Any] = {
                "Version": self.engine_version,
                "ApiVersion": self.api_version,
                "Os": "linux",
                "Arch": "amd64",
                "KernelVersion": "6.1.0-fake",
            }
            if self.min_api_version:
                document["MinAPIVersion"] = self.min_api_version
            return Answer(200, document, version_headers)
        return Answer(404, {"message": f"page not found: {request.method} {request.path}"}, version_headers)


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that close a stream early leave the handler writing to a closed socket.
        pass


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _TCP6Server(_TCPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    fake: FakeDaemon
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake.connections += 1
            self.connection_id = self.fake.connections

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        split = urlsplit(self.path)
        match = _VERSIONED.fullmatch(split.path)
        version, path = (match.group(1), match.group(2)) if match else (None, split.path)
        request = Recorded(
            method=self.command,
            target=self.path,
            version=version,
            path=path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k: v for k, v in self.headers.items()},
            body=self._read_body(),
            connection_id=self.connection_id,
        )
        with self.fake._lock:
            self.fake.requests.append(request)
        answer = self.fake.answer(request)
        if answer.delay:
            time.sleep(answer.delay)

        body = answer.body
        headers = dict(answer.headers)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        self.send_response(answer.status)
        for name, value in headers.items():
            self.send_header(name, value)
        if answer.status not in (204, 304) and self.command != "HEAD":
            self.send_header("Content-Length", str(len(body)))
        if answer.close:
            self.send_header("Connection", "close")
        if answer.close or answer.drop:
            self.close_connection = True
        self.end_headers()
        if answer.status not in (204, 304) and self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle
