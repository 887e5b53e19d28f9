"""The client every version package's `AsyncClient` extends, and the asyncio request path.

`AsyncBaseClient` extends ClientCore, the part of BaseClient that does no I/O. So both
clients check arguments against the API version, build requests, map error statuses and
decode responses with the same code, and only sending and receiving differ. Creating a
client resolves the host but opens no connection; the first call opens one and, unless
the version is pinned, negotiates the API version.

Generated packages import this module when their `AsyncClient` is first used, and it
imports the whole asyncio request machinery at once, so that no first call has to read
modules from disk while the event loop runs.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import AsyncIterable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeAlias

# _async_hijack is imported with the client, so that the first attach or exec start reads
# no module from disk while the event loop runs.
from docker_engine import _async_hijack  # noqa: F401
from docker_engine import _request
from docker_engine._async_responses import AsyncByteStream, AsyncExchange
from docker_engine._async_streams import open_stream
from docker_engine._async_transport import (
    AsyncConnectionPool,
    AsyncTransport,
    fetch,
    read_body,
    send,
)
from docker_engine._client import USER_AGENT, BinaryBody, ClientCore
from docker_engine._negotiation import read_ping, read_version
from docker_engine._operation import BodyKind, Operation, ResponseKind
from docker_engine._timeout import Timeout, as_timeout

if TYPE_CHECKING:
    from docker_engine._hosts import DockerHost
    from docker_engine._negotiation import DaemonVersion
    from docker_engine._request import EncodedBody, OperationPlan

# The maximum number of connections one client keeps open, busy and idle each, when
# max_connections is not given. It is more than BaseClient's 10 because tasks are cheap
# and each open stream (a log follow, an attach) holds a connection, so twenty follows
# on one client are ordinary. aiohttp and httpx default to 100 as well.
DEFAULT_MAX_CONNECTIONS = 100

# A JSON response body larger than this is decoded in a worker thread, so that decoding
# it does not hold up the event loop's other tasks.
DECODE_IN_THREAD_SIZE = 1024 * 1024

_STREAM_KINDS = (
    ResponseKind.FRAMES,
    ResponseKind.JSON_STREAM,
    ResponseKind.PROGRESS,
    ResponseKind.HIJACK,
)


class AsyncGroup:
    """A group of operations on one asyncio client, such as `client.containers`."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncBaseClient) -> None:
        self._client = client


# The body type of an async BINARY operation: anything the sync client takes, or an async iterable.
AsyncBinaryBody: TypeAlias = BinaryBody | AsyncIterable[bytes]


class AsyncBaseClient(ClientCore):
    """An asyncio client for one Docker daemon, speaking one API version.

    It takes the arguments of BaseClient, with the same meaning: `base_url`, `version`,
    `tls`, `timeout`, `strict`, `max_connections` and `allow_insecure_credentials`.
    `timeout` is a Timeout or seconds, by default 10 s to connect and 60 s per read,
    with no limit on stream bodies. `max_connections` defaults to 100 here, and calls
    beyond it wait for a free connection. Its methods are
    coroutines and its streams async iterators. Use it with `async with`, or await
    `aclose()` when done.

    One client may serve any number of concurrent tasks on one event loop. Its
    connections belong to that loop; used on another loop later, it drops them and
    opens new ones. Creating a client without `base_url` reads DOCKER_HOST and, without
    it, the Docker CLI's config.json and context files, which is file I/O: create it
    before the loop runs or in a worker thread when that matters.
    """

    def _setup(self, host: DockerHost, **settings: Any) -> None:
        super()._setup(host, **settings)
        if not settings.get("max_connections"):
            self._max_connections = DEFAULT_MAX_CONNECTIONS
        self._async_pool: AsyncConnectionPool | None = None
        self._streaming_timeout = Timeout(self._timeout.connect, None)
        # The lock that makes concurrent first calls negotiate once, with its loop.
        self._negotiation: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def negotiate(self) -> str:
        """Return the API version in use, probing the daemon now if it is not known yet."""
        return self._api_version or await self._negotiate_once()

    async def aclose(self) -> None:
        """Close the idle connections. Open streams keep theirs until they are closed."""
        if self._async_pool is not None:
            await self._async_pool.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- the request path --------------------------------------------------------------

    async def call(
        self,
        operation: Operation,
        arguments: Mapping[str, Any],
        *,
        body: Any = None,
        timeout: float | Timeout | None = None,
    ) -> Any:
        """Send `operation` with `arguments` (keyed by Python name, None omitted) and
        return the decoded response; streams are returned open.

        Raises what BaseClient.call raises, in the same cases. Cancelling the call closes
        the connection it was using.
        """
        plan = self._plans.get(id(operation))
        if plan is None or plan.operation is not operation:
            plan = self._plan(operation)
        api_version = self._api_version or await self._negotiate_once()

        encoded = _encode_body(plan, body)
        if plan.newest_key > self._api_key:
            _request.check_versions(
                plan,
                arguments,
                encoded.document,
                api_version,
                self._api_key,
                self._daemon_note,
            )
        target, headers = _request.build_target(plan, arguments, api_version)
        kind = operation.response
        item_decoder = None
        if kind in _STREAM_KINDS:
            item_decoder = await self._load_item_decoder(plan)

        if self._guard_credentials:
            self._check_credentials(plan, headers, encoded.document)
        headers.append(("Host", self._host.host_header))
        headers.append(("User-Agent", USER_AGENT))
        headers.extend(encoded.headers)
        if kind is ResponseKind.HIJACK:
            headers.append(("Connection", "Upgrade"))
            headers.append(("Upgrade", "tcp"))

        pool = self._async_pool or self._open_pool()
        # A stream's body may stay silent for as long as the daemon has nothing to send,
        # but its headers come at once, so the wait for them is bounded as for any call.
        if timeout is not None:
            timeouts = body_timeouts = as_timeout(timeout, self._timeout)
        elif plan.long_poll:
            timeouts = body_timeouts = self._streaming_timeout
        elif plan.streaming:
            timeouts, body_timeouts = self._timeout, self._streaming_timeout
        else:
            timeouts = body_timeouts = self._timeout

        if kind not in _STREAM_KINDS and kind is not ResponseKind.BYTES:
            response, data = await fetch(
                pool,
                plan.method,
                target,
                headers,
                encoded.data,
                encoded.chunked,
                encoded.replayable,
                timeouts,
            )
            status = response.status
            if status >= 300 and status != 304:
                raise self._status_error(plan, target, status, data, response.getheader)
            if kind is ResponseKind.JSON:
                if not data:
                    return None
                if plan.result_decoder is None:
                    await self._load_result_decoder(plan)
                if len(data) > DECODE_IN_THREAD_SIZE:
                    return await asyncio.to_thread(
                        self._decode_result,
                        plan,
                        target,
                        status,
                        data,
                        response.getheader,
                    )
                return self._decode_result(
                    plan, target, status, data, response.getheader
                )
            if kind is ResponseKind.TEXT:
                return data.decode("utf-8", errors="replace")
            if kind is ResponseKind.HEADERS:
                return dict(response.getheaders())
            return None

        connection, response = await send(
            pool,
            plan.method,
            target,
            headers,
            encoded.data,
            encoded.chunked,
            encoded.replayable,
            timeouts,
        )
        status = response.status
        if (
            status >= 300
            and status != 304
            and not (status == 101 and kind is ResponseKind.HIJACK)
        ):
            error_body = await read_body(pool, connection, response, timeouts.read)
            raise self._status_error(
                plan, target, status, error_body, response.getheader
            )

        exchange = AsyncExchange(
            pool=pool,
            connection=connection,
            response=response,
            operation=operation,
            arguments=arguments,
            api_version=api_version,
            item_decoder=item_decoder or _identity,
            read_timeout=body_timeouts.read,
            request_document=encoded.document,
        )
        if kind is ResponseKind.BYTES:
            return AsyncByteStream(exchange)
        try:
            return await open_stream(exchange)
        except BaseException:
            exchange.close()
            raise

    # --- decoding ----------------------------------------------------------------------

    async def _load_result_decoder(self, plan: OperationPlan) -> Callable[[Any], Any]:
        await self._import_models()
        return self._result_decoder(plan)

    async def _load_item_decoder(self, plan: OperationPlan) -> Callable[[Any], Any]:
        await self._import_models()
        return self._item_decoder(plan)

    async def _import_models(self) -> None:
        """Import the models module in a worker thread, the first time a call needs it."""
        name = self.MODELS_MODULE
        if name is not None and name not in sys.modules:
            await asyncio.to_thread(importlib.import_module, name)

    # --- connections and negotiation ---------------------------------------------------

    def _open_pool(self) -> AsyncConnectionPool:
        if self._async_pool is None:
            self._async_pool = AsyncConnectionPool(
                AsyncTransport(self._host), self._max_connections
            )
        return self._async_pool

    async def _get_unversioned(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """Send a GET without a version prefix (for probing) and return the whole response."""
        pool = self._async_pool or self._open_pool()
        headers = [("Host", self._host.host_header), ("User-Agent", USER_AGENT)]
        response, body = await fetch(
            pool, "GET", path, headers, None, False, True, self._timeout
        )
        return response.status, dict(response.getheaders()), body

    async def _negotiate_once(self) -> str:
        """Probe the daemon and settle the API version, once per client.

        Tasks that arrive during the probe wait for it. A failed probe raises and leaves
        the version unknown, so the next call probes again.
        """
        loop = asyncio.get_running_loop()
        if self._negotiation is None or self._negotiation[0] is not loop:
            self._negotiation = (loop, asyncio.Lock())
        async with self._negotiation[1]:
            if self._api_version is None:
                daemon = self._daemon or await self._probe_daemon()
                with self._lock:
                    self._adopt_daemon(daemon)
            assert self._api_version is not None
            return self._api_version

    async def _probe_daemon(self) -> DaemonVersion:
        """Send GET /_ping and GET /version, read as docker_engine._negotiation.probe_daemon does."""
        ping_version = read_ping(*await self._get_unversioned("/_ping"))
        return read_version(ping_version, *await self._get_unversioned("/version"))

    @classmethod
    def _from_probe(
        cls,
        prober: AsyncBaseClient,
        *,
        strict: bool = False,
        allow_insecure_credentials: bool = False,
    ) -> AsyncBaseClient:
        """Build a client that shares `prober`'s host, pool and probe, as connect_async() does."""
        client = cls.__new__(cls)
        client._setup(
            prober._host,
            version=None,
            timeout=prober._timeout,
            strict=strict,
            max_connections=prober._max_connections,
            environ={},
            allow_insecure_credentials=allow_insecure_credentials,
        )
        client._async_pool = prober._async_pool
        if prober._daemon is not None:
            with client._lock:
                client._adopt_daemon(prober._daemon)
        return client


def _encode_body(plan: OperationPlan, body: Any) -> EncodedBody:
    """Encode the request body as BaseClient does, also taking an async iterable of bytes
    as a binary body, sent chunked."""
    operation = plan.operation
    if (
        body is not None
        and operation.body is BodyKind.BINARY
        and hasattr(body, "__aiter__")
    ):
        content_type = operation.body_content_type or "application/octet-stream"
        headers = [("Content-Type", content_type), ("Transfer-Encoding", "chunked")]
        return _request.EncodedBody(body, None, headers, True, False)
    return _request.encode_body(plan, body)


def _identity(value: Any) -> Any:
    return value
