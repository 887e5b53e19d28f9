"""Benchmark: the cost of one call, and of importing a client, against their floors.

Three clients send the same requests to one daemon over its unix socket, each on a
connection it keeps open:

    bare       http.client.HTTPConnection over an AF_UNIX socket, reading and (for
               /version and /containers/json) json-decoding the body: the floor any
               Python client pays
    runtime    the generated 1.41 package (`client.system.ping()`, `client.system.version()`,
               `client.containers.list(all=True)` decoded into models), or BaseClient.call
               with hand-written operations when generated/ has no 1.41 package
    docker-py  docker.APIClient, the usual Python client (when installed)

`GET /containers/json` lists 50 containers that the benchmark creates first. The import
time of `docker_engine_v1_41` and of `docker` is measured in fresh interpreters, each
against the start-up of a bare interpreter.

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

from docker_engine import BaseClient, Location, Operation, Parameter, ResponseKind  # noqa: E402

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


GENERATED_1_41 = REPO_ROOT / "generated" / "docker_engine_v1_41"
CONTAINERS = 50


def bare_calls(path: str, version: str) -> dict[str, Callable[[], object]]:
    connection = UnixConnection(path)

    def ping() -> object:
        connection.request("GET", f"/v{version}/_ping")
        return connection.getresponse().read().decode()

    def version_() -> object:
        connection.request("GET", f"/v{version}/version")
        return json.loads(connection.getresponse().read())

    def containers() -> object:
        connection.request("GET", f"/v{version}/containers/json?all=1")
        return json.loads(connection.getresponse().read())

    return {"ping": ping, "version": version_, "containers": containers}


def runtime_calls(host: str) -> dict[str, Callable[[], object]]:
    if GENERATED_1_41.is_dir():
        sys.path.insert(0, str(GENERATED_1_41))
        from docker_engine_v1_41 import Client

        client = Client(host, version="1.41")
        return {
            "ping": client.system.ping,
            "version": client.system.version,
            "containers": lambda: client.containers.list(all=True),
        }
    print("generated/docker_engine_v1_41 is missing: timing BaseClient.call", file=sys.stderr)
    bare_client = Client41(host, version="1.41")
    return {
        "ping": lambda: bare_client.call(PING, {}),
        "version": lambda: bare_client.call(VERSION, {}),
        "containers": lambda: bare_client.call(CONTAINER_LIST, {"all": True}),
    }


CONTAINER_LIST = Operation(
    operation_id="ContainerList",
    method="GET",
    path="/containers/json",
    parameters=(Parameter("all", "all", Location.QUERY, type="boolean"),),
)


def docker_py_calls(host: str) -> dict[str, Callable[[], object]] | None:
    try:
        import docker
    except ImportError:
        return None
    client = docker.APIClient(base_url=host, version="1.41")
    return {
        "ping": client.ping,
        "version": client.version,
        "containers": lambda: client.containers(all=True),
    }


def create_containers(host: str, count: int) -> None:
    """Create `count` stopped containers from busybox:test, for the list benchmark."""
    connection = UnixConnection(host.removeprefix("unix://"))
    body = json.dumps({"Image": "busybox:test", "Cmd": ["true"], "HostConfig": {"NetworkMode": "none"}})
    for _ in range(count):
        connection.request(
            "POST", "/v1.41/containers/create", body, {"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        if response.status != 201:
            sys.exit(f"cannot create a container for the benchmark: HTTP {response.status}")


def import_times(rounds: int = 15) -> dict[str, float]:
    """Return the median seconds to import each client in a fresh interpreter, minus start-up."""
    import os
    import subprocess

    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(GENERATED_1_41), *sys.path]))
    statements = {"bare interpreter": "pass", "docker_engine_v1_41": "import docker_engine_v1_41"}
    try:
        import docker  # noqa: F401
    except ImportError:
        pass
    else:
        statements["docker (docker-py)"] = "import docker"
    # Compile the bytecode first, as pip does when it installs a package, so no round pays
    # for compiling: with PYTHONDONTWRITEBYTECODE set, an import would never write it.
    import compileall

    for folder in (GENERATED_1_41, REPO_ROOT / "runtime" / "src"):
        compileall.compile_dir(str(folder), quiet=1)
    for statement in statements.values():
        subprocess.run([sys.executable, "-c", statement], env=environment, check=True)
    samples: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(rounds):
        for name, statement in statements.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], env=environment, check=True)
            samples[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    startup = medians.pop("bare interpreter")
    return {name: value - startup for name, value in medians.items()}


def measure(call: Callable[[], object], count: int) -> float:
    """Return the mean seconds per call over `count` calls."""
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count


def run(host: str, calls: int, rounds: int) -> int:
    path = host.removeprefix("unix://")
    create_containers(host, CONTAINERS)
    clients = {"bare": bare_calls(path, "1.41"), "runtime": runtime_calls(host)}
    docker_py = docker_py_calls(host)
    if docker_py is not None:
        clients["docker-py"] = docker_py

    failed = False
    for operation in ("ping", "version", "containers"):
        samples: dict[str, list[float]] = {name: [] for name in clients}
        for name, functions in clients.items():
            measure(functions[operation], 50)  # warm up: connection, plans, caches
        for _ in range(rounds):
            for name, functions in clients.items():
                samples[name].append(measure(functions[operation], calls))
        bare = statistics.median(samples["bare"])
        label = {"ping": "GET /_ping", "version": "GET /version"}.get(
            operation, f"GET /containers/json ({CONTAINERS} containers)"
        )
        print(f"{label} ({rounds} rounds of {calls} calls, median):")
        for name, values in samples.items():
            median = statistics.median(values)
            print(f"  {name:10} {median * 1e6:8.1f} us/call  {median / bare:5.2f}x bare")
        ratio = statistics.median(samples["runtime"]) / bare
        if ratio > 1.25:
            failed = True
    print("goal: runtime at most 1.25x bare:", "missed" if failed else "met")

    imports = import_times()
    print("import time in a fresh interpreter, minus its start-up (median of 15):")
    for name, seconds in imports.items():
        print(f"  {name:22} {seconds * 1000:6.1f} ms")
    if imports["docker_engine_v1_41"] > 0.030:
        failed = True
    print("goal: docker_engine_v1_41 under 30 ms:", "missed" if imports["docker_engine_v1_41"] > 0.030 else "met")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--host",
        help="unix:// host of a running daemon that has the busybox:test image (default: start one)",
    )
    parser.add_argument("--calls", type=int, default=500, help="calls per round (default: 500)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per client (default: 7)")
    arguments = parser.parse_args()
    if arguments.host:
        return run(arguments.host, arguments.calls, arguments.rounds)

    from tests.testbed import import_busybox, start_setup

    with tempfile.TemporaryDirectory(prefix="bench-", dir="/tmp") as workdir:
        daemon = start_setup("20.10", workdir)
        try:
            import_busybox(daemon)
            return run(daemon.host, arguments.calls, arguments.rounds)
        finally:
            daemon.stop()


if __name__ == "__main__":
    sys.exit(main())
