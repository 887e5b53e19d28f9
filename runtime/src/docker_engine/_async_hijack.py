"""Hijacked connections for the asyncio client: attach and exec start, stdin and output on
one connection.

As in docker_engine._hijack: the request carries `Connection: Upgrade` and `Upgrade:
tcp`, the daemon responds with `101 UPGRADED` (or, before the upgrade handshake, 200 with
no length), and from then on the connection is a byte pipe in both directions. Output
the daemon sent right behind its headers is already in the StreamReader's buffer, so
reading simply goes on from there.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import socket
from typing import TYPE_CHECKING

from docker_engine._async_http import ProtocolError
from docker_engine._async_streams import CHUNK_SIZE, AsyncFrameStream, describe_request
from docker_engine.errors import DockerConnectionError, StreamError

if TYPE_CHECKING:
    from docker_engine._async_responses import AsyncExchange
    from docker_engine._async_transport import AsyncConnection

logger = logging.getLogger("docker_engine")

# How long close_write() waits over TLS for written data to leave the transport's buffers.
TLS_FLUSH_WAIT = 10.0


class AsyncHijackedStream(AsyncFrameStream):
    """The bidirectional stream of an attach or exec start.

    Iterating yields `(stream, data)` output pairs like AsyncFrameStream. `await
    write(data)` sends bytes to the process's stdin and `await close_write()` ends its
    stdin while output is still read. `communicate(input)` does all three. One task may
    write while another iterates. The daemon closes the connection when the output ends,
    so the connection is never reused.

    With a TTY (`multiplexed` is False), the daemon ends the output as soon as stdin
    ends, even though the process may still run. To end a TTY program's input, write the
    terminal's end-of-file character instead (docker_engine._hijack.TTY_EOF, after a
    newline) and read on.

    Over TLS, `close_write()` shuts down the TCP connection's writing side without a TLS
    close_notify alert, as the Docker CLI does. The daemon reads that as the end of stdin.
    """

    def __init__(self, exchange: AsyncExchange, *, multiplexed: bool) -> None:
        response = exchange.response
        # A 200 response with a length or a chunked body was not hijacked. Exec start
        # with Detach responds that way, with an empty body.
        self.hijacked = response.status == 101 or (
            response.getheader("Content-Length") is None and not response.chunked
        )
        super().__init__(exchange, multiplexed=multiplexed)

    # --- writing ---------------------------------------------------------------------

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send `data` to the process's stdin (the container must be attached with stdin)."""
        writer = self._writable().writer
        try:
            writer.write(data)
            async with asyncio.timeout(self._exchange.read_timeout):
                await writer.drain()
        except OSError as error:
            if isinstance(error, builtins.TimeoutError):
                raise self._exchange.timeout_error() from None
            raise self._exchange.pool.transport.connection_error(
                f"writing to the stdin of {describe_request(self._exchange)} failed "
                f"({type(error).__name__}: {error}); the process may have exited"
            ) from error

    async def close_write(self) -> None:
        """End the process's stdin; output can still be read until the daemon ends it."""
        connection = self._writable()
        writer = connection.writer
        try:
            await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
                return
            # TLS: asyncio cannot half-close a TLS transport, so the TCP connection under
            # it is shut down for writing once everything written has left both buffers.
            raw = connection.raw_transport
            assert isinstance(raw, asyncio.WriteTransport)
            async with asyncio.timeout(TLS_FLUSH_WAIT):
                delay = 0.001
                while (
                    writer.transport.get_write_buffer_size()
                    or raw.get_write_buffer_size()
                ):
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.05)
            sock = raw.get_extra_info("socket")
            sock.shutdown(socket.SHUT_WR)
        except OSError as error:
            logger.debug("closing the writing side of a hijacked connection: %s", error)

    def _writable(self) -> AsyncConnection:
        if not self.hijacked:
            raise StreamError(
                f"{describe_request(self._exchange)} was not upgraded to a bidirectional "
                f"connection (the daemon responded with {self._exchange.response.status} and a "
                "body), so there is no stdin to write to"
            )
        if self.closed:
            raise StreamError(
                f"the stream of {describe_request(self._exchange)} is closed"
            )
        return self._exchange.connection

    # --- reading ---------------------------------------------------------------------

    async def _read_chunk(self) -> bytes:
        if not self.hijacked:
            return await self._read_body()
        if self._ended:
            return b""
        exchange = self._exchange
        try:
            async with asyncio.timeout(exchange.read_timeout):
                return await exchange.connection.reader.read(CHUNK_SIZE)
        except (OSError, ProtocolError) as error:
            if self._closed_by_caller:
                return b""
            self._fail()
            raise self._read_error(error) from None
        except BaseException:
            self._fail()
            raise

    def _end_of_output(self) -> None:
        if self.hijacked:
            # The daemon ended the output by closing the connection.
            self._fail()
        else:
            self._release()

    # --- both at once ----------------------------------------------------------------

    async def communicate(
        self, input: bytes | None = None, timeout: float | None = None
    ) -> tuple[bytes, bytes]:
        """Send `input` to stdin, close stdin, read all output; return `(stdout, stderr)`.

        Writing runs in a task of its own while this one reads, so a process that writes
        a lot before reading all its input does not block the exchange. `timeout` limits
        the whole exchange in seconds and raises TimeoutError. Call it instead of
        iterating, not after.

        With a TTY, all output is stdout, and stdin stays open after `input` because
        closing it would end the output. `input` must then end the program's input
        itself, with TTY_EOF for a program that reads to the end.
        """
        if self._started:
            raise StreamError(
                "communicate() must be called before iterating over the stream"
            )
        if not self.hijacked:
            if input:
                self._writable()
            return await self.read_separated()

        # With a TTY, the daemon stops sending output once stdin ends.
        end_stdin = self.multiplexed
        writing = asyncio.create_task(self._feed_stdin(input or b"", end_stdin))
        try:
            async with asyncio.timeout(timeout):
                output = await self.read_separated()
                await writing
        except builtins.TimeoutError as error:
            if isinstance(error, DockerConnectionError):
                raise
            self._fail()
            raise self._exchange.pool.transport.timeout_error("read", timeout) from None
        finally:
            if not writing.done():
                writing.cancel()
                await asyncio.gather(writing, return_exceptions=True)
        return output

    async def _feed_stdin(self, data: bytes, end_stdin: bool) -> None:
        try:
            view = memoryview(data)
            for start in range(0, len(view), CHUNK_SIZE):
                await self.write(view[start : start + CHUNK_SIZE])
            if end_stdin:
                await self.close_write()
        except (DockerConnectionError, StreamError) as error:
            # The process stopped reading stdin (it exited, for one): keep reading its
            # output, as subprocess.communicate does.
            logger.debug(
                "stdin of %s closed early: %s", describe_request(self._exchange), error
            )
