"""AsyncClient matches Client in every generated version: groups, methods, signatures, calls.

For each version package in generated/, every group of `Client` has an `Async` twin on
`AsyncClient` with the same methods. Each method pair has the same parameters (names,
kinds, defaults), the same annotations once the stream types take their `Async` prefix,
and the same docstring. Called with the same arguments, both send the same operation,
arguments, body and timeout to their client's `call`, which is checked with a recording
stand-in for the client: no daemon is needed.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import re
import typing
from types import ModuleType
from typing import Any

import pytest

from docker_engine import AsyncBaseClient, AsyncGroup, BaseClient, Group
from tests.generated_packages import generated_versions, import_package

# The sync stream types and the names their async counterparts have in annotations.
# Stream types, and the binary body type (which also takes async iterables), have an
# Async counterpart; everything else is the same in both clients.
_STREAM_TYPE = re.compile(
    r"\b(ByteStream|FrameStream|HijackedStream|JSONStream|ProgressStream|BinaryBody)\b"
)

VERSIONS = generated_versions()


def to_async_annotation(annotation: Any) -> Any:
    """Return a sync annotation (text, as the generated modules defer them) in its async form."""
    if isinstance(annotation, str):
        return _STREAM_TYPE.sub(r"Async\1", annotation)
    return annotation


def client_modules(version: str) -> tuple[ModuleType, ModuleType]:
    package = import_package(version)
    name = package.__name__
    return importlib.import_module(f"{name}._client"), importlib.import_module(
        f"{name}._async_client"
    )


def group_pairs(version: str) -> list[tuple[str, type[Group], type[AsyncGroup]]]:
    """Return (attribute, sync group class, async group class) for each group of Client."""
    sync_module, async_module = client_modules(version)
    pairs = []
    for attribute, member in vars(sync_module.Client).items():
        if not isinstance(member, functools.cached_property):
            continue
        sync_group = inspect.get_annotations(member.func, eval_str=True)["return"]
        async_member = vars(async_module.AsyncClient).get(attribute)
        assert isinstance(async_member, functools.cached_property), attribute
        async_group = inspect.get_annotations(async_member.func, eval_str=True)[
            "return"
        ]
        pairs.append((attribute, sync_group, async_group))
    return pairs


def public_methods(group: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in vars(group).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


class RecordingClient:
    """Stands in for a client: records each call instead of sending it."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def call(
        self, operation: Any, arguments: Any, *, body: Any = None, timeout: Any = None
    ) -> Any:
        self.calls.append((operation, dict(arguments), body, timeout))
        return None


class AsyncRecordingClient(RecordingClient):
    async def call(  # type: ignore[override]
        self, operation: Any, arguments: Any, *, body: Any = None, timeout: Any = None
    ) -> Any:
        self.calls.append((operation, dict(arguments), body, timeout))
        return None


def sample_arguments(signature: inspect.Signature) -> tuple[list[Any], dict[str, Any]]:
    """Build a distinct value for every parameter, so that a dropped or swapped one shows."""
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for parameter in list(signature.parameters.values())[1:]:
        value = f"<{parameter.name}>"
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            positional.append(value)
        elif parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            keywords[parameter.name] = value
        else:
            raise AssertionError(
                f"unexpected parameter kind {parameter.kind} of {parameter}"
            )
    return positional, keywords


@pytest.mark.skipif(
    not VERSIONS, reason="generated/ has no version packages; run `make generate`"
)
@pytest.mark.parametrize("version", VERSIONS)
def test_async_client_classes(version: str) -> None:
    sync_module, async_module = client_modules(version)
    client, async_client = sync_module.Client, async_module.AsyncClient
    assert issubclass(client, BaseClient)
    assert issubclass(async_client, AsyncBaseClient)
    assert not issubclass(async_client, BaseClient)
    assert async_client.PACKAGE_API_VERSION == client.PACKAGE_API_VERSION == version
    assert async_client.MODELS_MODULE == client.MODELS_MODULE
    assert import_package(version).AsyncClient is async_client


@pytest.mark.skipif(
    not VERSIONS, reason="generated/ has no version packages; run `make generate`"
)
@pytest.mark.parametrize("version", VERSIONS)
def test_async_signatures_match(version: str) -> None:
    pairs = group_pairs(version)
    assert pairs, f"Client of {version} has no groups"
    methods_checked = 0
    overloads_checked = 0
    for attribute, sync_group, async_group in pairs:
        assert async_group.__name__ == "Async" + sync_group.__name__, attribute
        assert issubclass(async_group, AsyncGroup)
        sync_methods, async_methods = public_methods(sync_group), public_methods(
            async_group
        )
        assert sorted(async_methods) == sorted(sync_methods), attribute

        for name, sync_method in sync_methods.items():
            where = f"{version} {attribute}.{name}"
            async_method = async_methods[name]
            assert inspect.iscoroutinefunction(async_method), where
            assert not inspect.iscoroutinefunction(sync_method), where
            assert async_method.__doc__ == sync_method.__doc__, where

            assert_same_signature(sync_method, async_method, where)
            # Overloads, such as stats() typed on stream=True or False, must match too.
            sync_overloads = typing.get_overloads(sync_method)
            async_overloads = typing.get_overloads(async_method)
            assert len(async_overloads) == len(sync_overloads), where
            for number, (sync_overload, async_overload) in enumerate(
                zip(sync_overloads, async_overloads)
            ):
                assert_same_signature(
                    sync_overload, async_overload, f"{where} overload {number}"
                )
                overloads_checked += 1
            methods_checked += 1
    assert methods_checked > 80
    # Every version's stats() has an overload for stream=True and one for stream=False.
    assert overloads_checked >= 2


def assert_same_signature(sync_method: Any, async_method: Any, where: str) -> None:
    """Check names, kinds, defaults and annotations, the latter modulo the Async prefix."""
    sync_signature = inspect.signature(sync_method)
    async_signature = inspect.signature(async_method)
    sync_parameters = list(sync_signature.parameters.values())
    async_parameters = list(async_signature.parameters.values())
    assert [p.name for p in async_parameters] == [
        p.name for p in sync_parameters
    ], where
    for sync_parameter, async_parameter in zip(sync_parameters, async_parameters):
        assert async_parameter.kind == sync_parameter.kind, where
        assert async_parameter.default == sync_parameter.default, where
        assert async_parameter.annotation == to_async_annotation(
            sync_parameter.annotation
        ), f"{where}({sync_parameter.name})"
    assert async_signature.return_annotation == to_async_annotation(
        sync_signature.return_annotation
    ), where


@pytest.mark.skipif(
    not VERSIONS, reason="generated/ has no version packages; run `make generate`"
)
@pytest.mark.parametrize("version", VERSIONS)
def test_async_methods_send_same_calls(version: str) -> None:
    recorder, async_recorder = RecordingClient(), AsyncRecordingClient()

    async def call_all() -> int:
        count = 0
        for _, sync_group, async_group in group_pairs(version):
            sync_instance = sync_group(recorder)  # type: ignore[arg-type]
            async_instance = async_group(async_recorder)  # type: ignore[arg-type]
            for name, sync_method in public_methods(sync_group).items():
                positional, keywords = sample_arguments(inspect.signature(sync_method))
                getattr(sync_instance, name)(*positional, **keywords)
                await getattr(async_instance, name)(*positional, **keywords)
                count += 1
        return count

    count = asyncio.run(call_all())
    assert len(recorder.calls) == len(async_recorder.calls) == count
    for sync_call, async_call in zip(recorder.calls, async_recorder.calls):
        operation = sync_call[0].operation_id
        assert async_call[0] is sync_call[0], operation
        assert async_call[1:] == sync_call[1:], operation
        # Every argument reaches the call: none is left at a default the caller did not pass.
        assert all(
            value != "<request_timeout>" for value in sync_call[1].values()
        ), operation
        assert sync_call[3] == "<request_timeout>", operation
