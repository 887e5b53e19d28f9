"""A detector of blocking calls on the event loop, used by every asyncio test, and its tests.

`run_checked(coroutine)` runs the coroutine on a new event loop in debug mode and fails
the test when, on the loop's thread while it runs:

- a blocking call happens: `time.sleep`, a DNS lookup, opening a file (which includes
  importing a module that is not loaded yet), or connecting a blocking socket;
- a blocking socket (one with a timeout other than 0) is read from or written to;
- a callback or task step runs longer than `slow_callback_duration` (asyncio's debug
  mode logs "Executing ... took ... seconds");
- a ResourceWarning is emitted, such as an unclosed transport or an ssh process never
  waited for.

Threads other than the loop's (the fake daemons of these tests, asyncio's worker threads)
may block as they like.
"""

from __future__ import annotations

import asyncio
import concurrent.futures.thread  # noqa: F401 - what asyncio.to_thread imports on first use
import gc
import logging
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

# Longer than any step of the client should take even on a loaded two-core machine, and
# far shorter than a blocking wait for the daemon would.
SLOW_CALLBACK_DURATION = 0.25

_BLOCKING_EVENTS = frozenset(
    {
        "open",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
        "socket.connect",
    }
)

# The loop being watched and the list that collects what was found; None when idle.
_watched: tuple[asyncio.AbstractEventLoop, list[str]] | None = None
_hook_installed = False


def _audit(event: str, arguments: tuple[Any, ...]) -> None:
    if event not in _BLOCKING_EVENTS or _watched is None:
        return
    loop, found = _watched
    if asyncio._get_running_loop() is not loop:
        return
    if event == "socket.connect" and arguments[0].gettimeout() == 0.0:
        return  # a non-blocking connect, as asyncio makes them
    if event == "open" and _called_from("linecache.py"):
        # Debug mode reads source lines for the tracebacks it keeps of every callback.
        return
    found.append(f"{event}{_describe_arguments(arguments)} at {_caller()}")


def _called_from(filename: str) -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.endswith(filename):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _describe_arguments(arguments: tuple[Any, ...]) -> str:
    shown = ", ".join(repr(argument)[:80] for argument in arguments[:2])
    return f"({shown})"


def _caller() -> str:
    frame = sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename == __file__
        or frame.f_code.co_filename.startswith("<frozen")
    ):
        frame = frame.f_back  # type: ignore[assignment]
    lines = []
    while frame is not None and len(lines) < 6:
        lines.append(f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}")
        frame = frame.f_back  # type: ignore[assignment]
    return " < ".join(lines)


def _patched_socket_method(name: str) -> Callable[..., Any]:
    original = getattr(socket.socket, name)

    def checked(self: socket.socket, *arguments: Any, **keywords: Any) -> Any:
        watched = _watched
        if watched is not None and asyncio._get_running_loop() is watched[0]:
            if self.gettimeout() != 0.0:
                watched[1].append(f"blocking socket.{name}() at {_caller()}")
        return original(self, *arguments, **keywords)

    checked.__wrapped__ = original  # type: ignore[attr-defined]
    return checked


_SOCKET_METHODS = ("recv", "recv_into", "send", "sendall", "accept", "recvfrom")
_original_sleep = time.sleep


def _checked_sleep(seconds: float) -> None:
    # Python 3.11 has no audit event for time.sleep (3.12 adds one).
    watched = _watched
    if watched is not None and asyncio._get_running_loop() is watched[0]:
        watched[1].append(f"time.sleep({seconds!r}) at {_caller()}")
    _original_sleep(seconds)


class _SlowCallbacks(logging.Handler):
    def __init__(self, found: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.found = found

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Executing"):
            self.found.append(f"slow callback: {message[:300]}")


@contextmanager
def blocking_calls(loop: asyncio.AbstractEventLoop) -> Iterator[list[str]]:
    """Collect the blocking calls made on `loop`'s thread while `loop` runs."""
    global _watched, _hook_installed
    if not _hook_installed:
        # Audit hooks cannot be removed; this one does nothing while no loop is watched.
        sys.addaudithook(_audit)
        _hook_installed = True
    found: list[str] = []
    originals = {name: getattr(socket.socket, name) for name in _SOCKET_METHODS}
    for name in _SOCKET_METHODS:
        setattr(socket.socket, name, _patched_socket_method(name))
    time.sleep = _checked_sleep
    handler = _SlowCallbacks(found)
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(handler)
    _watched = (loop, found)
    try:
        yield found
    finally:
        _watched = None
        asyncio_logger.removeHandler(handler)
        for name, original in originals.items():
            setattr(socket.socket, name, original)
        time.sleep = _original_sleep


def run_checked(
    main: Coroutine[Any, Any, T],
    *,
    slow_callback_duration: float = SLOW_CALLBACK_DURATION,
) -> T:
    """Run `main` on a new event loop in debug mode and fail on any blocking call."""
    loop = asyncio.new_event_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = slow_callback_duration
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            with blocking_calls(loop) as found:
                result = loop.run_until_complete(main)
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
        gc.collect()
    resource_warnings = [
        str(w.message) for w in caught if issubclass(w.category, ResourceWarning)
    ]
    problems = found + [f"ResourceWarning: {text}" for text in resource_warnings]
    if problems:
        pytest.fail("the event loop was blocked or leaked:\n  " + "\n  ".join(problems))
    return result


def open_descriptors(*, except_under: str | None = None) -> set[int]:
    """Return the process's open file descriptors.

    With `except_under`, leave out unix sockets bound to a path under that directory:
    the listening and accepted sockets of a fake daemon that runs in this process, so
    that only the client's own connections count.
    """
    server_inodes: set[str] = set()
    if except_under is not None:
        with open("/proc/net/unix") as table:
            next(table)
            for line in table:
                fields = line.split()
                if len(fields) >= 8 and fields[7].startswith(except_under):
                    server_inodes.add(fields[6])
    descriptors = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except FileNotFoundError:
            continue  # the descriptor listdir itself used
        if target.startswith("socket:[") and target[8:-1] in server_inodes:
            continue
        descriptors.add(int(name))
    return descriptors


# --- the detector's own tests -------------------------------------------------------------


def _detections(main: Coroutine[Any, Any, None]) -> list[str]:
    with pytest.raises(pytest.fail.Exception) as raised:
        run_checked(main)
    return str(raised.value).splitlines()[1:]


def test_detects_time_sleep() -> None:
    async def main() -> None:
        time.sleep(0.001)

    found = _detections(main())
    assert len(found) == 1
    assert found[0].strip().startswith("time.sleep(0.001)")


def test_detects_blocking_socket_read() -> None:
    async def main() -> None:
        ours, theirs = socket.socketpair()
        theirs.sendall(b"x")
        ours.settimeout(1)
        assert ours.recv(1) == b"x"
        ours.close()
        theirs.close()

    found = _detections(main())
    assert any("blocking socket.recv()" in line for line in found)


def test_detects_file_open_and_slow_step() -> None:
    async def main() -> None:
        with open(__file__, "rb") as file:
            file.read(1)
        deadline = time.monotonic() + SLOW_CALLBACK_DURATION * 1.5
        while time.monotonic() < deadline:
            pass

    found = _detections(main())
    assert any(line.strip().startswith("open(") for line in found)
    assert any("slow callback: Executing" in line for line in found)


def test_detects_unclosed_transport() -> None:
    async def main() -> None:
        ours, theirs = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=ours)
        theirs.close()
        del reader, writer

    found = _detections(main())
    assert any("ResourceWarning: unclosed" in line for line in found)


def test_allows_other_threads_and_worker_threads() -> None:
    async def main() -> int:
        worker = threading.Thread(target=time.sleep, args=(0.01,))
        worker.start()
        await asyncio.to_thread(time.sleep, 0.01)
        await asyncio.sleep(0.01)
        worker.join()
        return 7

    assert run_checked(main()) == 7
