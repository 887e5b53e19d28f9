"""Registry credentials, TLS settings and logs: what the client sends where, and what it logs.

Registry credentials (the X-Registry-Auth and X-Registry-Config headers, the body of
`POST /auth`) must not cross the network in plain text: a tcp:// host without TLS that is
not a loopback address gets none unless the client was created with
allow_insecure_credentials=True. Such a host is played by the name "docker.test", which
these tests resolve to 127.0.0.1 themselves, so nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docker_engine import BaseClient, InvalidArgument, NotFound, TLSConfig
from docker_engine._auth import DOCKER_HUB_ADDRESS, encode_header, registry_auth_header
from docker_engine._hosts import parse_host, resolve_host
from tests.generated_packages import REPO_ROOT, import_package

sys.path.insert(0, str(REPO_ROOT / "runtime" / "tests"))

from fake_daemon import Answer, FakeDaemon  # noqa: E402
from stream_daemon import StreamDaemon  # noqa: E402

# The secrets these tests send; none may appear in a log record or an error message.
PASSWORD = "pa55-Wo7d-for-tests"
TOKEN = "identity-token-4f9c2b"
CONFIG_PASSWORD = "config-file-s3cret"
HELPER_SECRET = "helper+secret/value"

# A host name that is not a loopback address; the tests resolve it to 127.0.0.1.
REMOTE_NAME = "docker.test"

DOCKER_VARIABLES = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_API_VERSION",
    "DOCKER_TLS",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in DOCKER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))


@pytest.fixture
def short_tmp() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="de-sec-", dir="/tmp")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def fake_tcp(short_tmp: str) -> Iterator[FakeDaemon]:
    """A fake daemon on 127.0.0.1 that accepts pushes and auth checks."""
    daemon = FakeDaemon(
        short_tmp, api_version="1.41", min_api_version="1.12", tcp_address="127.0.0.1"
    )
    progress = b'{"status":"The push refers to repository [registry.test/app]"}\n'
    daemon.route("POST", "/images/registry.test/app/push", Answer(200, progress))
    daemon.route("POST", "/auth", Answer(200, {"Status": "Login Succeeded"}))
    daemon.route("POST", "/build", Answer(200, b'{"stream":"Step 1/1 : FROM scratch\\n"}\n'))
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture
def remote_name(monkeypatch: pytest.MonkeyPatch) -> str:
    """Resolve REMOTE_NAME to 127.0.0.1 in this process, without asking any resolver."""
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *arguments: Any, **keywords: Any) -> Any:
        if host == REMOTE_NAME:
            host = "127.0.0.1"
        return original(host, *arguments, **keywords)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return REMOTE_NAME


def remote_host(daemon: FakeDaemon) -> str:
    port = daemon.host.rsplit(":", 1)[1]
    return f"tcp://{REMOTE_NAME}:{port}"


def client_1_41(host: str, **options: Any) -> Any:
    return import_package("1.41").Client(host, version="1.41", **options)


def password_header() -> str:
    return registry_auth_header(
        "registry.test/app", username="alice", password=PASSWORD, server_address="registry.test"
    )


# --- which hosts count as remote ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "remote"),
    [
        ("tcp://127.0.0.1:2375", False),
        ("tcp://127.8.9.10:2375", False),
        ("tcp://[::1]:2375", False),
        ("tcp://[::ffff:127.0.0.1]:2375", False),
        ("tcp://localhost:2375", False),
        ("http://localhost", False),
        ("tcp://10.1.2.3:2375", True),
        ("tcp://[2001:db8::7]:2375", True),
        ("tcp://docker.example.com:2375", True),
        ("http://docker.example.com", True),
        ("https://docker.example.com", False),
        ("unix:///var/run/docker.sock", False),
        ("ssh://alice@docker.example.com", False),
    ],
)
def test_host_insecure_remote_table(url: str, remote: bool) -> None:
    assert parse_host(url, "the test", None).insecure_remote is remote


def test_host_with_tls_is_not_insecure(tmp_path: Path) -> None:
    tls = TLSConfig(verify=True, source="the test")
    assert parse_host("tcp://10.1.2.3:2376", "the test", tls).insecure_remote is False


# --- credentials over plain HTTP ---------------------------------------------------------


def test_push_credentials_rejected_remote(fake_tcp: FakeDaemon, remote_name: str) -> None:
    client = client_1_41(remote_host(fake_tcp))
    header = password_header()

    with pytest.raises(InvalidArgument) as caught:
        client.images.push("registry.test/app", x_registry_auth=header)

    message = str(caught.value)
    assert "X-Registry-Auth" in message
    assert f"tcp://{REMOTE_NAME}" in message
    assert "allow_insecure_credentials=True" in message
    assert "Nothing was sent" in message
    assert PASSWORD not in message
    assert header not in message
    assert fake_tcp.requests == []


def test_token_credentials_rejected_remote(fake_tcp: FakeDaemon, remote_name: str) -> None:
    client = client_1_41(remote_host(fake_tcp))
    header = encode_header({"identitytoken": TOKEN, "serveraddress": "registry.test"})

    with pytest.raises(InvalidArgument):
        client.images.push("registry.test/app", x_registry_auth=header)
    assert fake_tcp.requests == []


def test_build_config_rejected_remote(fake_tcp: FakeDaemon, remote_name: str) -> None:
    client = client_1_41(remote_host(fake_tcp))
    header = encode_header(
        {
            "registry.test": {"serveraddress": "registry.test"},
            DOCKER_HUB_ADDRESS: {"username": "bob", "password": PASSWORD},
        }
    )

    with pytest.raises(InvalidArgument, match="X-Registry-Config"):
        client.images.build(b"", x_registry_config=header)
    assert fake_tcp.requests == []


def test_auth_body_rejected_remote(fake_tcp: FakeDaemon, remote_name: str) -> None:
    client = client_1_41(remote_host(fake_tcp))

    with pytest.raises(InvalidArgument, match="request body") as caught:
        client.system.auth({"username": "alice", "password": PASSWORD, "serveraddress": "r.test"})
    assert PASSWORD not in str(caught.value)
    assert fake_tcp.requests == []


def test_anonymous_auth_sent_remote(fake_tcp: FakeDaemon, remote_name: str) -> None:
    # "{}" and a user name without a secret carry no credentials.
    client = client_1_41(remote_host(fake_tcp))
    for header in (encode_header({}), encode_header({"username": "alice"})):
        client.images.push("registry.test/app", x_registry_auth=header).wait()

    received = [request.headers["X-Registry-Auth"] for request in fake_tcp.requests]
    assert received == [encode_header({}), encode_header({"username": "alice"})]


def test_undecodable_header_rejected_remote(fake_tcp: FakeDaemon, remote_name: str) -> None:
    # A registry header the client cannot read is treated as carrying credentials.
    client = client_1_41(remote_host(fake_tcp))
    with pytest.raises(InvalidArgument):
        client.images.push("registry.test/app", x_registry_auth="not base64 json!")
    assert fake_tcp.requests == []


def test_credentials_sent_when_allowed(
    fake_tcp: FakeDaemon, remote_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_1_41(remote_host(fake_tcp), allow_insecure_credentials=True)
    header = password_header()

    with caplog.at_level(logging.DEBUG):
        client.images.push("registry.test/app", x_registry_auth=header).wait()
        client.images.push("registry.test/app", x_registry_auth=header).wait()

    assert [request.headers["X-Registry-Auth"] for request in fake_tcp.requests] == [header] * 2
    warnings = [r for r in caplog.records if "allow_insecure_credentials" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert f"tcp://{REMOTE_NAME}" in warnings[0].getMessage()


def test_connect_passes_credentials_opt_in(fake_tcp: FakeDaemon, remote_name: str) -> None:
    import docker_engine

    import_package("1.41")
    client = docker_engine.connect(
        remote_host(fake_tcp), version="1.41", allow_insecure_credentials=True
    )
    client.images.push("registry.test/app", x_registry_auth=password_header()).wait()
    assert len(fake_tcp.requests) == 1

    guarded = docker_engine.connect(remote_host(fake_tcp), version="1.41")
    with pytest.raises(InvalidArgument):
        guarded.images.push("registry.test/app", x_registry_auth=password_header())
    assert len(fake_tcp.requests) == 1


def test_async_client_guards_credentials(fake_tcp: FakeDaemon, remote_name: str) -> None:
    package = import_package("1.41")
    header = password_header()

    async def push(allow: bool) -> None:
        client = package.AsyncClient(
            remote_host(fake_tcp), version="1.41", allow_insecure_credentials=allow
        )
        try:
            stream = await client.images.push("registry.test/app", x_registry_auth=header)
            await stream.wait()
        finally:
            await client.aclose()

    with pytest.raises(InvalidArgument, match="X-Registry-Auth") as caught:
        asyncio.run(push(allow=False))
    assert PASSWORD not in str(caught.value)
    assert fake_tcp.requests == []

    asyncio.run(push(allow=True))
    assert [request.headers["X-Registry-Auth"] for request in fake_tcp.requests] == [header]


def test_credentials_sent_to_loopback(fake_tcp: FakeDaemon) -> None:
    client = client_1_41(fake_tcp.host)
    client.images.push("registry.test/app", x_registry_auth=password_header()).wait()
    client.system.auth({"username": "alice", "password": PASSWORD})
    assert [request.path for request in fake_tcp.requests] == [
        "/images/registry.test/app/push",
        "/auth",
    ]


def test_header_line_break_rejected(fake_tcp: FakeDaemon) -> None:
    client = client_1_41(fake_tcp.host)
    value = base64.b64encode(PASSWORD.encode()).decode() + "\r\nX-Injected: 1"

    with pytest.raises(InvalidArgument, match="line break") as caught:
        client.images.push("registry.test/app", x_registry_auth=value)
    assert value not in str(caught.value)
    assert fake_tcp.requests == []


# --- TLS ---------------------------------------------------------------------------------


def make_client_key(directory: Path, mode: int) -> tuple[str, str]:
    """Write a self-signed client certificate and its key with `mode`; return their paths."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed; it makes the test certificate")
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
            "-days", "2", "-subj", "/CN=client",
        ],
        cwd=directory,
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    os.chmod(directory / "key.pem", mode)
    return str(directory / "cert.pem"), str(directory / "key.pem")


def test_tls_verifies_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    https = parse_host("https://docker.example.com", "the test", None)
    assert https.tls is not None
    assert https.tls.verify is True

    cert, key = make_client_key(tmp_path / "certs", 0o600)
    shutil.copy(cert, tmp_path / "certs" / "ca.pem")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path / "certs"))
    host = resolve_host("tcp://docker.example.com:2376", None)
    assert host.tls is not None
    context = host.tls.ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_tls_verify_off_warns(caplog: pytest.LogCaptureFixture) -> None:
    tls = TLSConfig(verify=False, source="the tls argument")
    with caplog.at_level(logging.WARNING, logger="docker_engine"):
        context = tls.ssl_context()
    assert context.verify_mode == ssl.CERT_NONE
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert "verification of the daemon's certificate is turned off" in messages[0]
    assert "the tls argument" in messages[0]


def test_docker_tls_without_verify_warns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_client_key(tmp_path / "certs", 0o600)
    monkeypatch.setenv("DOCKER_TLS", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path / "certs"))
    host = resolve_host("tcp://docker.example.com:2376", None)
    assert host.tls is not None
    with caplog.at_level(logging.WARNING, logger="docker_engine"):
        host.tls.ssl_context()
    assert any("turned off" in record.getMessage() for record in caplog.records)


def test_tls_verify_on_does_not_warn(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cert, key = make_client_key(tmp_path / "certs", 0o600)
    tls = TLSConfig(ca_cert=cert, client_cert=cert, client_key=key, source="the test")
    with caplog.at_level(logging.DEBUG):
        tls.ssl_context()
    assert caplog.records == []


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_tls_key_readable_by_others_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int
) -> None:
    cert, key = make_client_key(tmp_path / "certs", mode)
    tls = TLSConfig(ca_cert=cert, client_cert=cert, client_key=key, source="the test")
    with caplog.at_level(logging.WARNING, logger="docker_engine"):
        tls.ssl_context()
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert key in messages[0]
    assert "readable by users other than its owner" in messages[0]
    assert "chmod 600" in messages[0]


# --- nothing secret in any log -----------------------------------------------------------


class CaptureEverything(logging.Handler):
    """Keep every record of every logger, at every level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        found = []
        for record in self.records:
            found.append(formatter.format(record))
            found.append(repr(record.args))
        return found


@pytest.fixture
def every_log() -> Iterator[CaptureEverything]:
    root = logging.getLogger()
    handler = CaptureEverything()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # Loggers with a level of their own would drop DEBUG records before the root handler gets them.
    levels = {}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            levels[name] = logger.level
            logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def install_helper(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put docker-credential-testing on PATH; it returns HELPER_SECRET for registry.test."""
    directory.mkdir()
    script = directory / "docker-credential-testing"
    script.write_text(
        "#!/bin/sh\n"
        "read -r server || true\n"
        'if [ "$1 $server" = "get registry.test" ]; then\n'
        f'  echo \'{{"ServerURL":"registry.test","Username":"carol","Secret":"{HELPER_SECRET}"}}\'\n'
        "else\n"
        '  echo "credentials not found in native keychain"; exit 1\n'
        "fi\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")


def test_no_secret_in_any_log(
    fake_tcp: FakeDaemon,
    remote_name: str,
    short_tmp: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    every_log: CaptureEverything,
) -> None:
    # Credentials from the config file, inline and through a credential helper.
    config = {
        "auths": {
            "other.test": {"auth": base64.b64encode(f"dave:{CONFIG_PASSWORD}".encode()).decode()}
        },
        "credHelpers": {"registry.test": "testing"},
    }
    (Path(os.environ["DOCKER_CONFIG"]) / "config.json").write_text(json.dumps(config))
    install_helper(tmp_path / "bin", monkeypatch)
    from_helper = registry_auth_header("registry.test/app")
    from_config = registry_auth_header("other.test/app")
    explicit = password_header()
    token = encode_header({"identitytoken": TOKEN})

    # Authenticated calls to a loopback daemon, allowed and rejected ones to a remote one.
    client = client_1_41(fake_tcp.host)
    for header in (from_helper, from_config, explicit, token):
        client.images.push("registry.test/app", x_registry_auth=header).wait()
    client.system.auth({"username": "alice", "password": PASSWORD})
    client.images.build(
        b"", x_registry_config=encode_header({"registry.test": {"password": PASSWORD}})
    )
    allowed = client_1_41(remote_host(fake_tcp), allow_insecure_credentials=True)
    allowed.images.push("registry.test/app", x_registry_auth=explicit).wait()
    rejected = client_1_41(remote_host(fake_tcp))
    with pytest.raises(InvalidArgument) as caught:
        rejected.system.auth({"username": "alice", "password": PASSWORD})
    errors = [str(caught.value)]

    # TLS setup with a key that others can read and verification off, then a request
    # over TLS with that client certificate.
    cert, key = make_client_key(tmp_path / "certs", 0o644)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    tls_daemon = StreamDaemon(short_tmp, tls_context=server_context).start()
    try:
        tls = TLSConfig(client_cert=cert, client_key=key, verify=False, source="the test")
        tls_client = BaseClient(tls_daemon.host, version="1.41", tls=tls)
        with pytest.raises(NotFound):
            tls_client.call(import_package("1.41")._operations.SYSTEM_INFO, {})
    finally:
        tls_daemon.stop()

    secrets = [PASSWORD, TOKEN, CONFIG_PASSWORD, HELPER_SECRET, explicit, token, from_helper]
    secrets += [from_config, base64.b64encode(f"dave:{CONFIG_PASSWORD}".encode()).decode()]
    key_lines = [line for line in Path(key).read_text().splitlines() if "-----" not in line]
    secrets += key_lines
    texts = every_log.texts() + errors
    assert any("turned off" in text for text in texts), "the TLS warning was not captured"
    assert any("asking docker-credential-testing" in text for text in texts)
    for secret in secrets:
        leaked = [text for text in texts if secret in text]
        assert not leaked, f"a secret appears in {leaked}"
