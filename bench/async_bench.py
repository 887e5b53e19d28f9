"""Benchmark: 1,000 concurrent container inspects with AsyncClient and with aiodocker.

Both clients send `GET /containers/{id}/json` for one created container, 1,000 requests
at once from one event loop (`asyncio.gather`), to the same daemon over its unix socket:

    async client   docker_engine_v1_NN.AsyncClient (the generated package for the
                   daemon's API version), containers.inspect(), which decodes the JSON
                   into typed models; its default pool of 100 connections
    aiodocker      aiodocker.Docker, containers.get(), which decodes into a dict;
                   aiohttp's default pool of 100 connections

The client CPU column is the benchmark process's CPU time for the round (the event
loop and the decoding), which the daemon's share of the machine does not inflate. Each
client makes one warm-up round first (negotiation, connections, first decode).
Rounds then alternate between the clients so that the machine's noise falls on both,
and each figure is the median of the rounds. A third row runs the async client with
max_connections=10, the sync client's default. Goal: the async client at least as fast
as aiodocker (ratio at most 1.0).

    python bench/async_bench.py [--host unix:///path/docker.sock] [--calls N] [--rounds N]

Without --host, a Docker Engine 20.10 daemon is started with tests/testbed.py and
stopped at the end. The results go to stdout as a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT / "runtime" / "src"), str(REPO_ROOT)]

Round = Callable[[], Awaitable[None]]


def import_package(api_version: str) -> Any:
    """Import the generated package of `api_version` from generated/."""
    name = "docker_engine_v" + api_version.replace(".", "_")
    folder = REPO_ROOT / "generated" / name
    if not folder.is_dir():
        raise SystemExit(f"{folder} is missing: run `make generate` first")
    sys.path.insert(0, str(folder))
    return importlib.import_module(name)


async def create_container(client: Any) -> str:
    created = await client.containers.create(
        {
            "Image": "busybox:test",
            "Cmd": ["true"],
            "HostConfig": {"NetworkMode": "none"},
        }
    )
    return str(created.id)


def async_client_round(client: Any, container_id: str, calls: int) -> Round:
    async def run() -> None:
        results = await asyncio.gather(
            *(client.containers.inspect(container_id) for _ in range(calls))
        )
        assert all(result.id == container_id for result in results)

    return run


def aiodocker_round(docker: Any, container_id: str, calls: int) -> Round:
    async def run() -> None:
        results = await asyncio.gather(
            *(docker.containers.get(container_id) for _ in range(calls))
        )
        assert all(result.id == container_id for result in results)

    return run


async def measure(
    host: str, api_version: str, calls: int, rounds: int
) -> dict[str, list[tuple[float, float]]]:
    import aiodocker

    package = import_package(api_version)
    client = package.AsyncClient(host)
    narrow_client = package.AsyncClient(host, max_connections=10)
    docker = aiodocker.Docker(url=host)
    container_id = await create_container(client)
    try:
        contenders = {
            "async client (100 connections)": async_client_round(
                client, container_id, calls
            ),
            "aiodocker (100 connections)": aiodocker_round(docker, container_id, calls),
            "async client (10 connections)": async_client_round(
                narrow_client, container_id, calls
            ),
        }
        for run in contenders.values():
            await run()

        times: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
        for _ in range(rounds):
            for name, run in contenders.items():
                start, cpu_start = time.perf_counter(), time.process_time()
                await run()
                elapsed = time.perf_counter() - start
                times[name].append((elapsed, time.process_time() - cpu_start))
        return times
    finally:
        await client.containers.delete(container_id, force=True)
        await client.aclose()
        await narrow_client.aclose()
        await docker.close()


def report(times: dict[str, list[tuple[float, float]]], calls: int, engine: str) -> str:
    """Return a markdown table of the median wall time, requests/s and CPU time per client."""
    baseline = statistics.median(
        wall for wall, _ in times["aiodocker (100 connections)"]
    )
    lines = [
        f"{calls} concurrent `GET /containers/{{id}}/json` on Engine {engine}, "
        f"median of {len(next(iter(times.values())))} rounds:",
        "",
        "| client | time (s) | requests/s | ratio to aiodocker | client CPU (ms) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, values in times.items():
        wall = statistics.median(elapsed for elapsed, _ in values)
        cpu = statistics.median(used for _, used in values)
        lines.append(
            f"| {name} | {wall:.3f} | {calls / wall:,.0f} | {wall / baseline:.2f} "
            f"| {cpu * 1000:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--host", help="a unix:// daemon host; default: start Engine 20.10"
    )
    parser.add_argument(
        "--calls", type=int, default=1000, help="concurrent requests per round"
    )
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per client")
    arguments = parser.parse_args()

    daemon = None
    workdir = None
    if arguments.host is None:
        from tests.testbed import import_busybox, start_setup

        print("starting Docker Engine 20.10 with tests/testbed.py", file=sys.stderr)
        workdir = tempfile.mkdtemp(prefix="async-bench-", dir="/tmp")
        daemon = start_setup("20.10", workdir)
        import_busybox(daemon)
        host = daemon.host
    else:
        host = arguments.host

    try:
        import docker_engine

        sync_client = docker_engine.BaseClient(host)
        api_version = sync_client.negotiate()
        daemon_version = sync_client.daemon_version
        engine = str(daemon_version.details.get("Version")) if daemon_version else "?"
        sync_client.close()
        times = asyncio.run(
            measure(host, api_version, arguments.calls, arguments.rounds)
        )
    finally:
        if daemon is not None:
            daemon.stop()
        if workdir is not None:
            # stop() keeps the daemon's log, which a finished benchmark does not need.
            shutil.rmtree(workdir, ignore_errors=True)
    print(report(times, arguments.calls, engine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
