"""Benchmark: the cost of one runtime call against a bare http.client request on the same socket.

Three clients send the same requests to one daemon over its unix socket, each on a
connection it keeps open:

    bare       http.client.HTTPConnection over an AF_UNIX socket, reading and (for
               /version) json-decoding the body: the floor any Python client pays
    runtime    BaseClient.call with hand-written operations, as generated methods call it
    docker-py  docker.APIClient, the usual Python client (when installed)

Rounds alternate between the clients so that the machine's noise falls on all of them,
and each figure is the median of the rounds. Goal: runtime at most 1.25x bare.

    python bench/runtime_call_bench.py [--host unix:///path/docker.sock] [--calls N]

Without --host, a Docker Engine 20.10 daemon is started with tests/testbed.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT / "runtime" / "src"), str(REPO_ROOT)]

from docker_engine import BaseClient, Operation, ResponseKind  # noqa: E402

PING = Operation(operation_id="SystemPing", method="GET", path="/_ping", response=ResponseKind.TEXT)
VERSION = Operation(operation_id="SystemVersion", method="GET", path="/version")


class Client41(BaseClient):
    PACKAGE_API_VERSION = "1.41"


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost")
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.path)
        self.sock = sock


def bare_calls(path: str, version: str) -> dict[str, Callable[[], object]]:
    connection = UnixConnection(path)

    def ping() -> object:
        connection.request("GET", f"/v{version}/_ping")
        return connection.getresponse().read().decode()

    def version_() -> object:
        connection.request("GET", f"/v{version}/version")
        return json.loads(connection.getresponse().read())

    return {"ping": ping, "version": version_}


def runtime_calls(host: str) -> dict[str, Callable[[], object]]:
    client = Client41(host, version="1.41")
    return {"ping": lambda: client.call(PING, {}), "version": lambda: client.call(VERSION, {})}


def docker_py_calls(host: str) -> dict[str, Callable[[], object]] | None:
    try:
        import docker
    except ImportError:
        return None
    client = docker.APIClient(base_url=host, version="1.41")
    return {"ping": client.ping, "version": client.version}


def measure(call: Callable[[], object], count: int) -> float:
    """Return the mean seconds per call over `count` calls."""
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count


def run(host: str, calls: int, rounds: int) -> int:
    path = host.removeprefix("unix://")
    clients = {"bare": bare_calls(path, "1.41"), "runtime": runtime_calls(host)}
    docker_py = docker_py_calls(host)
    if docker_py is not None:
        clients["docker-py"] = docker_py

    failed = False
    for operation in ("ping", "version"):
        samples: dict[str, list[float]] = {name: [] for name in clients}
        for name, functions in clients.items():
            measure(functions[operation], 50)  # warm up: connection, plans, caches
        for _ in range(rounds):
            for name, functions in clients.items():
                samples[name].append(measure(functions[operation], calls))
        bare = statistics.median(samples["bare"])
        print(f"GET /{operation.lstrip('_')} ({rounds} rounds of {calls} calls, median):")
        for name, values in samples.items():
            median = statistics.median(values)
            print(f"  {name:10} {median * 1e6:8.1f} us/call  {median / bare:5.2f}x bare")
        ratio = statistics.median(samples["runtime"]) / bare
        if ratio > 1.25:
            failed = True
    print("goal: runtime at most 1.25x bare:", "missed" if failed else "met")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="unix:// host of a running daemon (default: start one)")
    parser.add_argument("--calls", type=int, default=500, help="calls per round (default: 500)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per client (default: 7)")
    arguments = parser.parse_args()
    if arguments.host:
        return run(arguments.host, arguments.calls, arguments.rounds)

    from tests.testbed import start_setup

    with tempfile.TemporaryDirectory(prefix="bench-", dir="/tmp") as workdir:
        daemon = start_setup("20.10", workdir)
        try:
            return run(daemon.host, arguments.calls, arguments.rounds)
        finally:
            daemon.stop()


if __name__ == "__main__":
    sys.exit(main())
