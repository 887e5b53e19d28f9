"""Hijacked connections: attach and exec start, where one socket carries stdin and output.

The client sends the request with `Connection: Upgrade` and `Upgrade: tcp`. The daemon
responds with `101 UPGRADED` (daemons from before the upgrade handshake send 200 with no
length), and from then on the socket is a plain byte pipe in both directions: what the
client writes goes to the process's stdin, and the process's output comes back framed or
raw (see docker_engine._frames). Closing the client's writing side signals the process
that stdin has ended, while its output can still be read.
"""

from __future__ import annotations

import logging
import selectors
import socket
import sys
import time
from inspect import getgeneratorstate
from typing import TYPE_CHECKING, Any

from docker_engine._body import CHUNK_SIZE, take_buffered
from docker_engine._frames import STDERR, FrameDecoder
from docker_engine._streams import FrameStream, _describe_request, _socket_of
from docker_engine.errors import StreamError

if TYPE_CHECKING:
    from docker_engine._responses import Exchange

logger = logging.getLogger("docker_engine")

# The end-of-file character of a terminal in canonical mode (Ctrl-D). At the start of a
# line, it makes the program's next read return end of file.
TTY_EOF = b"\x04"


class HijackedStream(FrameStream):
    """The bidirectional stream of an attach or exec start.

    Iterating yields `(stream, data)` output pairs like FrameStream. `write(data)` sends
    bytes to the process's stdin and `close_write()` ends its stdin while output is still
    read. `communicate(input)` does all three without the risk of a deadlock. The daemon
    closes the connection when the output ends, so the connection is never reused.

    With a TTY (`multiplexed` is False), the daemon ends the output as soon as stdin
    ends, even though the process may still run. To end a TTY program's input, write the
    terminal's end-of-file character instead (TTY_EOF, after a newline) and read on.

    Over TLS, `close_write()` shuts down the TCP connection's writing side without a TLS
    close_notify alert, as the Docker CLI does. The daemon reads that as the end of stdin.
    Limitation: over TLS, do not write from one thread while another iterates, because
    an OpenSSL connection must not be used by two threads at once; `communicate()` reads
    and writes from one thread and is safe.
    """

    def __init__(self, exchange: Exchange, *, multiplexed: bool) -> None:
        response = exchange.response
        # A 200 response with a length or a chunked body was not hijacked. Exec start
        # with Detach responds that way, with an empty body.
        self.hijacked = response.status == 101 or (
            response.getheader("Content-Length") is None and not response.chunked
        )
        self._sock: Any = _socket_of(exchange) if self.hijacked else None
        self._buffered = b""
        if self._sock is not None:
            self._buffered = take_buffered(response.fp, self._sock)
        super().__init__(exchange, multiplexed=multiplexed)

    # --- writing ---------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send `data` to the process's stdin (the container must be attached with stdin)."""
        sock = self._writable_socket()
        try:
            sock.sendall(data)
        except socket.timeout:
            raise self._exchange.timeout_error() from None
        except OSError as error:
            raise self._exchange.pool.transport.connection_error(
                f"writing to the stdin of {_describe_request(self._exchange)} failed "
                f"({type(error).__name__}: {error}); the process may have exited"
            ) from error

    def close_write(self) -> None:
        """End the process's stdin; output can still be read until the daemon ends it."""
        sock = self._writable_socket()
        try:
            # socket.socket.shutdown rather than ssl.SSLSocket.shutdown, which would
            # drop the TLS state that reading the output still needs.
            socket.socket.shutdown(sock, socket.SHUT_WR)
        except OSError as error:
            logger.debug("closing the writing side of a hijacked connection: %s", error)

    def _writable_socket(self) -> Any:
        if not self.hijacked or self._sock is None:
            raise StreamError(
                f"{_describe_request(self._exchange)} was not upgraded to a bidirectional "
                f"connection (the daemon responded with {self._exchange.response.status} and a "
                "body), so there is no stdin to write to"
            )
        if self.closed:
            raise StreamError(f"the stream of {_describe_request(self._exchange)} is closed")
        return self._sock

    # --- reading ---------------------------------------------------------------------

    def _read_chunk(self) -> bytes:
        if not self.hijacked:
            return self._read_body()
        if self._buffered:
            data, self._buffered = self._buffered, b""
            return data
        if self._ended:
            return b""
        try:
            return self._sock.recv(CHUNK_SIZE)  # type: ignore[no-any-return]
        except socket.timeout:
            if self._closed_by_caller:
                return b""
            self._fail()
            raise self._exchange.timeout_error() from None
        except OSError as error:
            if self._closed_by_caller:
                return b""
            self._fail()
            raise self._exchange.pool.transport.connection_error(
                f"the connection failed while reading the output of "
                f"{_describe_request(self._exchange)} ({type(error).__name__}: {error})"
            ) from error

    def _end_of_output(self) -> None:
        if self.hijacked:
            # The daemon ended the output by closing the connection.
            self._fail()
        else:
            self._release()

    # --- both at once ----------------------------------------------------------------

    def communicate(
        self, input: bytes | None = None, timeout: float | None = None
    ) -> tuple[bytes, bytes]:
        """Send `input` to stdin, close stdin, read all output; return `(stdout, stderr)`.

        Reading and writing alternate in one thread as the socket allows, so a process
        that writes a lot before reading all its input does not block the exchange.
        `timeout` limits the whole exchange in seconds and raises TimeoutError. Call it
        instead of iterating, not after.

        With a TTY, all output is stdout, and stdin stays open after `input` because
        closing it would end the output. `input` must then end the program's input
        itself, with TTY_EOF for a program that reads to the end.
        """
        if getgeneratorstate(self._items) != "GEN_CREATED":  # type: ignore[arg-type]
            raise StreamError("communicate() must be called before iterating over the stream")
        if not self.hijacked:
            if input:
                self._writable_socket()
            return self.read_separated()

        stdout: list[bytes] = []
        stderr: list[bytes] = []
        decoder = FrameDecoder() if self.multiplexed else None

        def collect(data: bytes) -> None:
            if decoder is None:
                stdout.append(data)
                return
            for stream, payload in decoder.feed(data):
                (stderr if stream == STDERR else stdout).append(payload)
            if decoder.error is not None:
                self._fail()
                raise StreamError(f"{_describe_request(self._exchange)}: {decoder.error}")

        if self._buffered:
            collect(self._buffered)
            self._buffered = b""
        self._exchange_nonblocking(memoryview(input or b""), collect, timeout)

        if decoder is not None and decoder.pending and not self._closed_by_caller:
            self._fail()
            raise StreamError(
                f"the output of {_describe_request(self._exchange)} ended "
                f"{decoder.describe_pending()}: the connection was cut"
            )
        self._end_of_output()
        return b"".join(stdout), b"".join(stderr)

    def _exchange_nonblocking(
        self, pending: memoryview, collect: Any, timeout: float | None
    ) -> None:
        """Write `pending` and read output until the daemon closes the connection."""
        sock = self._sock
        ssl = sys.modules.get("ssl")
        tls = ssl is not None and isinstance(sock, ssl.SSLSocket)
        would_block: tuple[type[BaseException], ...] = (BlockingIOError, InterruptedError)
        if tls:
            assert ssl is not None
            would_block += (ssl.SSLWantReadError, ssl.SSLWantWriteError)
        deadline = None if timeout is None else time.monotonic() + timeout

        # With a TTY, the daemon stops sending output once stdin ends.
        end_stdin = self.multiplexed
        if not pending and end_stdin:
            self.close_write()
        previous_timeout = sock.gettimeout()
        sock.settimeout(0.0)
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if pending else 0))
        try:
            while True:
                if tls and sock.pending():
                    # Bytes OpenSSL has already decrypted do not show up in select().
                    mask = selectors.EVENT_READ
                else:
                    wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                    events = selector.select(wait)
                    if not events:
                        if deadline is not None and time.monotonic() >= deadline:
                            self._fail()
                            raise self._exchange.pool.transport.timeout_error("read", timeout)
                        continue
                    mask = events[0][1]

                if mask & selectors.EVENT_WRITE and pending:
                    try:
                        sent = sock.send(pending[:CHUNK_SIZE])
                    except would_block:
                        sent = 0
                    except OSError as error:
                        # The process stopped reading stdin (it exited, for one): keep
                        # reading its output, as subprocess.communicate does.
                        logger.debug("stdin of %s closed early: %s", _describe_request(self._exchange), error)
                        sent = len(pending)
                    pending = pending[sent:]
                    if not pending:
                        if end_stdin:
                            self.close_write()
                        selector.modify(sock, selectors.EVENT_READ)

                if mask & selectors.EVENT_READ:
                    try:
                        data = sock.recv(CHUNK_SIZE)
                    except would_block:
                        continue
                    except OSError as error:
                        if self._closed_by_caller:
                            return
                        self._fail()
                        raise self._exchange.pool.transport.connection_error(
                            f"the connection failed while reading the output of "
                            f"{_describe_request(self._exchange)} ({error})"
                        ) from error
                    if not data:
                        return
                    collect(data)
        finally:
            selector.close()
            if not self.closed:
                sock.settimeout(previous_timeout)
