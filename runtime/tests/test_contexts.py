from __future__ import annotations

import hashlib
import json
import os

import pytest

from docker_engine._hosts import resolve_host
from docker_engine.errors import ConfigurationError


def _store_context(
    config: str, name: str, host: str, *, skip_tls_verify: bool = False, tls: bool = False
) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta_directory = os.path.join(config, "contexts", "meta", digest)
    os.makedirs(meta_directory)
    meta = {
        "Name": name,
        "Metadata": {"Description": "test"},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_tls_verify}},
    }
    meta_path = os.path.join(meta_directory, "meta.json")
    with open(meta_path, "w") as file:
        json.dump(meta, file)
    if tls:
        tls_directory = os.path.join(config, "contexts", "tls", digest, "docker")
        os.makedirs(tls_directory)
        for file_name in ("ca.pem", "cert.pem", "key.pem"):
            with open(os.path.join(tls_directory, file_name), "w") as file:
                file.write("placeholder\n")
    return meta_path


def _set_current(config: str, name: str) -> str:
    path = os.path.join(config, "config.json")
    with open(path, "w") as file:
        json.dump({"auths": {}, "currentContext": name}, file)
    return path


def test_current_context_from_config_json() -> None:
    config = os.environ["DOCKER_CONFIG"]
    meta_path = _store_context(config, "remote", "tcp://127.0.0.1:23750")
    config_path = _set_current(config, "remote")
    host = resolve_host(None, None)
    assert host.hostname == "127.0.0.1"
    assert host.port == 23750
    assert meta_path in host.source
    assert f"currentContext in {config_path}" in host.source
    assert host.tls is None


def test_docker_context_variable_beats_config(monkeypatch: pytest.MonkeyPatch) -> None:
    config = os.environ["DOCKER_CONFIG"]
    _store_context(config, "remote", "tcp://127.0.0.1:23750")
    _store_context(config, "other", "unix:///run/other.sock")
    _set_current(config, "remote")
    monkeypatch.setenv("DOCKER_CONTEXT", "other")
    host = resolve_host(None, None)
    assert host.socket_path == "/run/other.sock"
    assert "DOCKER_CONTEXT" in host.source


def test_docker_host_beats_context(monkeypatch: pytest.MonkeyPatch) -> None:
    config = os.environ["DOCKER_CONFIG"]
    _store_context(config, "remote", "tcp://127.0.0.1:23750")
    _set_current(config, "remote")
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/env.sock")
    assert resolve_host(None, None).socket_path == "/run/env.sock"


def test_default_context_means_default_socket() -> None:
    _set_current(os.environ["DOCKER_CONFIG"], "default")
    assert resolve_host(None, None).source == "the default"


def test_missing_context_names_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONTEXT", "ghost")
    with pytest.raises(ConfigurationError) as raised:
        resolve_host(None, None)
    message = str(raised.value)
    assert "'ghost'" in message
    assert "DOCKER_CONTEXT" in message
    assert hashlib.sha256(b"ghost").hexdigest() in message


def test_context_tls_material() -> None:
    config = os.environ["DOCKER_CONFIG"]
    _store_context(config, "secure", "tcp://127.0.0.1", skip_tls_verify=True, tls=True)
    _set_current(config, "secure")
    host = resolve_host(None, None)
    assert host.tls is not None
    assert host.port == 2376
    assert not host.tls.verify
    assert host.tls.ca_cert is not None
    assert host.tls.ca_cert.endswith(os.path.join("docker", "ca.pem"))


def test_context_bad_host_names_context() -> None:
    config = os.environ["DOCKER_CONFIG"]
    meta_path = _store_context(config, "broken", "tcp://2001:db8::1:2376")
    _set_current(config, "broken")
    with pytest.raises(ConfigurationError) as raised:
        resolve_host(None, None)
    assert "brackets" in str(raised.value)
    assert meta_path in str(raised.value)


def test_malformed_config_json() -> None:
    path = os.path.join(os.environ["DOCKER_CONFIG"], "config.json")
    with open(path, "w") as file:
        file.write("{not json")
    with pytest.raises(ConfigurationError) as raised:
        resolve_host(None, None)
    assert path in str(raised.value)
    assert "not valid JSON" in str(raised.value)


def test_context_without_docker_endpoint() -> None:
    config = os.environ["DOCKER_CONFIG"]
    meta_path = _store_context(config, "empty", "")
    _set_current(config, "empty")
    with pytest.raises(ConfigurationError, match="no Docker endpoint") as raised:
        resolve_host(None, None)
    assert meta_path in str(raised.value)
