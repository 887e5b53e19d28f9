"""Read 256 MiB of container logs three ways and compare their throughput.

    .venv/bin/python bench/logs_bench.py [--host unix:///path/docker.sock] [--size MIB]

A busybox container writes SIZE MiB to stdout in lines of --line-size bytes and exits.
Its logs are then read, in turns, by:

  floor      a raw socket: the request written by hand and the response read with
             recv_into() into one buffer until the daemon closes, with no parsing at all
  client     this project's client (the generated 1.41 package): HTTP chunked decoding and
             frame demultiplexing into ("stdout", bytes) pairs
  docker-py  docker.APIClient.logs(stream=True), which yields the payload of each frame

Each reader runs --rounds times in turn and the best time counts. Throughput is the
payload (SIZE MiB) divided by the time. Without --host, the script starts Engine 20.10
from tests/testbed.py in a temporary directory and stops it at the end. Results go to
stdout; progress lines go to stderr.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(REPO_ROOT),
    str(REPO_ROOT / "runtime" / "src"),
    str(REPO_ROOT / "generated" / "docker_engine_v1_41"),
]

API_VERSION = "1.41"
MIB = 1024 * 1024


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def create_writer(client: Any, size: int, line_size: int, log_driver: str) -> str:
    """Run a container that writes `size` bytes of `line_size`-byte lines; return its id."""
    from docker_engine_v1_41 import models

    script = (
        f"line=$(head -c {line_size - 1} /dev/zero | tr '\\000' x); "
        f'yes "$line" | head -c {size}'
    )
    body = models.ContainerCreateRequest(
        image="busybox:test",
        cmd=["sh", "-c", script],
        host_config=models.HostConfig(
            network_mode="none",
            # The local driver keeps 100 MB by default; keep the whole output.
            log_config=models.HostConfigLogConfig(
                type=log_driver, config={"max-size": f"{2 * size // MIB}m"}
            ),
        ),
    )
    container_id: str = client.containers.create(body).id
    client.containers.start(container_id)
    status = client.containers.wait(container_id).status_code
    if status != 0:
        raise SystemExit(f"the writer container exited with status {status}")
    return container_id


def read_floor(socket_path: str, container_id: str) -> int:
    """Read the raw response (headers, chunk sizes and frames included); return its size."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    request = (
        f"GET /v{API_VERSION}/containers/{container_id}/logs?stdout=1 HTTP/1.1\r\n"
        "Host: docker\r\nConnection: close\r\n\r\n"
    )
    sock.sendall(request.encode())
    buffer = bytearray(MIB)
    view = memoryview(buffer)
    total = 0
    while True:
        received = sock.recv_into(view)
        if not received:
            break
        total += received
    sock.close()
    return total


def read_client(client: Any, container_id: str) -> int:
    total = 0
    with client.containers.logs(container_id, stdout=True) as stream:
        for _, data in stream:
            total += len(data)
    return total


def read_docker_py(api: Any, container_id: str) -> int:
    total = 0
    for data in api.logs(container_id, stdout=True, stderr=False, stream=True):
        total += len(data)
    return total


def measure(name: str, read: Callable[[], int], expected: int | None) -> tuple[float, int]:
    started = time.perf_counter()
    size = read()
    elapsed = time.perf_counter() - started
    if expected is not None and size != expected:
        raise SystemExit(f"{name} read {size} bytes of payload, expected {expected}")
    progress(f"  {name:<10} {elapsed:7.3f} s  {size / MIB / elapsed:8.1f} MiB/s")
    return elapsed, size


def run(host: str, size: int, line_size: int, log_driver: str, rounds: int) -> None:
    import docker
    from docker_engine_v1_41 import Client

    socket_path = host.removeprefix("unix://")
    client = Client(host)
    api = docker.APIClient(base_url=host, version=API_VERSION)

    progress(f"writing {size // MIB} MiB of logs in {line_size}-byte lines ({log_driver})")
    container_id = create_writer(client, size, line_size, log_driver)
    try:
        readers: dict[str, Callable[[], int]] = {
            "floor": lambda: read_floor(socket_path, container_id),
            "client": lambda: read_client(client, container_id),
            "docker-py": lambda: read_docker_py(api, container_id),
        }
        best: dict[str, float] = {}
        for round_number in range(1, rounds + 1):
            progress(f"round {round_number} of {rounds}")
            for name, read in readers.items():
                elapsed, _ = measure(name, read, None if name == "floor" else size)
                best[name] = min(best.get(name, elapsed), elapsed)
    finally:
        client.containers.delete(container_id, force=True)

    floor = best["floor"]
    print(
        f"payload: {size // MIB} MiB in {line_size}-byte lines, log driver {log_driver}, "
        f"best of {rounds} rounds"
    )
    print(f"{'reader':<10} {'seconds':>8} {'MiB/s':>8} {'of floor':>9}")
    for name, elapsed in best.items():
        print(f"{name:<10} {elapsed:8.3f} {size / MIB / elapsed:8.1f} {floor / elapsed:9.0%}")
    print(f"docker-py {docker.__version__}, Python {sys.version.split()[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", help="unix:// socket of a daemon with busybox:test (default: start one)")
    parser.add_argument("--size", type=int, default=256, help="MiB the container writes (default: 256)")
    parser.add_argument("--line-size", type=int, default=1024, help="bytes per line, newline included (default: 1024)")
    parser.add_argument("--log-driver", default="json-file", help="the container's log driver: json-file or local (default: json-file)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each reader (default: 3)")
    arguments = parser.parse_args()
    if not (arguments.host or "unix://").startswith("unix://"):
        parser.error("--host must be a unix:// socket, which the floor reader connects to")

    size = arguments.size * MIB
    if arguments.host:
        run(arguments.host, size, arguments.line_size, arguments.log_driver, arguments.rounds)
        return

    from tests.testbed import Daemon, import_busybox

    workdir = tempfile.mkdtemp(prefix="logs-bench-", dir="/tmp")
    progress(f"starting Engine 20.10 in {workdir}")
    daemon = Daemon.start("20.10", workdir)
    try:
        import_busybox(daemon)
        run(daemon.host, size, arguments.line_size, arguments.log_driver, arguments.rounds)
    finally:
        daemon.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
