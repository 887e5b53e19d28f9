"""A misbehaving Docker daemon, run in a process of its own, for the fault tests.

It listens on a unix socket and on a TCP port of 127.0.0.1 at once. `GET /_ping` and
`GET /version` respond like Engine 20.10 (API 1.41). Every other request gets the fault
that the test selected last with `PUT /_fault/NAME?ARGUMENTS` (see `FAULTS`), so a test
selects what goes wrong and then makes an ordinary client call.

It runs in a separate process so that the file descriptors counted in the test process
belong to the client alone, and so that a fault that floods the connection uses the
other core. Start it with `FaultDaemon(directory).start()`; run as a script, it prints
"ready UNIX_HOST TCP_HOST" once it listens.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

API_VERSION = "1.41"
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"

# A reply to a well-formed request, used by the tests to check that the client still works
# after a fault: a container list with one entry.
CONTAINER_LIST = [{"Id": "4a3f", "Names": ["/healthy"], "Ports": []}]


@dataclass
class Request:
    method: str
    target: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    header_length: int  # bytes of the request line and headers, blank line included


@dataclass
class Mode:
    name: str = "ok"
    arguments: dict[str, str] = field(default_factory=dict)

    def integer(self, key: str, default: int) -> int:
        return int(self.arguments.get(key, default))


# A fault writes its response on the socket and returns True to keep the connection open.
Fault = Callable[[Request, socket.socket, Mode], bool]
FAULTS: dict[str, Fault] = {}


def fault(name: str) -> Callable[[Fault], Fault]:
    def register(function: Fault) -> Fault:
        FAULTS[name] = function
        return function

    return register


def head(status: int, headers: dict[str, str], reason: str = "OK") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", "Api-Version: " + API_VERSION]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def whole(status: int, content_type: str | None, body: bytes, reason: str = "OK") -> bytes:
    headers = {"Content-Length": str(len(body))}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return head(status, headers, reason) + body


def reset(sock: socket.socket) -> None:
    """Close so that the client's next read fails with ECONNRESET.

    On TCP, SO_LINGER with a zero timeout makes close() send RST. On a unix socket, Linux
    reports ECONNRESET to the peer when the closing side leaves received bytes unread,
    and the request is still unread because the server only peeked at it.
    """
    if sock.family != socket.AF_UNIX:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# --- the faults --------------------------------------------------------------------------


@fault("ok")
def _ok(request: Request, sock: socket.socket, mode: Mode) -> bool:
    sock.sendall(whole(200, "application/json", json.dumps(CONTAINER_LIST).encode()))
    return True


@fault("chunk-cut")
def _chunk_cut(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """A chunked body that ends in the middle of a chunk, after `before` complete chunks."""
    content_type = mode.arguments.get("type", "application/json")
    sock.sendall(head(200, {"Content-Type": content_type, "Transfer-Encoding": "chunked"}))
    for piece in _pieces(mode):
        sock.sendall(chunk(piece))
    if content_type == MULTIPLEXED:
        cut = struct.pack(">B3xL", 1, 100) + b"half a li"  # inside a frame's payload
    else:
        cut = b'{"Type": "container", "Action": "sta'
    sock.sendall(b"400\r\n" + cut)
    return False


@fault("bad-chunk-size")
def _bad_chunk_size(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """A chunked body whose chunk size line is not hexadecimal."""
    content_type = mode.arguments.get("type", "application/json")
    sock.sendall(head(200, {"Content-Type": content_type, "Transfer-Encoding": "chunked"}))
    for piece in _pieces(mode):
        sock.sendall(chunk(piece))
    sock.sendall(b"zz-not-a-size\r\nabc\r\n")
    time.sleep(0.2)
    return False


@fault("reset")
def _reset(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """Headers and part of the body (or whole chunks of a stream), then a reset."""
    content_type = mode.arguments.get("type", "application/json")
    if mode.arguments.get("stream"):
        sock.sendall(head(200, {"Content-Type": content_type, "Transfer-Encoding": "chunked"}))
        for piece in _pieces(mode):
            sock.sendall(chunk(piece))
    else:
        sock.sendall(head(200, {"Content-Type": content_type, "Content-Length": "100000"}))
        sock.sendall(b'[{"Id": "4a3f", "Names": ["/half')
    time.sleep(0.2)
    reset(sock)
    return False


@fault("short-body")
def _short_body(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """A Content-Length of 1000 and 20 bytes of body, then the connection closes."""
    sock.sendall(head(200, {"Content-Type": "application/json", "Content-Length": "1000"}))
    sock.sendall(b'[{"Id": "4a3f", "Nam')
    return False


@fault("body")
def _body(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """A whole response with the status, Content-Type and body the test chose."""
    status = mode.integer("status", 200)
    content_type = mode.arguments.get("type")
    body = mode.arguments.get("body", "").encode()
    sock.sendall(whole(status, content_type or None, body, reason="Whatever"))
    return True


@fault("silent")
def _silent(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """Read the request and never respond; wait until the client gives up and closes."""
    _wait_for_close(sock)
    return False


@fault("stalled-body")
def _stalled_body(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """Send the headers and half of the body, then nothing more."""
    sock.sendall(head(200, {"Content-Type": "application/json", "Content-Length": "200"}))
    sock.sendall(b'[{"Id": "4a3f", "Names": ["/stal')
    _wait_for_close(sock)
    return False


@fault("huge-frame")
def _huge_frame(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """A frame header that announces 4 GiB - 1 of stdout, `mib` MiB of it, then the end."""
    sock.sendall(head(200, {"Content-Type": MULTIPLEXED, "Connection": "close"}))
    sock.sendall(b"\x01\x00\x00\x00\xff\xff\xff\xff")
    block = b"x" * (1 << 20)
    try:
        for _ in range(mode.integer("mib", 64)):
            sock.sendall(block)
    except OSError:
        pass  # the client stopped reading
    return False


@fault("events")
def _events(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """`count` events in one chunked stream, many to a chunk, then the end of the stream."""
    count = mode.integer("count", 1000)
    sock.sendall(head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
    batch: list[bytes] = []
    size = 0
    for number in range(count):
        line = _event(number)
        batch.append(line)
        size += len(line)
        if size >= 64 * 1024:
            sock.sendall(chunk(b"".join(batch)))
            batch, size = [], 0
    if batch:
        sock.sendall(chunk(b"".join(batch)))
    sock.sendall(chunk(b""))
    return True


@fault("slow-events")
def _slow_events(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """Two events `pause` seconds apart; chunked, or ended by closing with `close=1`."""
    pause = float(mode.arguments.get("pause", "1.5"))
    close = mode.arguments.get("close") == "1"
    framing = {"Connection": "close"} if close else {"Transfer-Encoding": "chunked"}
    sock.sendall(head(200, {"Content-Type": "application/json", **framing}))
    for number in range(2):
        if number:
            time.sleep(pause)
        sock.sendall(_event(number) if close else chunk(_event(number)))
    if close:
        return False
    sock.sendall(chunk(b""))
    return True


@fault("garbage")
def _garbage(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """Something that is not HTTP, such as an SSH server's greeting."""
    sock.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    return False


@fault("close")
def _close(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """Close the connection without a response."""
    return False


@fault("long-header")
def _long_header(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """A header line of 200 KiB, longer than any client accepts."""
    sock.sendall(head(200, {"Content-Type": "application/json", "X-Padding": "p" * 200_000}))
    return False


@fault("redirect")
def _redirect(request: Request, sock: socket.socket, mode: Mode) -> bool:
    """A 301 to another path, as the daemon responds to a path that it cleans into another."""
    sock.sendall(
        head(
            301, {"Location": mode.arguments.get("to", "/v1.41/images/json"), "Content-Length": "0"}
        )
    )
    return True


def _event(number: int) -> bytes:
    document = {
        "Type": "container",
        "Action": "start",
        "Actor": {"ID": f"{number:064x}", "Attributes": {"name": f"c{number}"}},
        "scope": "local",
        "time": 1700000000 + number,
        "timeNano": (1700000000 + number) * 1_000_000_000,
    }
    return json.dumps(document, separators=(",", ":")).encode() + b"\n"


def _pieces(mode: Mode) -> list[bytes]:
    """The complete chunks to send before a fault: `before` events, or frames for logs."""
    count = mode.integer("before", 0)
    if mode.arguments.get("type") == MULTIPLEXED:
        return [_frame(f"line {number}\n".encode()) for number in range(count)]
    if mode.arguments.get("type") == "application/x-tar":
        return [bytes([number]) * 512 for number in range(count)]
    return [_event(number) for number in range(count)]


def _frame(payload: bytes, stream: int = 1) -> bytes:
    return struct.pack(">B3xL", stream, len(payload)) + payload


def _wait_for_close(sock: socket.socket) -> None:
    sock.settimeout(120)
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass


# --- serving -----------------------------------------------------------------------------


class Server:
    def __init__(self, directory: str) -> None:
        self.socket_path = os.path.join(directory, "faults.sock")
        self.mode = Mode()
        self._lock = threading.Lock()

    def run(self) -> None:
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(self.socket_path)
        unix.listen(64)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(64)
        port = tcp.getsockname()[1]
        for listener in (unix, tcp):
            threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        print(f"ready unix://{self.socket_path} tcp://127.0.0.1:{port}", flush=True)
        # The test ends this process by closing its stdin.
        sys.stdin.read()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            sock, _ = listener.accept()
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                request = _peek_request(sock)
                if request is None:
                    return
                with self._lock:
                    mode = self.mode
                if request.method == "PUT" and request.path.startswith("/_fault/"):
                    _consume(sock, request)
                    name = request.path.removeprefix("/_fault/")
                    if name not in FAULTS:
                        sock.sendall(whole(404, "text/plain", f"no fault {name}".encode()))
                        continue
                    arguments = {key: values[-1] for key, values in request.query.items()}
                    with self._lock:
                        self.mode = Mode(name, arguments)
                    sock.sendall(whole(204, None, b""))
                    continue
                if request.path in ("/_ping", "/version") or mode.name == "ok":
                    _consume(sock, request)
                    if _answer_probe(request, sock):
                        continue
                    if not FAULTS["ok"](request, sock, mode):
                        return
                    continue
                if mode.name != "reset":
                    # A reset leaves the request unread (see reset()).
                    _consume(sock, request)
                if not FAULTS[mode.name](request, sock, mode):
                    return
        except OSError:
            return
        finally:
            try:
                sock.close()
            except OSError:
                pass


def _answer_probe(request: Request, sock: socket.socket) -> bool:
    if request.path == "/_ping":
        sock.sendall(whole(200, "text/plain", b"OK"))
        return True
    if request.path == "/version":
        document = {"Version": "20.10.24", "ApiVersion": API_VERSION, "MinAPIVersion": "1.12"}
        sock.sendall(whole(200, "application/json", json.dumps(document).encode()))
        return True
    return False


def _peek_request(sock: socket.socket) -> Request | None:
    """Read the request line and headers without taking them from the socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data = sock.recv(65536, socket.MSG_PEEK)
        if not data:
            return None
        if b"\r\n\r\n" not in data:
            time.sleep(0.001)
    header_length = data.index(b"\r\n\r\n") + 4
    header_block = data[: header_length - 4].decode("latin-1")
    lines = header_block.split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    split = urlsplit(target)
    path = split.path
    if path.startswith("/v1."):
        path = "/" + path.split("/", 2)[2]
    return Request(method, target, path, parse_qs(split.query), headers, header_length)


def _consume(sock: socket.socket, request: Request) -> None:
    """Take the peeked request, headers and body, from the socket."""
    length = request.header_length + int(request.headers.get("content-length") or 0)
    while length > 0:
        received = sock.recv(min(length, 65536))
        if not received:
            return
        length -= len(received)


# --- control from the tests --------------------------------------------------------------


class FaultDaemon:
    """The fault daemon's process, seen from a test."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.unix_host = ""
        self.tcp_host = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> FaultDaemon:
        self._process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), self.directory],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().split()
        if not line or line[0] != "ready":
            self.stop()
            raise RuntimeError(f"the fault daemon did not start: {line}")
        self.unix_host, self.tcp_host = line[1], line[2]
        return self

    def host(self, transport: str) -> str:
        return self.unix_host if transport == "unix" else self.tcp_host

    def select(self, name: str, **arguments: object) -> None:
        """Make every following request (other than the probe) get the fault `name`."""
        import http.client
        from urllib.parse import urlencode

        connection = http.client.HTTPConnection("127.0.0.1", int(self.tcp_host.rsplit(":", 1)[1]))
        try:
            query = urlencode({key: str(value) for key, value in arguments.items()})
            connection.request("PUT", f"/_fault/{name}?{query}")
            response = connection.getresponse()
            response.read()
            if response.status != 204:
                raise RuntimeError(f"selecting the fault {name} failed with {response.status}")
        finally:
            connection.close()

    def stop(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


if __name__ == "__main__":
    Server(sys.argv[1]).run()
