"""The asyncio client's byte transport: connections, their pool, and sending a request.

An `AsyncTransport` opens asyncio streams to one resolved host: a unix socket, or a TCP
connection, upgraded to TLS when the host has TLS settings. For ssh:// it connects to
one end of a socket pair whose other end is the standard input and output of `ssh HOST
docker system dial-stdio`, started as an asyncio subprocess. It keeps the sync transport of the same host
(docker_engine._transport) for everything that is not I/O: the ssh command line, and
the errors that explain a failed connect, TLS handshake or broken connection. So both
clients raise the same errors with the same messages.

A client belongs to one event loop at a time: its connections are bound to the loop
they were opened on. When the client is first used on another loop (a second
`asyncio.run`), the pool drops the connections of the previous loop and starts anew.
Connections still idle when their loop closed cannot be closed cleanly any more: their
sockets are shut down and closed by the garbage collector, with a ResourceWarning. So
`aclose()` the client before its loop ends.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures.thread  # noqa: F401 - asyncio.to_thread imports it on first use
import logging
import socket
import tempfile
from typing import IO, TYPE_CHECKING, Any

from docker_engine._async_http import (
    MAX_HEAD_SIZE,
    AsyncResponse,
    ProtocolError,
    RemoteDisconnected,
    encode_head,
    read_response,
    write_body,
)
from docker_engine._hosts import DockerHost
from docker_engine._timeout import Timeout
from docker_engine._transport import (
    STILL_RUNNING_DETAIL,
    SSHTransport,
    TCPTransport,
    Transport,
    UnixTransport,
    describe_ssh_exit,
    transport_for,
)
from docker_engine.errors import DockerConnectionError
from docker_engine.errors import TimeoutError as DockerTimeoutError

if TYPE_CHECKING:
    import ssl

    from docker_engine._tls import TLSConfig

logger = logging.getLogger("docker_engine")

# Errors that mean a kept-alive connection was closed by the daemon while idle. A
# request that fails this way on a reused connection is sent again on a new one.
STALE_CONNECTION_ERRORS = (
    RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
)

# How long closing the client waits for an ssh process to exit once its connection is closed.
SSH_EXIT_WAIT = 2.0


class AsyncConnection:
    """One connection: the asyncio streams, and the ssh process behind them, if any."""

    __slots__ = (
        "reader",
        "writer",
        "raw_transport",
        "process",
        "stderr",
        "generation",
        "epoch",
    )

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        process: asyncio.subprocess.Process | None = None,
        stderr: IO[bytes] | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        # The TCP or unix transport under TLS, kept because only it can half-close the
        # connection (see AsyncHijackedStream.close_write).
        self.raw_transport: asyncio.BaseTransport = writer.transport
        self.process = process
        self.stderr = stderr
        # Which binding of the pool to an event loop the connection belongs to, and how
        # many times the pool had been closed when the connection was opened.
        self.generation = 0
        self.epoch = 0

    def is_usable(self) -> bool:
        """Tell whether an idle connection can carry another request."""
        return not self.writer.transport.is_closing() and not self.reader.at_eof()

    def abort(self) -> None:
        """Close at once, dropping unsent data; the socket closes on the loop's next step."""
        try:
            self.writer.transport.abort()
        except RuntimeError:
            # The connection's event loop is closed. Shutting the socket down ends the
            # connection for the daemon, and the garbage collector closes the descriptor.
            _shutdown(self.raw_transport)
        if self.stderr is not None:
            self.stderr.close()

    async def aclose(self, wait: float) -> None:
        """Close after sending what is buffered, and wait up to `wait` s for an ssh process."""
        self.writer.close()
        try:
            async with asyncio.timeout(wait):
                await self.writer.wait_closed()
        except OSError:
            self.abort()
        if self.process is not None:
            await _stop_process(self.process, wait)
        if self.stderr is not None:
            self.stderr.close()


def _shutdown(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


async def _stop_process(process: asyncio.subprocess.Process, wait: float) -> None:
    """Wait up to `wait` seconds for an ssh process to exit, then stop it."""
    try:
        async with asyncio.timeout(wait):
            await process.wait()
        return
    except builtins.TimeoutError:
        pass
    try:
        process.terminate()
        async with asyncio.timeout(2):
            await process.wait()
    except (ProcessLookupError, builtins.TimeoutError):
        try:
            process.kill()
        except ProcessLookupError:
            pass
        await process.wait()


class AsyncTransport:
    """Opens asyncio connections to one resolved host."""

    def __init__(self, host: DockerHost) -> None:
        self.host = host
        # The sync transport of the same host: errors, messages and the ssh command.
        self.sync: Transport = transport_for(host)
        self._ssl_context: Any = None

    def connection_error(self, reason: str) -> DockerConnectionError:
        return self.sync.connection_error(reason)

    def timeout_error(self, phase: str, timeout: float | None) -> DockerTimeoutError:
        return self.sync.timeout_error(phase, timeout)

    async def open(self, connect_timeout: float | None) -> AsyncConnection:
        """Open a connection, raising DockerConnectionError or TimeoutError on failure."""
        try:
            async with asyncio.timeout(connect_timeout):
                if isinstance(self.sync, UnixTransport):
                    return await self._open_unix(self.sync, connect_timeout)
                if isinstance(self.sync, TCPTransport):
                    return await self._open_tcp(self.sync, connect_timeout)
                assert isinstance(self.sync, SSHTransport)
                return await self._open_ssh(self.sync, connect_timeout)
        except builtins.TimeoutError as error:
            if isinstance(error, DockerConnectionError):
                raise
            raise self.timeout_error("connect", connect_timeout) from None

    async def _open_unix(
        self, sync: UnixTransport, connect_timeout: float | None
    ) -> AsyncConnection:
        path = self.host.socket_path
        assert path is not None
        try:
            reader, writer = await asyncio.open_unix_connection(
                path, limit=MAX_HEAD_SIZE
            )
        except OSError as error:
            if isinstance(error, builtins.TimeoutError):
                raise
            sync.raise_connect_error(error, connect_timeout)
        return AsyncConnection(reader, writer)

    async def _open_tcp(
        self, sync: TCPTransport, connect_timeout: float | None
    ) -> AsyncConnection:
        host = self.host
        assert host.hostname is not None and host.port is not None
        context = None
        if host.tls is not None:
            # Building the context reads the certificate files: once, in a worker thread.
            context = self._ssl_context or await asyncio.to_thread(
                _tls_context, host.tls
            )
            self._ssl_context = context

        # asyncio resolves the name in a worker thread and sets TCP_NODELAY.
        try:
            reader, writer = await asyncio.open_connection(
                host.hostname, host.port, limit=MAX_HEAD_SIZE
            )
        except OSError as error:
            if isinstance(error, builtins.TimeoutError):
                raise
            sync.raise_connect_error(error, connect_timeout)
        connection = AsyncConnection(reader, writer)
        if context is None:
            return connection

        try:
            await writer.start_tls(context, server_hostname=host.hostname)
        except OSError as error:
            connection.abort()
            if isinstance(error, builtins.TimeoutError):
                raise
            sync.raise_tls_error(error, connect_timeout)
        except BaseException:
            connection.abort()
            raise
        return connection

    async def _open_ssh(
        self, sync: SSHTransport, connect_timeout: float | None
    ) -> AsyncConnection:
        executable = await asyncio.to_thread(sync.find_ssh)
        command = sync.command(executable, connect_timeout)
        stderr = await asyncio.to_thread(tempfile.TemporaryFile)
        ours, theirs = socket.socketpair()
        # From here on, everything opened is closed again if opening fails or the
        # calling task is cancelled.
        try:
            try:
                process = await asyncio.create_subprocess_exec(
                    *command,
                    stdin=theirs.fileno(),
                    stdout=theirs.fileno(),
                    stderr=stderr,
                    start_new_session=True,
                )
            except OSError as error:
                raise self.connection_error(
                    f"cannot run {executable}: {error}"
                ) from error
            finally:
                theirs.close()
        except BaseException:
            ours.close()
            stderr.close()
            raise
        logger.debug("started ssh (pid %d) for %s", process.pid, self.host.url)

        try:
            reader, writer = await asyncio.open_connection(
                sock=ours, limit=MAX_HEAD_SIZE
            )
        except BaseException:
            ours.close()
            stderr.close()
            await _stop_process(process, 0)
            raise
        return AsyncConnection(reader, writer, process=process, stderr=stderr)

    async def failure_detail(
        self, connection: AsyncConnection, error: BaseException
    ) -> str:
        """Explain why an open connection broke, for an error message; empty if unknown."""
        if isinstance(self.sync, TCPTransport):
            # TCPTransport reads only the error: a rejected client certificate arrives as
            # a TLS alert on the first read.
            return self.sync.failure_detail(None, error)  # type: ignore[arg-type]
        process, stderr = connection.process, connection.stderr
        if process is None or stderr is None:
            return ""
        try:
            async with asyncio.timeout(2):
                status = await process.wait()
        except builtins.TimeoutError:
            return STILL_RUNNING_DETAIL
        output = await asyncio.to_thread(_read_from_start, stderr)
        return describe_ssh_exit(status, output)


def _tls_context(tls: TLSConfig) -> ssl.SSLContext:
    """Build the SSL context, and import what the handshake would import on the loop."""
    import encodings.idna  # noqa: F401 - the ssl module encodes the server name with it

    return tls.ssl_context()


def _read_from_start(file: IO[bytes]) -> bytes:
    file.seek(0)
    return file.read()


class _LoopBinding:
    """The pool's state on one event loop: the free slots and the idle connections."""

    __slots__ = ("loop", "slots", "idle", "generation")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, max_connections: int, generation: int
    ):
        self.loop = loop
        self.slots = asyncio.Semaphore(max_connections)
        self.idle: list[AsyncConnection] = []
        self.generation = generation


class AsyncConnectionPool:
    """Keeps idle connections for reuse and limits how many are open at once.

    Each checked-out connection belongs to one task until it is given back with
    `release` (response fully read, connection reusable) or `discard`.
    """

    def __init__(self, transport: AsyncTransport, max_connections: int) -> None:
        if max_connections < 1:
            raise ValueError(
                f"max_connections must be at least 1, not {max_connections}"
            )
        self.transport = transport
        self.max_connections = max_connections
        self._binding: _LoopBinding | None = None
        self._generations = 0
        # Incremented by aclose(): connections opened before are closed when given back.
        self._epoch = 0
        # The ssh processes of closed connections, which aclose() waits for.
        self._exiting: list[asyncio.subprocess.Process] = []

    def _bind(self) -> _LoopBinding:
        loop = asyncio.get_running_loop()
        binding = self._binding
        if binding is not None and binding.loop is loop:
            return binding
        if binding is not None:
            # The connections of another loop cannot be used on this one.
            logger.debug(
                "the client is now used on another event loop; dropping %d idle connections "
                "to %s",
                len(binding.idle),
                self.transport.host.url,
            )
            for connection in binding.idle:
                connection.abort()
            self._exiting = []
        self._generations += 1
        self._binding = _LoopBinding(loop, self.max_connections, self._generations)
        return self._binding

    async def acquire(
        self, connect_timeout: float | None
    ) -> tuple[AsyncConnection, bool]:
        """Check out a connection, open or reused; return it and whether it was reused.

        Waits up to `connect_timeout` for a free slot when all connections are busy.
        """
        binding = self._bind()
        slots = binding.slots
        if slots.locked():
            try:
                async with asyncio.timeout(connect_timeout):
                    await slots.acquire()
            except builtins.TimeoutError:
                host = self.transport.host
                raise DockerTimeoutError(
                    f"timed out after {connect_timeout} s waiting for one of the "
                    f"{self.max_connections} connections to {host.describe()}: all are busy "
                    "(streams left open hold theirs until closed)",
                    phase="connect",
                    timeout=connect_timeout,
                    host=host.url,
                    source=host.source,
                ) from None
        else:
            await slots.acquire()

        idle = binding.idle
        while idle:
            connection = idle.pop()
            if connection.is_usable():
                return connection, True
            connection.abort()
        try:
            connection = await self.transport.open(connect_timeout)
        except BaseException:
            slots.release()
            raise
        connection.generation = binding.generation
        connection.epoch = self._epoch
        return connection, False

    def release(self, connection: AsyncConnection) -> None:
        """Give back a connection whose response has been read to the end."""
        binding = self._binding
        if binding is None or connection.generation != binding.generation:
            connection.abort()
            return
        if connection.epoch == self._epoch and connection.is_usable():
            binding.idle.append(connection)
        else:
            self._abort(connection)
        binding.slots.release()

    def discard(self, connection: AsyncConnection) -> None:
        """Close a connection that cannot be reused and free its slot."""
        self._abort(connection)
        binding = self._binding
        if binding is not None and connection.generation == binding.generation:
            binding.slots.release()

    def _abort(self, connection: AsyncConnection) -> None:
        connection.abort()
        if connection.process is not None:
            self._exiting.append(connection.process)

    async def aclose(self) -> None:
        """Close the idle connections and wait for the ssh processes of closed ones.

        Connections still checked out close when given back. The pool stays usable: a
        later call opens a new connection.
        """
        self._epoch += 1
        binding = self._binding
        if binding is None:
            return
        idle, binding.idle = binding.idle, []
        exiting, self._exiting = self._exiting, []
        await asyncio.gather(
            *(connection.aclose(SSH_EXIT_WAIT) for connection in idle),
            *(_stop_process(process, SSH_EXIT_WAIT) for process in exiting),
        )


async def send(
    pool: AsyncConnectionPool,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: Any,
    chunked: bool,
    replayable: bool,
    timeout: Timeout,
) -> tuple[AsyncConnection, AsyncResponse]:
    """Send one request and read the status line and headers of its response.

    The caller owns the returned connection until it gives it back to the pool. A request
    that fails on a reused connection the daemon has since closed is sent once more on a
    new connection, when its body can be sent again. Cancelling the call closes the
    connection it was using.
    """
    connection, response, _ = await _exchange(
        pool, method, target, headers, body, chunked, replayable, timeout, False
    )
    return connection, response


async def fetch(
    pool: AsyncConnectionPool,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: Any,
    chunked: bool,
    replayable: bool,
    timeout: Timeout,
) -> tuple[AsyncResponse, bytes]:
    """Send one request, read its whole response and give the connection back.

    As `send`, with the body read under the same read timeout as the headers: one timer
    per request instead of two, which matters at thousands of requests a second.
    """
    _, response, data = await _exchange(
        pool, method, target, headers, body, chunked, replayable, timeout, True
    )
    return response, data


async def _exchange(
    pool: AsyncConnectionPool,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: Any,
    chunked: bool,
    replayable: bool,
    timeout: Timeout,
    whole: bool,
) -> tuple[AsyncConnection, AsyncResponse, bytes]:
    transport = pool.transport
    head = encode_head(method, target, headers)
    in_memory = body is None or isinstance(body, bytes)
    if in_memory and body:
        head += body

    for attempt in (1, 2):
        connection, reused = await pool.acquire(timeout.connect)
        writer = connection.writer
        try:
            writer.write(head)
            if not in_memory:
                await write_body(writer, body, chunked, timeout.read)
            # Limitation: the read timeout bounds the headers and a whole non-stream body
            # together, where the sync client bounds each socket read. A JSON body that
            # trickles in for longer than the timeout fails here but not there.
            async with asyncio.timeout(timeout.read):
                await writer.drain()
                response = await read_response(connection.reader, method)
                data = await response.read() if whole else b""
        except STALE_CONNECTION_ERRORS as error:
            if reused and replayable and attempt == 1:
                pool.discard(connection)
                logger.debug(
                    "connection to %s was closed while idle; retrying",
                    transport.host.url,
                )
                continue
            raise await _broken(pool, connection, error) from error
        except builtins.TimeoutError as error:
            pool.discard(connection)
            if isinstance(error, DockerConnectionError):
                raise
            raise transport.timeout_error("read", timeout.read) from None
        except (OSError, ProtocolError) as error:
            raise await _broken(pool, connection, error) from error
        except BaseException:
            pool.discard(connection)
            raise
        if whole:
            finish(pool, connection, response)
        return connection, response, data
    raise AssertionError("unreachable")


async def read_body(
    pool: AsyncConnectionPool,
    connection: AsyncConnection,
    response: AsyncResponse,
    read_timeout: float | None,
) -> bytes:
    """Read a whole response body and give the connection back (or close it)."""
    try:
        async with asyncio.timeout(read_timeout):
            data = await response.read()
    except builtins.TimeoutError:
        pool.discard(connection)
        raise pool.transport.timeout_error("read", read_timeout) from None
    except (OSError, ProtocolError) as error:
        raise await _broken(pool, connection, error) from error
    except BaseException:
        pool.discard(connection)
        raise
    finish(pool, connection, response)
    return data


def finish(
    pool: AsyncConnectionPool, connection: AsyncConnection, response: AsyncResponse
) -> None:
    """Give back a connection whose response was read to the end, or close it if it must."""
    if response.will_close:
        pool.discard(connection)
    else:
        pool.release(connection)


async def _broken(
    pool: AsyncConnectionPool, connection: AsyncConnection, error: BaseException
) -> DockerConnectionError:
    """Close a connection that failed mid-request and return the error that explains it."""
    transport = pool.transport
    try:
        detail = await transport.failure_detail(connection, error)
    finally:
        pool.discard(connection)
    reason = f"the connection failed ({type(error).__name__}: {error})"
    if detail:
        reason += f"; {detail}"
    return transport.connection_error(reason)
