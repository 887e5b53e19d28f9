from __future__ import annotations

import os

import pytest

from docker_engine._hosts import parse_host, resolve_host
from docker_engine._tls import TLSConfig
from docker_engine.errors import ConfigurationError

HOST_TABLE = [
    # url, tls, scheme, hostname, port, host header, socket path, user
    ("tcp://[2001:db8::10]:2376", False, "tcp", "2001:db8::10", 2376, "[2001:db8::10]:2376", None, None),
    ("tcp://[2001:db8::10]", False, "tcp", "2001:db8::10", 2375, "[2001:db8::10]:2375", None, None),
    ("tcp://[2001:db8::10]", True, "tcp", "2001:db8::10", 2376, "[2001:db8::10]:2376", None, None),
    ("tcp://localhost", False, "tcp", "localhost", 2375, "localhost:2375", None, None),
    ("tcp://localhost", True, "tcp", "localhost", 2376, "localhost:2376", None, None),
    ("tcp://127.0.0.1:12375", False, "tcp", "127.0.0.1", 12375, "127.0.0.1:12375", None, None),
    ("http://127.0.0.1:2375", False, "tcp", "127.0.0.1", 2375, "127.0.0.1:2375", None, None),
    ("unix:///var/run/docker.sock", False, "unix", None, None, "localhost", "/var/run/docker.sock", None),
    ("ssh://user@host:2222", False, "ssh", "host", 2222, "localhost", None, "user"),
    ("ssh://host", False, "ssh", "host", None, "localhost", None, None),
    ("ssh://admin@[2001:db8::10]:22", False, "ssh", "2001:db8::10", 22, "localhost", None, "admin"),
]


@pytest.mark.parametrize(
    "url, tls, scheme, hostname, port, host_header, socket_path, user", HOST_TABLE
)
def test_host_parsing_table(
    tmp_path: object,
    url: str,
    tls: bool,
    scheme: str,
    hostname: str | None,
    port: int | None,
    host_header: str,
    socket_path: str | None,
    user: str | None,
) -> None:
    host = parse_host(url, "a test", TLSConfig() if tls else None)
    assert host.scheme == scheme
    assert host.hostname == hostname
    assert host.port == port
    assert host.host_header == host_header
    assert host.socket_path == socket_path
    assert host.user == user
    assert host.url == url
    assert host.source == "a test"


def test_https_host_uses_tls_with_system_cas() -> None:
    host = parse_host("https://docker.example:2376", "a test", None)
    assert host.tls is not None
    assert host.tls.verify
    assert host.tls.ca_cert is None
    assert parse_host("https://docker.example", "a test", None).port == 2376


def test_http_host_never_uses_tls() -> None:
    assert parse_host("http://localhost", "a test", TLSConfig()).tls is None


@pytest.mark.parametrize(
    "url, expected",
    [
        ("tcp://2001:db8::10:2376", "tcp://[2001:db8::10]:2376"),
        ("tcp://2001:db8::10", "brackets"),
        ("npipe:////./pipe/docker_engine", "Windows named pipe"),
        ("localhost:2375", "no scheme"),
        ("ftp://host", "not supported"),
        ("tcp://host:0", "1 to 65535"),
        ("tcp://host:99999", "1 to 65535"),
        ("tcp://host:abc", "1 to 65535"),
        ("tcp://host:", "port after ':' is missing"),
        ("tcp://", "host name is missing"),
        ("tcp://:2375", "host name is missing"),
        ("tcp://host:2375/base", "no path"),
        ("tcp://user@host", "only ssh:// hosts take a user"),
        ("tcp://[2001:db8::10", "no closing bracket"),
        ("unix://", "socket path is missing"),
        ("ssh://-oProxyCommand=x", "is invalid"),
        ("ssh://-l@host", "user name"),
    ],
)
def test_host_parsing_rejects(url: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_host(url, "the DOCKER_HOST environment variable", None)
    message = str(raised.value)
    assert expected in message
    assert repr(url) in message
    assert "the DOCKER_HOST environment variable" in message


def test_resolution_order_argument_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://from-variable:2375")
    host = resolve_host("unix:///from/argument.sock", None)
    assert host.socket_path == "/from/argument.sock"
    assert host.source == "the base_url argument"


def test_resolution_docker_host_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://from-variable:2375")
    monkeypatch.setenv("DOCKER_CONTEXT", "ignored-because-docker-host-wins")
    host = resolve_host(None, None)
    assert host.hostname == "from-variable"
    assert host.source == "the DOCKER_HOST environment variable"


def test_resolution_default_socket() -> None:
    host = resolve_host(None, None)
    assert host.url == "unix:///var/run/docker.sock"
    assert host.source == "the default"
    assert host.describe() == "unix:///var/run/docker.sock (from the default)"


def _write_certificates(directory: str, names: tuple[str, ...] = ("ca.pem", "cert.pem", "key.pem")) -> None:
    os.makedirs(directory, exist_ok=True)
    for name in names:
        with open(os.path.join(directory, name), "w") as file:
            file.write("not a real certificate\n")


def test_tls_verify_variable_reads_cert_path(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    certificates = os.path.join(str(tmp_path), "certs")
    _write_certificates(certificates)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", certificates)
    host = resolve_host("tcp://127.0.0.1", None)
    assert host.port == 2376
    assert host.tls is not None
    assert host.tls.verify
    assert host.tls.ca_cert == os.path.join(certificates, "ca.pem")
    assert host.tls.client_cert == os.path.join(certificates, "cert.pem")
    assert host.tls.client_key == os.path.join(certificates, "key.pem")


def test_tls_argument_false_overrides_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    assert resolve_host("tcp://127.0.0.1", False).tls is None


def test_tls_verify_without_ca_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    certificates = os.path.join(str(tmp_path), "certs")
    _write_certificates(certificates, ("cert.pem", "key.pem"))
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", certificates)
    with pytest.raises(ConfigurationError) as raised:
        resolve_host("tcp://127.0.0.1", None)
    assert os.path.join(certificates, "ca.pem") in str(raised.value)
    assert "DOCKER_CERT_PATH" in str(raised.value)


def test_tls_missing_directory_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    missing = os.path.join(str(tmp_path), "nowhere")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", missing)
    with pytest.raises(ConfigurationError, match="does not exist"):
        resolve_host("tcp://127.0.0.1", None)


def test_tls_certificate_without_key_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    certificates = os.path.join(str(tmp_path), "certs")
    _write_certificates(certificates, ("ca.pem", "cert.pem"))
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", certificates)
    with pytest.raises(ConfigurationError, match="key.pem"):
        resolve_host("tcp://127.0.0.1", None)


def test_tls_variable_without_verify(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    certificates = os.path.join(str(tmp_path), "certs")
    os.makedirs(certificates)
    monkeypatch.setenv("DOCKER_TLS", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", certificates)
    host = resolve_host("tcp://127.0.0.1", None)
    assert host.tls is not None
    assert not host.tls.verify
    assert host.port == 2376


def test_tls_config_rejects_missing_files(tmp_path: object) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        TLSConfig(ca_cert=os.path.join(str(tmp_path), "missing.pem"))
