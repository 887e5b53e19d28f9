"""Archives and binary bodies against Engine 20.10: copy in and out, export, save and load.

The export test runs the client in a subprocess and compares its peak resident memory
(VmHWM in /proc/self/status) before and after saving a 512 MiB archive to a file.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docker_engine._archives import path_stat
from tests.generated_packages import package_dir
from tests.integration.streams_support import client_for, container
from tests.testbed import REPO_ROOT, Daemon

VERSION = "1.41"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def client(daemon_20_10: Daemon) -> Any:
    return client_for(daemon_20_10.host, VERSION)


def make_tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def read_tar(data: bytes) -> dict[str, bytes]:
    contents = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for member in archive.getmembers():
            if member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None
                contents[member.name] = extracted.read()
    return contents


def test_put_archive_and_archive_round_trip(client: Any, tmp_path: Path) -> None:
    big = os.urandom(3 * MIB + 17)
    with container(client, VERSION, ["true"], start=False) as container_id:
        # Bytes, a regular file (sent with its length) and a generator (sent chunked).
        client.containers.put_archive(container_id, make_tar({"one/a.txt": b"bytes body"}), path="/tmp")
        file_path = tmp_path / "upload.tar"
        file_path.write_bytes(make_tar({"one/big.bin": big}))
        with open(file_path, "rb") as file:
            client.containers.put_archive(container_id, file, path="/tmp")
        chunked = make_tar({"one/c.txt": b"chunked body"})

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(chunked), 1000):
                yield chunked[start : start + 1000]

        client.containers.put_archive(container_id, chunks(), path="/tmp")

        with client.containers.archive(container_id, path="/tmp/one") as stream:
            stat = path_stat(stream.headers)
            data = stream.read()
        assert stat["name"] == "one"
        assert read_tar(data) == {
            "one/a.txt": b"bytes body",
            "one/big.bin": big,
            "one/c.txt": b"chunked body",
        }

        info = path_stat(client.containers.archive_info(container_id, path="/tmp/one/big.bin"))
        assert info["size"] == len(big)


def test_export_512_mib_memory_bounded(client: Any, daemon_20_10: Daemon, tmp_path: Path) -> None:
    command = ["dd", "if=/dev/zero", "of=/big", "bs=1M", "count=512"]
    with container(client, VERSION, command) as container_id:
        assert client.containers.wait(container_id).status_code == 0
        destination = tmp_path / "export.tar"
        script = textwrap.dedent(
            f"""
            import json, sys
            sys.path[:0] = [{str(REPO_ROOT / "runtime" / "src")!r}, {str(package_dir(VERSION))!r}]
            from docker_engine_v1_41 import Client

            def peak_kib():
                with open("/proc/self/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            return int(line.split()[1])

            client = Client({daemon_20_10.host!r})
            client.system.ping()  # imports and negotiation happen before the measurement
            before = peak_kib()
            written = client.containers.export({container_id!r}).write_to({str(destination)!r})
            print(json.dumps({{"before": before, "after": peak_kib(), "written": written}}))
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stderr
        figures = json.loads(result.stdout)

    try:
        assert figures["written"] == destination.stat().st_size
        assert figures["written"] > 512 * MIB
        growth_mib = (figures["after"] - figures["before"]) / 1024
        assert growth_mib < 64, f"peak memory grew by {growth_mib:.1f} MiB"
        with tarfile.open(destination, mode="r:") as archive:
            assert archive.getmember("big").size == 512 * MIB
    finally:
        destination.unlink(missing_ok=True)


def test_image_save_and_load_from_file(client: Any, tmp_path: Path) -> None:
    tag = f"streams-save:{uuid.uuid4().hex[:8]}"
    repository, _, label = tag.partition(":")
    client.images.tag("busybox:test", repo=repository, tag=label)
    saved = tmp_path / "image.tar"
    written = client.images.get(tag).write_to(saved)
    assert written == saved.stat().st_size
    with tarfile.open(saved, mode="r:") as archive:
        assert "manifest.json" in archive.getnames()

    client.images.delete(tag)
    with open(saved, "rb") as file:
        lines = client.images.load(file).wait()
    try:
        assert any(f"Loaded image: {tag}" in (line.get("stream") or "") for line in lines)
        assert client.images.inspect(tag).id
    finally:
        client.images.delete(tag)


def test_image_load_invalid_archive(client: Any) -> None:
    from docker_engine import APIError

    # The daemon rejects a body that is not an image archive, before or during the stream.
    with pytest.raises(APIError):
        client.images.load(b"this is not a tar archive" * 100).wait()
