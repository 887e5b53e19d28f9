"""A caller's value in a path parameter never reaches another endpoint.

The daemon decodes the request path, cleans it ("/./" and "/../" collapse, "//" becomes
"/") and redirects to the cleaned path when it differs: Engines 20.10 and 28.5 respond to
`DELETE /v1.41/containers/..%2Fimages%2Fbusybox:test?force=1` with a 301 to
`/v1.41/images/busybox:test?force=1`. The client follows no redirect, and it rejects, before
sending, a path value that the daemon would clean into another path.

Every operation with a path parameter, in every generated package, is called through
its generated method with hostile values against a fake daemon that records what it
receives. Each call is either rejected before sending or reaches the fake under the
operation's own path template, with the value intact.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import pytest

from docker_engine import APIError, AsyncGroup, DockerError, Group, InvalidArgument
from docker_engine._operation import Location, Operation
from docker_engine._request import SLASH_PREFIXES
from tests.generated_packages import REPO_ROOT, generated_versions, import_package
from tests.testbed import Daemon

sys.path.insert(0, str(REPO_ROOT / "runtime" / "tests"))

from fake_daemon import FakeDaemon, Recorded  # noqa: E402

# Values a caller might pass, by mistake or from an attacker, as an object's name or ID.
HOSTILE_VALUES = [
    "..",
    ".",
    "",
    "../x",
    "x/..",
    "./x",
    "a/./b",
    "a/../../b",
    "../images/busybox",
    "a//b",
    "/",
    "/x",
    "x/",
    "a/b",
    "%2e%2e",
    "%2E%2E%2Fimages",
    "..%2fx",
    "x?force=1",
    "x?",
    "x#fragment",
    "#",
    "x y",
    "x\r\nX-Injected: 1",
    "x;y",
    "x%00",
    "\u00e9t\u00e9",
]

# A path value with one of these segments names another path once the daemon cleans it,
# so the client must reject it.
CLEANED_SEGMENTS = {"", ".", ".."}

# The value for the other path parameters of an operation.
PLAIN_VALUE = "plain0"


class Captured(Exception):
    def __init__(self, operation: Operation, arguments: dict[str, Any]) -> None:
        super().__init__(operation.operation_id)
        self.operation = operation
        self.arguments = arguments


class CapturingClient:
    """Stands in for the client under a group, to learn which operation a method calls."""

    def call(self, operation: Operation, arguments: Any, **keywords: Any) -> Any:
        raise Captured(operation, dict(arguments))


class AsyncCapturingClient:
    """CapturingClient for the groups of an AsyncClient, whose methods await the call."""

    async def call(self, operation: Operation, arguments: Any, **keywords: Any) -> Any:
        raise Captured(operation, dict(arguments))


def placeholder(parameter: inspect.Parameter) -> Any:
    annotation = str(parameter.annotation)
    if parameter.name == "body":
        return b"" if "BinaryBody" in annotation else {}
    return PLAIN_VALUE


async def path_operations(client: Any) -> list[tuple[str, str, Operation, dict[str, Any]]]:
    """Return (group, method, operation, required arguments) for each method of `client`
    whose operation has a path parameter."""
    found = []
    for group_name, member in inspect.getmembers(type(client)):
        if not isinstance(member, functools.cached_property):
            continue
        group = getattr(client, group_name)
        if isinstance(group, Group):
            stub = type(group)(CapturingClient())  # type: ignore[arg-type]
        elif isinstance(group, AsyncGroup):
            stub = type(group)(AsyncCapturingClient())  # type: ignore[arg-type]
        else:
            continue
        for method_name, method in inspect.getmembers(type(group), inspect.isfunction):
            if method_name.startswith("_"):
                continue
            signature = inspect.signature(method)
            required = {
                name: placeholder(parameter)
                for name, parameter in list(signature.parameters.items())[1:]
                if parameter.default is inspect.Parameter.empty
            }
            try:
                called = getattr(stub, method_name)(**required)
                if inspect.iscoroutine(called):
                    await called
            except Captured as captured:
                operation = captured.operation
            else:
                raise AssertionError(f"{group_name}.{method_name} made no call")
            if any(p.location is Location.PATH for p in operation.parameters):
                found.append((group_name, method_name, operation, required))
    return found


def template_pattern(operation: Operation, version: str) -> re.Pattern[str]:
    """Match a request path sent for `operation`, capturing each path value as sent."""
    slash = operation.path.startswith(SLASH_PREFIXES)
    pattern = "/v" + re.escape(version)
    for index, piece in enumerate(re.split(r"\{([^{}]+)\}", operation.path)):
        if index % 2 == 0:
            pattern += re.escape(piece)
        else:
            name = re.sub(r"\W", "_", piece)
            pattern += f"(?P<{name}>{'.+' if slash else '[^/]+'})"
    return re.compile(pattern)


def check_request(
    operation: Operation,
    version: str,
    request: Recorded,
    values: dict[str, str],
    others: list[Operation],
) -> None:
    """Check that a request stays under the operation's path template with `values` intact."""
    target = request.target
    path, _, query = target.partition("?")
    assert "#" not in target, target
    assert request.method == operation.method, target

    match = template_pattern(operation, version).fullmatch(path)
    assert match is not None, f"{target} is not under {operation.path}"
    for parameter in operation.parameters:
        if parameter.location is Location.PATH:
            sent = match.group(re.sub(r"\W", "_", parameter.wire_name))
            assert unquote(sent) == values[parameter.python_name], target

    # The daemon decodes the path once and cleans it; the result must be this path.
    segments = unquote(path).split("/")[1:]
    assert not CLEANED_SEGMENTS & set(segments), f"{target} has a segment the daemon cleans"

    # No other operation of the same method may claim the path.
    for other in others:
        if other.method == operation.method and other.path != operation.path:
            claimed = template_pattern(other, version).fullmatch(path)
            assert claimed is None, f"{target} also matches {other.operation_id} {other.path}"

    # A value must not add query parameters of its own.
    query_names = {p.wire_name for p in operation.parameters if p.location is Location.QUERY}
    assert set(parse_qs(query, keep_blank_values=True)) <= query_names, target


@pytest.fixture(scope="module")
def recorder() -> Iterator[FakeDaemon]:
    """A fake daemon that accepts every API version and responds 404 to every request."""
    directory = tempfile.mkdtemp(prefix="de-paths-", dir="/tmp")
    daemon = FakeDaemon(directory, api_version="1.56", min_api_version="1.12").start()
    yield daemon
    daemon.stop()
    shutil.rmtree(directory, ignore_errors=True)


async def call_hostile_values(recorder: FakeDaemon, version: str, client: Any) -> tuple[int, int]:
    """Call every method of `client` that has a path parameter with each hostile value.

    Returns how many calls were sent and how many were rejected before sending. It is a
    coroutine so that an AsyncClient makes all its calls on one event loop. The methods
    of a sync Client block that loop, which has nothing else to run.
    """
    package = import_package(version)
    operations = [
        value for value in vars(package._operations).values() if isinstance(value, Operation)
    ]
    methods = await path_operations(client)
    with_path = {
        op.operation_id
        for op in operations
        if any(p.location is Location.PATH for p in op.parameters)
    }
    assert {operation.operation_id for _, _, operation, _ in methods} == with_path

    sent = rejected = 0
    for group_name, method_name, operation, required in methods:
        method = getattr(getattr(client, group_name), method_name)
        path_parameters = [p for p in operation.parameters if p.location is Location.PATH]
        for parameter in path_parameters:
            for value in HOSTILE_VALUES:
                values = {p.python_name: PLAIN_VALUE for p in path_parameters}
                values[parameter.python_name] = value
                before = len(recorder.requests)
                where = f"{version} {group_name}.{method_name}({parameter.python_name}={value!r})"
                try:
                    called = method(**{**required, **values})
                    if inspect.iscoroutine(called):
                        await called
                except InvalidArgument:
                    assert len(recorder.requests) == before, f"{where} sent a request"
                    rejected += 1
                    continue
                except APIError as error:
                    assert error.status == 404, f"{where}: {error}"
                except DockerError as error:
                    raise AssertionError(f"{where} raised {error!r}") from error
                else:
                    raise AssertionError(f"{where} got a response from a fake that has none")

                assert not CLEANED_SEGMENTS & set(value.split("/")), f"{where} was sent"
                assert len(recorder.requests) == before + 1, where
                check_request(operation, version, recorder.requests[-1], values, operations)
                sent += 1
    return sent, rejected


@pytest.mark.timeout(300)
@pytest.mark.parametrize("version", generated_versions() or ["1.41"])
def test_hostile_path_values(recorder: FakeDaemon, version: str) -> None:
    client = import_package(version).Client(recorder.host, version=version)
    sent, rejected = asyncio.run(call_hostile_values(recorder, version, client))
    assert sent > 0
    assert rejected > 0


@pytest.mark.timeout(300)
@pytest.mark.parametrize("version", ["1.25", "1.41", "1.51", "1.56"])
def test_hostile_path_values_async(recorder: FakeDaemon, version: str) -> None:
    # The asyncio client builds requests with the same code; these versions check that
    # its generated methods reach it.
    client = import_package(version).AsyncClient(recorder.host, version=version)

    async def run() -> tuple[int, int]:
        try:
            return await call_hostile_values(recorder, version, client)
        finally:
            await client.aclose()

    sent, rejected = asyncio.run(run())
    assert sent > 0
    assert rejected > 0


# --- against a real daemon ---------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["daemon_20_10", "daemon_28"])
def test_delete_cannot_reach_image(fixture: str, request: pytest.FixtureRequest) -> None:
    daemon: Daemon = request.getfixturevalue(fixture)
    version = "1.41" if fixture == "daemon_20_10" else "1.51"
    reference = f"path-test-{uuid.uuid4().hex[:8]}:latest"
    tagged = daemon.request(
        "POST", f"/v{version}/images/busybox:test/tag?repo={reference.split(':')[0]}&tag=latest"
    )
    assert tagged.status == 201, tagged.message
    try:
        # The daemon cleans the decoded path and redirects a DELETE of a container to the
        # image's path, query included, so a client that followed redirects would
        # force-delete the image.
        raw = daemon.request(
            "DELETE", f"/v{version}/containers/..%2Fimages%2F{quote(reference)}?force=1"
        )
        assert raw.status == 301
        assert raw.headers["Location"] == f"/v{version}/images/{reference}?force=1"

        client = import_package(version).Client(daemon.host, version=version)
        with pytest.raises(InvalidArgument, match="'..'"):
            client.containers.delete(f"../images/{reference}", force=True)
        # Percent signs are sent encoded, so the daemon decodes these to names, not paths.
        for encoded in (f"..%2Fimages%2F{reference}", f"%2e%2e%2Fimages%2F{reference}"):
            with pytest.raises(APIError) as caught:
                client.containers.delete(encoded, force=True)
            assert caught.value.status == 404

        time.sleep(0.1)
        inspected = daemon.request("GET", f"/v{version}/images/{reference}/json")
        assert inspected.status == 200, "the image was deleted"
    finally:
        daemon.request("DELETE", f"/v{version}/images/{reference}?force=1")
