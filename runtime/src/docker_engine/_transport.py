"""How bytes move between the client and the daemon: sockets, connections and their pool.

A transport opens a connected socket to one resolved host: a unix socket, a TCP socket
(with TLS when the host has TLS settings), or one end of a socket pair whose other end is
the standard input and output of `ssh HOST docker system dial-stdio`. The standard
library's `http.client` speaks HTTP/1.1 over that socket. What a request means (paths,
versions, encoding) is the client's business, not this module's.

This module imports `http.client`, so the client imports it on its first request only.
"""

from __future__ import annotations

__all__ = ["ConnectionPool", "Timeout", "as_timeout", "finish", "read_body", "send", "transport_for"]

import collections
import http.client
import logging
import socket
import threading
from typing import IO, TYPE_CHECKING, Any, NoReturn

from docker_engine._hosts import DockerHost
from docker_engine._timeout import Timeout, as_timeout
from docker_engine.errors import ConfigurationError, DockerConnectionError, TimeoutError

if TYPE_CHECKING:
    import subprocess

logger = logging.getLogger("docker_engine")

# Socket errors that mean a kept-alive connection was closed by the daemon while idle.
# A request that fails this way on a reused connection is sent again on a new one.
STALE_CONNECTION_ERRORS = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
)


class Connection(http.client.HTTPConnection):
    """An HTTP/1.1 connection over a socket opened by a transport."""

    def __init__(self, transport: Transport) -> None:
        # http.client wants a host name, but the transport decides where the socket goes
        # and the client sends its own Host header.
        super().__init__("localhost")
        self.transport = transport
        self.read_timeout: float | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.process_stderr: IO[bytes] | None = None

    def open(self, connect_timeout: float | None) -> None:
        """Open the socket, raising DockerConnectionError or TimeoutError on failure."""
        self.sock = self.transport.open_socket(self, connect_timeout)
        self.read_timeout = connect_timeout

    def connect(self) -> None:
        # Only reached if http.client reconnects by itself, which the pool never lets it do.
        self.open(self.timeout if isinstance(self.timeout, (int, float)) else None)

    def set_read_timeout(self, timeout: float | None) -> None:
        """Apply `timeout` to every later read on this connection's socket."""
        if self.sock is not None and timeout != self.read_timeout:
            self.sock.settimeout(timeout)
            self.read_timeout = timeout

    def set_body_timeout(self, response: http.client.HTTPResponse, timeout: float | None) -> None:
        """Apply `timeout` to the reads of `response`'s body from now on.

        A response that ends by closing the connection owns the socket: http.client has
        dropped `self.sock` by then, so the timeout goes on the response's socket.
        """
        sock = self.sock
        if sock is None:
            sock = getattr(getattr(response.fp, "raw", None), "_sock", None)
        if sock is not None:
            sock.settimeout(timeout)
        self.read_timeout = timeout

    def close(self) -> None:
        # http.client also calls this while a response that ends with the connection is
        # still being read from a duplicate of the socket, so an ssh process is left to
        # exit by itself: it does once every end of the socket is closed. Its exit status
        # and output stay here for failure_detail().
        super().close()
        if self.process is not None and self.process.poll() is None:
            _exiting.add(self.process)

    def shutdown(self, wait: float) -> None:
        """Close the connection and stop its ssh process, if any, within `wait` seconds."""
        self.close()
        if self.process is not None:
            _stop_process(self.process, wait)
            _exiting.discard(self.process)


# ssh processes of closed connections that had not exited yet; reaped by _reap_exited().
_exiting: set[subprocess.Popen[bytes]] = set()


def _reap_exited() -> None:
    for process in list(_exiting):
        if process.poll() is not None:
            _exiting.discard(process)


class Transport:
    """Opens sockets to one resolved host."""

    def __init__(self, host: DockerHost) -> None:
        self.host = host

    def open_socket(self, connection: Connection, connect_timeout: float | None) -> socket.socket:
        raise NotImplementedError

    def failure_detail(self, connection: Connection, error: BaseException) -> str:
        """Explain why an open connection broke, for an error message; empty if unknown."""
        return ""

    def connection_error(self, reason: str) -> DockerConnectionError:
        return DockerConnectionError(
            f"cannot connect to the Docker daemon at {self.host.describe()}: {reason}",
            host=self.host.url,
            source=self.host.source,
        )

    def timeout_error(self, phase: str, timeout: float | None) -> TimeoutError:
        action = "connecting to" if phase == "connect" else "waiting for a response from"
        return TimeoutError(
            f"timed out after {timeout} s {action} the Docker daemon at {self.host.describe()}"
            + (
                ": pass a larger timeout (timeout=Timeout(read=...)) for slow operations"
                if phase == "read"
                else ""
            ),
            phase=phase,
            timeout=timeout,
            host=self.host.url,
            source=self.host.source,
        )


class UnixTransport(Transport):
    def open_socket(self, connection: Connection, connect_timeout: float | None) -> socket.socket:
        path = self.host.socket_path
        assert path is not None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(connect_timeout)
            sock.connect(path)
        except OSError as error:
            sock.close()
            self.raise_connect_error(error, connect_timeout)
        return sock

    def raise_connect_error(self, error: OSError, connect_timeout: float | None) -> NoReturn:
        """Raise the error that explains a failed connect; called in its except block."""
        path = self.host.socket_path
        if isinstance(error, FileNotFoundError):
            raise self.connection_error(
                f"the socket {path} does not exist. Is the daemon running, and is this "
                "the right host? Set DOCKER_HOST or pass base_url to use another"
            ) from None
        if isinstance(error, PermissionError):
            raise self.connection_error(
                f"permission denied on {path}: run as root or as a member of the group "
                "that owns the socket (usually 'docker')"
            ) from None
        if isinstance(error, ConnectionRefusedError):
            raise self.connection_error(
                f"nothing is listening on {path}: the daemon is not running, or it left a "
                "stale socket behind"
            ) from None
        if isinstance(error, socket.timeout):
            raise self.timeout_error("connect", connect_timeout) from None
        raise self.connection_error(str(error)) from error


class TCPTransport(Transport):
    def open_socket(self, connection: Connection, connect_timeout: float | None) -> socket.socket:
        host = self.host
        assert host.hostname is not None and host.port is not None
        try:
            sock = socket.create_connection((host.hostname, host.port), timeout=connect_timeout)
        except OSError as error:
            self.raise_connect_error(error, connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        if host.tls is None:
            return sock
        return self._wrap_tls(sock, connect_timeout)

    def raise_connect_error(self, error: OSError, connect_timeout: float | None) -> NoReturn:
        """Raise the error that explains a failed TCP connect; called in its except block."""
        host = self.host
        if isinstance(error, socket.timeout):
            raise self.timeout_error("connect", connect_timeout) from None
        if isinstance(error, ConnectionRefusedError):
            raise self.connection_error(
                f"connection refused on port {host.port}: the daemon is not listening there"
            ) from None
        if isinstance(error, socket.gaierror):
            raise self.connection_error(
                f"cannot resolve the host name {host.hostname!r}: {error.strerror}"
            ) from None
        raise self.connection_error(str(error)) from error

    def _wrap_tls(self, sock: socket.socket, connect_timeout: float | None) -> socket.socket:
        tls = self.host.tls
        assert tls is not None
        try:
            return tls.ssl_context().wrap_socket(sock, server_hostname=self.host.hostname)
        except ConfigurationError:
            sock.close()
            raise
        except OSError as error:
            sock.close()
            self.raise_tls_error(error, connect_timeout)

    def raise_tls_error(self, error: OSError, connect_timeout: float | None) -> NoReturn:
        """Raise the error that explains a failed TLS handshake; called in its except block."""
        import ssl

        tls = self.host.tls
        assert tls is not None
        if isinstance(error, ssl.SSLCertVerificationError):
            raise self.connection_error(
                f"the daemon's TLS certificate failed verification ({error.verify_message}): "
                f"check the CA certificate from {tls.source}, and that the certificate names "
                f"{self.host.hostname!r}"
            ) from None
        if isinstance(error, ssl.SSLError):
            raise self.connection_error(
                f"the TLS handshake failed ({error.reason or error}): check that the daemon "
                f"speaks TLS on this port and accepts the client certificate from {tls.source}"
            ) from None
        if isinstance(error, socket.timeout):
            raise self.timeout_error("connect", connect_timeout) from None
        raise self.connection_error(
            f"the connection closed during the TLS handshake ({error}): the daemon may "
            "require a client certificate, or not speak TLS on this port"
        ) from None

    def failure_detail(self, connection: Connection, error: BaseException) -> str:
        # With TLS 1.3 the daemon checks the client certificate after the handshake, so
        # its rejection arrives as an alert on the first read.
        tls = self.host.tls
        if tls is not None and "CERTIFICATE" in str(error).upper():
            return (
                "the daemon rejected the client certificate, or needs one and got none: "
                f"check cert.pem and key.pem from {tls.source}"
            )
        return ""


class SSHTransport(Transport):
    """Runs `ssh [-l USER] [-p PORT] HOST docker system dial-stdio` per connection.

    The remote `docker` CLI connects its standard input and output to the remote daemon.
    `ssh` runs with BatchMode=yes, so it never waits for a password or a host-key
    question: keys come from the agent or ~/.ssh, and host keys from known_hosts.
    """

    def open_socket(self, connection: Connection, connect_timeout: float | None) -> socket.socket:
        import subprocess
        import tempfile

        host = self.host
        executable = self.find_ssh()
        command = self.command(executable, connect_timeout)

        _reap_exited()
        ours, theirs = socket.socketpair()
        stderr = tempfile.TemporaryFile()
        try:
            process = subprocess.Popen(
                command,
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as error:
            ours.close()
            stderr.close()
            raise self.connection_error(f"cannot run {executable}: {error}") from error
        finally:
            theirs.close()

        logger.debug("started ssh (pid %d) for %s", process.pid, host.url)
        connection.process = process
        connection.process_stderr = stderr
        ours.settimeout(connect_timeout)
        return ours

    def find_ssh(self) -> str:
        """Return the path of the `ssh` command, raising DockerConnectionError if it is missing."""
        import shutil

        executable = shutil.which("ssh")
        if executable is None:
            raise self.connection_error(
                "the `ssh` command is not on PATH: install an OpenSSH client"
            )
        return executable

    def command(self, executable: str, connect_timeout: float | None) -> list[str]:
        """Return the ssh command line that connects to the remote daemon."""
        host = self.host
        assert host.hostname is not None
        command = [executable, "-T", "-o", "BatchMode=yes"]
        if connect_timeout is not None:
            command += ["-o", f"ConnectTimeout={max(1, round(connect_timeout))}"]
        if host.user is not None:
            command += ["-l", host.user]
        if host.port is not None:
            command += ["-p", str(host.port)]
        command += ["--", host.hostname, "docker", "system", "dial-stdio"]
        return command

    def failure_detail(self, connection: Connection, error: BaseException) -> str:
        process, stderr = connection.process, connection.process_stderr
        if process is None or stderr is None:
            return ""
        import subprocess

        try:
            status = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return STILL_RUNNING_DETAIL
        stderr.seek(0)
        return describe_ssh_exit(status, stderr.read())


# Why a connection through ssh broke when ssh itself has not exited.
STILL_RUNNING_DETAIL = "ssh is still running but the remote `docker system dial-stdio` closed"


def describe_ssh_exit(status: int, stderr: bytes) -> str:
    """Explain an exited ssh process by its status and the end of its standard error."""
    output = stderr.decode("utf-8", errors="replace").strip()
    text = f"ssh exited with status {status}"
    if output:
        text += f": {output[-500:]}"
    if status == 127 or "not found" in output:
        text += " (the remote host needs the docker CLI on PATH)"
    return text


def transport_for(host: DockerHost) -> Transport:
    """Return the transport for a resolved host."""
    if host.scheme == "unix":
        return UnixTransport(host)
    if host.scheme == "tcp":
        return TCPTransport(host)
    if host.scheme == "ssh":
        return SSHTransport(host)
    raise ConfigurationError(f"no transport for {host.describe()}", source=host.source)


class _Slots:
    """A count of free connection slots, handed out in the order they were requested.

    With threading.Semaphore, a thread that gives a slot back can take it again at once,
    ahead of the threads already waiting, so under contention one waiter can starve: 32
    threads sharing 10 connections of Engine 20.10 on a busy 2-core machine saw a median
    wait under 1 ms but single waits of 6 to 10 s, and some timed out. Here a freed slot
    goes to the oldest waiter.
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: collections.deque[threading.Lock] = collections.deque()
        self._lock = threading.Lock()

    def acquire(self, timeout: float | None) -> bool:
        """Take a slot, waiting up to `timeout` seconds (None: no limit); False on timeout."""
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=-1 if timeout is None else timeout):
            return True
        with self._lock:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                # release() handed this waiter a slot after its wait ended.
                return True
        return False

    def release(self) -> None:
        """Give a slot back: to the oldest waiter if any, else to the free count."""
        with self._lock:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._free += 1


class ConnectionPool:
    """Keeps idle connections for reuse and limits how many are open at once.

    Thread-safe: each checked-out connection belongs to one caller until it is given
    back with `release` (response fully read, connection reusable) or `discard`.
    """

    def __init__(self, transport: Transport, max_connections: int) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, not {max_connections}")
        self.transport = transport
        self.max_connections = max_connections
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._slots = _Slots(max_connections)
        self._closed = False

    def acquire(self, connect_timeout: float | None) -> tuple[Connection, bool]:
        """Check out a connection, open or reused; return it and whether it was reused.

        Waits up to `connect_timeout` for a free slot when all connections are busy.
        """
        if not self._slots.acquire(connect_timeout):
            raise TimeoutError(
                f"timed out after {connect_timeout} s waiting for one of the "
                f"{self.max_connections} connections to {self.transport.host.describe()}: "
                "all are busy (streams left open hold theirs until closed)",
                phase="connect",
                timeout=connect_timeout,
                host=self.transport.host.url,
                source=self.transport.host.source,
            )
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        connection = Connection(self.transport)
        try:
            connection.open(connect_timeout)
        except BaseException:
            connection.close()
            self._slots.release()
            raise
        return connection, False

    def release(self, connection: Connection) -> None:
        """Give back a connection whose response has been read to the end."""
        with self._lock:
            if not self._closed and len(self._idle) < self.max_connections:
                self._idle.append(connection)
                connection = None  # type: ignore[assignment]
        if connection is not None:
            connection.close()
        self._slots.release()

    def discard(self, connection: Connection) -> None:
        """Close a connection that cannot be reused and free its slot."""
        connection.close()
        self._slots.release()

    def close(self) -> None:
        """Close the idle connections; connections still checked out close when given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.shutdown(wait=2.0)
        _reap_exited()


def _stop_process(process: subprocess.Popen[Any], wait: float) -> None:
    """Wait up to `wait` seconds for an ssh process to exit, then stop it, and reap it."""
    import subprocess

    try:
        process.wait(timeout=wait)
        return
    except subprocess.TimeoutExpired:
        pass
    process.terminate()
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def send(
    pool: ConnectionPool,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: Any,
    chunked: bool,
    replayable: bool,
    timeout: Timeout,
) -> tuple[Connection, http.client.HTTPResponse]:
    """Send one request and read the status line and headers of its response.

    The caller owns the returned connection until it gives it back to the pool. A request
    that fails on a reused connection the daemon has since closed is sent once more on a
    new connection, when its body can be sent again.
    """
    transport = pool.transport
    for attempt in (1, 2):
        connection, reused = pool.acquire(timeout.connect)
        try:
            connection.set_read_timeout(timeout.read)
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body, encode_chunked=chunked)
            return connection, connection.getresponse()
        except STALE_CONNECTION_ERRORS as error:
            if reused and replayable and attempt == 1:
                pool.discard(connection)
                logger.debug("connection to %s was closed while idle; retrying", transport.host.url)
                continue
            raise _broken(pool, connection, error) from error
        except socket.timeout:
            pool.discard(connection)
            raise transport.timeout_error("read", timeout.read) from None
        except (OSError, http.client.HTTPException) as error:
            raise _broken(pool, connection, error) from error
        except BaseException:
            pool.discard(connection)
            raise
    raise AssertionError("unreachable")


def read_body(
    pool: ConnectionPool, connection: Connection, response: http.client.HTTPResponse
) -> bytes:
    """Read a whole response body and give the connection back (or close it)."""
    try:
        data = response.read()
    except socket.timeout:
        pool.discard(connection)
        raise pool.transport.timeout_error("read", connection.read_timeout) from None
    except (OSError, http.client.HTTPException) as error:
        raise _broken(pool, connection, error) from error
    finish(pool, connection, response)
    return data


def finish(pool: ConnectionPool, connection: Connection, response: http.client.HTTPResponse) -> None:
    """Give back a connection whose response was read to the end, or close it if it must."""
    if response.will_close:
        pool.discard(connection)
    else:
        pool.release(connection)


def _broken(pool: ConnectionPool, connection: Connection, error: BaseException) -> DockerConnectionError:
    """Close a connection that failed mid-request and return the error that explains it."""
    transport = pool.transport
    detail = transport.failure_detail(connection, error)
    pool.discard(connection)
    reason = f"the connection failed ({type(error).__name__}: {error})"
    if detail:
        reason += f"; {detail}"
    return transport.connection_error(reason)
