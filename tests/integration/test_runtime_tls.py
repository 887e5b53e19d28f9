"""The runtime over TCP with TLS, against Engine 20.10 started with --tlsverify on 127.0.0.1.

The test makes its own CA, a server certificate for IP 127.0.0.1 and a client
certificate with openssl, so nothing outside the test's folder is trusted or changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from docker_engine import BaseClient, Operation, ResponseKind, TLSConfig
from docker_engine.errors import BadRequest, DockerConnectionError
from tests.testbed import Daemon, TestbedError, free_tcp_port

pytestmark = pytest.mark.daemon

SYSTEM_PING = Operation(
    operation_id="SystemPing", method="GET", path="/_ping", response=ResponseKind.TEXT
)

DOCKER_VARIABLES = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_API_VERSION",
    "DOCKER_TLS",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
)


class Client41(BaseClient):
    PACKAGE_API_VERSION = "1.41"


@dataclass
class TLSDaemon:
    daemon: Daemon
    port: int
    client_dir: Path  # ca.pem, cert.pem, key.pem for the client
    other_ca_dir: Path  # a CA that did not sign the daemon's certificate

    @property
    def tcp_host(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"


def openssl(directory: Path, *arguments: str) -> None:
    result = subprocess.run(
        ["openssl", *arguments], cwd=directory, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(arguments)} failed: {result.stderr}")


def make_ca(directory: Path, name: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    openssl(
        directory,
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip


def sign(ca: Path, directory: Path, name: str, extensions: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "extensions.cnf").write_text(extensions)
    openssl(
        directory,
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "key.pem", "-out", "request.csr", "-subj", f"/CN={name}",
    )  # fmt: skip
    openssl(
        directory,
        "x509", "-req", "-in", "request.csr", "-CA", str(ca / "ca.pem"),
        "-CAkey", str(ca / "ca-key.pem"), "-CAcreateserial", "-out", "cert.pem",
        "-days", "2", "-extfile", "extensions.cnf",
    )  # fmt: skip
    shutil.copy(ca / "ca.pem", directory / "ca.pem")


@pytest.fixture(scope="module")
def tls_daemon() -> Iterator[TLSDaemon]:
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed; it makes the test certificates")

    workdir = Path(tempfile.mkdtemp(prefix="tls-", dir="/tmp"))
    certificates = workdir / "certs"
    try:
        make_ca(certificates / "ca", "docker-engine test CA")
        sign(
            certificates / "ca",
            certificates / "server",
            "127.0.0.1",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        sign(certificates / "ca", certificates / "client", "client", "extendedKeyUsage=clientAuth\n")
        make_ca(certificates / "other", "an unrelated CA")
        shutil.copy(certificates / "client" / "cert.pem", certificates / "other" / "cert.pem")
        shutil.copy(certificates / "client" / "key.pem", certificates / "other" / "key.pem")

        port = free_tcp_port()
        server = certificates / "server"
        daemon = Daemon.start(
            "20.10",
            workdir / "daemon",
            name="20.10-tls",
            extra_args=[
                f"--host=tcp://127.0.0.1:{port}",
                "--tlsverify",
                f"--tlscacert={server / 'ca.pem'}",
                f"--tlscert={server / 'cert.pem'}",
                f"--tlskey={server / 'key.pem'}",
            ],
        )
    except (TestbedError, RuntimeError) as error:
        shutil.rmtree(workdir, ignore_errors=True)
        if os.environ.get("TESTBED_REQUIRE_DAEMONS", "") not in ("", "0"):
            pytest.fail(f"the TLS daemon cannot start: {error}")
        pytest.skip(f"the TLS daemon cannot start: {error}")

    try:
        yield TLSDaemon(daemon, port, certificates / "client", certificates / "other")
    finally:
        daemon.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in DOCKER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))


def test_tls_verify_from_environment(tls_daemon: TLSDaemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", tls_daemon.tcp_host)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tls_daemon.client_dir))
    client = Client41()
    assert client.call(SYSTEM_PING, {}) == "OK"
    assert client.api_version == "1.41"
    assert client.host.host_header == f"127.0.0.1:{tls_daemon.port}"


def test_tls_config_argument(tls_daemon: TLSDaemon) -> None:
    directory = tls_daemon.client_dir
    tls = TLSConfig(
        ca_cert=str(directory / "ca.pem"),
        client_cert=str(directory / "cert.pem"),
        client_key=str(directory / "key.pem"),
    )
    with Client41(tls_daemon.tcp_host, tls=tls) as client:
        for _ in range(3):
            assert client.call(SYSTEM_PING, {}) == "OK"


def test_wrong_ca_fails_verification(tls_daemon: TLSDaemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tls_daemon.other_ca_dir))
    with pytest.raises(DockerConnectionError) as raised:
        Client41(tls_daemon.tcp_host).call(SYSTEM_PING, {})
    message = str(raised.value)
    assert "failed verification" in message
    assert "DOCKER_CERT_PATH" in message
    assert raised.value.host == tls_daemon.tcp_host


def test_missing_client_certificate_rejected(tls_daemon: TLSDaemon) -> None:
    tls = TLSConfig(ca_cert=str(tls_daemon.client_dir / "ca.pem"))
    with pytest.raises(DockerConnectionError) as raised:
        Client41(tls_daemon.tcp_host, tls=tls).call(SYSTEM_PING, {})
    assert tls_daemon.tcp_host in str(raised.value)
    assert "client certificate" in str(raised.value)


def test_plain_http_to_tls_port(tls_daemon: TLSDaemon) -> None:
    with pytest.raises(BadRequest) as raised:
        Client41(tls_daemon.tcp_host, tls=False).call(SYSTEM_PING, {})
    assert "HTTPS" in raised.value.message
    assert "expects TLS" in raised.value.message


def test_context_with_tls_material(tls_daemon: TLSDaemon) -> None:
    config = Path(os.environ["DOCKER_CONFIG"])
    digest = hashlib.sha256(b"secure").hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": "secure", "Endpoints": {"docker": {"Host": tls_daemon.tcp_host}}})
    )
    shutil.copytree(tls_daemon.client_dir, config / "contexts" / "tls" / digest / "docker")
    (config / "config.json").write_text(json.dumps({"currentContext": "secure"}))

    client = Client41()
    assert client.call(SYSTEM_PING, {}) == "OK"
    assert client.host.tls is not None
    assert "context 'secure'" in client.host.source
