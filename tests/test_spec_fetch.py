"""Tests for generator.fetch: copying and downloading spec files into the checked cache."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator import cli
from generator.errors import GeneratorError
from generator.fetch import ensure_specs, fetch_entries, fetch_specs
from generator.manifest import Manifest
from tests.specs_support import MINI_VERSIONS, SHARED_SPECS, TEST_SPECS, make_manifest


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A folder with the miniature specs, which the tests may change."""
    folder = tmp_path / "source"
    folder.mkdir()
    for version in MINI_VERSIONS:
        shutil.copy(TEST_SPECS / f"v{version}.yaml", folder)
    return folder


@pytest.fixture
def manifest(source: Path) -> Manifest:
    return make_manifest(source)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SPECS_CACHE", str(folder))
    monkeypatch.delenv("SPECS_FROM", raising=False)
    return folder


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_base(source: Path) -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 that serves the source folder."""
    handler = functools.partial(_QuietHandler, directory=str(source))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_fetch_from_folder_copies(
    source: Path, manifest: Manifest, cache: Path
) -> None:
    results = fetch_entries(str(source), None, manifest=manifest)

    assert [result.version for result in results] == ["9.1", "9.10"]
    assert [result.status for result in results] == ["copied", "copied"]
    for version in MINI_VERSIONS:
        cached = cache / f"v{version}.yaml"
        assert cached.read_bytes() == (source / f"v{version}.yaml").read_bytes()
    assert not list(cache.glob("*.tmp"))


def test_fetch_reuses_matching_cache(
    source: Path, manifest: Manifest, cache: Path
) -> None:
    fetch_specs(str(source), None, manifest=manifest)

    again = fetch_entries(str(source), None, manifest=manifest)
    assert [result.status for result in again] == ["cached", "cached"]

    forced = fetch_entries(str(source), ["9.1"], force=True, manifest=manifest)
    assert [result.status for result in forced] == ["copied"]


def test_fetch_replaces_corrupt_cache(
    source: Path, manifest: Manifest, cache: Path
) -> None:
    fetch_specs(str(source), ["9.1"], manifest=manifest)
    (cache / "v9.1.yaml").write_text("swagger: '2.0'\n# changed by hand\n")

    results = fetch_entries(str(source), ["9.1"], manifest=manifest)

    assert results[0].status == "copied"
    assert (cache / "v9.1.yaml").read_bytes() == (source / "v9.1.yaml").read_bytes()


def test_fetch_checksum_mismatch(source: Path, manifest: Manifest, cache: Path) -> None:
    (source / "v9.10.yaml").write_text("swagger: '2.0'\n")
    actual = hashlib.sha256(b"swagger: '2.0'\n").hexdigest()

    with pytest.raises(GeneratorError) as caught:
        fetch_specs(str(source), ["9.10"], manifest=manifest)

    message = str(caught.value)
    assert "checksum mismatch" in message
    assert str(source / "v9.10.yaml") in message
    assert manifest.entries["9.10"].sha256 in message
    assert f"got {actual}" in message
    assert not (cache / "v9.10.yaml").exists()
    assert not list(cache.glob("*.tmp"))


def test_fetch_missing_file_names_path(
    source: Path, manifest: Manifest, cache: Path
) -> None:
    (source / "v9.10.yaml").unlink()

    with pytest.raises(GeneratorError) as caught:
        fetch_specs(str(source), None, manifest=manifest)

    assert "not found" in str(caught.value)
    assert str(source / "v9.10.yaml") in str(caught.value)


def test_fetch_unknown_version(source: Path, manifest: Manifest, cache: Path) -> None:
    with pytest.raises(GeneratorError, match="unknown API version 9.2"):
        fetch_specs(str(source), ["9.2"], manifest=manifest)


def test_fetch_missing_source_folder(
    tmp_path: Path, manifest: Manifest, cache: Path
) -> None:
    with pytest.raises(GeneratorError, match="source folder not found"):
        fetch_specs(str(tmp_path / "nowhere"), None, manifest=manifest)


def test_fetch_from_http_server(
    http_base: str, manifest: Manifest, cache: Path
) -> None:
    results = fetch_entries(http_base, None, manifest=manifest)

    assert [result.status for result in results] == ["downloaded", "downloaded"]
    assert results[0].origin == f"{http_base}/v9.1.yaml"
    assert (cache / "v9.10.yaml").exists()


def test_fetch_url_template(http_base: str, manifest: Manifest, cache: Path) -> None:
    results = fetch_entries(
        http_base + "/{file_name}?commit={commit}", ["9.1"], manifest=manifest
    )

    assert results[0].status == "downloaded"
    assert results[0].origin == f"{http_base}/v9.1.yaml?commit={manifest.commit}"


def test_fetch_http_missing_file(
    http_base: str, source: Path, manifest: Manifest, cache: Path
) -> None:
    (source / "v9.1.yaml").unlink()

    with pytest.raises(GeneratorError) as caught:
        fetch_specs(http_base, ["9.1"], manifest=manifest)

    assert "not found" in str(caught.value)
    assert f"{http_base}/v9.1.yaml returned HTTP 404" in str(caught.value)


def test_fetch_unreachable_url(manifest: Manifest, cache: Path) -> None:
    # A port that was free a moment ago: connecting to it is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(GeneratorError) as caught:
        fetch_specs(f"http://127.0.0.1:{port}/specs", ["9.1"], manifest=manifest)

    assert f"cannot reach http://127.0.0.1:{port}/specs/v9.1.yaml" in str(caught.value)
    assert "refused" in str(caught.value).lower()


def test_fetch_times_out(manifest: Manifest, cache: Path) -> None:
    # A listening socket that never responds: the connection is made but no response comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"

        with pytest.raises(GeneratorError, match="timed out after 0.3 s"):
            fetch_entries(url, ["9.1"], manifest=manifest, timeout=0.3)


def test_fetch_reads_specs_from_env(
    source: Path, manifest: Manifest, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECS_FROM", str(source))

    results = fetch_entries(None, ["9.1"], manifest=manifest)

    assert results[0].origin == str(source / "v9.1.yaml")


def test_ensure_specs_leaves_source_alone(
    source: Path, manifest: Manifest, cache: Path, tmp_path: Path
) -> None:
    fetch_specs(str(source), ["9.1"], manifest=manifest)

    # Everything requested is cached, so the (missing) source is never read.
    paths = ensure_specs(str(tmp_path / "nowhere"), ["9.1"], manifest=manifest)
    assert paths == [cache / "v9.1.yaml"]

    # A missing file is fetched.
    paths = ensure_specs(str(source), None, manifest=manifest)
    assert paths == [cache / "v9.1.yaml", cache / "v9.10.yaml"]
    assert (cache / "v9.10.yaml").exists()


@pytest.mark.skipif(
    not SHARED_SPECS.is_dir(),
    reason=f"spec mirror {SHARED_SPECS} is not on this machine",
)
def test_fetch_command_reports_progress(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["fetch", "--from", str(SHARED_SPECS), "1.41", "1.25"])
    assert status == 0
    status = cli.main(["fetch", "--from", str(SHARED_SPECS), "1.41"])
    assert status == 0

    err = capsys.readouterr().err.splitlines()
    assert (
        err[0]
        == f"1.25  copied from {SHARED_SPECS / 'v1.25.yaml'}"
        + err[0][err[0].index(" (") :]
    )
    assert err[1].startswith("1.41  copied from ")
    assert "2 spec file(s)" in err[2]
    assert "2 copied" in err[2]
    assert err[3] == "1.41  cached"
    assert "1 cached" in err[4]


def test_fetch_command_unknown_version(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["fetch", "--from", str(TEST_SPECS), "1.24"])

    assert status == 2
    assert "error: unknown API version 1.24" in capsys.readouterr().err
