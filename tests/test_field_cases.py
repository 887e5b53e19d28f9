"""Responses that real daemons send but the published specs describe differently.

Each case comes from a public report against the specs; every generated package must decode
the real shape. The corrections that make this work are in specs/corrections.yaml.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from tests.generated_packages import generated_versions, import_package

VERSIONS = generated_versions()

pytestmark = pytest.mark.skipif(not VERSIONS, reason="generated/ is empty; run `make generate` first")


def models_of(version: str) -> ModuleType:
    package = import_package(version)
    return importlib.import_module(package.__name__ + ".models")


@pytest.mark.parametrize("version", VERSIONS)
def test_port_bindings_decode_lists_and_nulls(version: str) -> None:
    models = models_of(version)
    host_config = models.HostConfig.from_dict(
        {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "443/tcp": None}}
    )
    bindings = host_config.port_bindings
    assert bindings["443/tcp"] is None
    (binding,) = bindings["80/tcp"]
    assert isinstance(binding, models.PortBinding)
    assert binding.host_port == "8080"
    assert binding.host_ip == ""
    assert host_config.to_dict() == {
        "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "443/tcp": None}
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_container_list_with_missing_and_null_fields(version: str) -> None:
    package = import_package(version)
    models = models_of(version)
    operations = importlib.import_module(package.__name__ + "._operations")
    assert operations.CONTAINER_LIST.result_type == "list[ContainerSummary]"

    from docker_engine._model import decode

    listed = decode(
        list[models.ContainerSummary],
        [
            {"Id": "a1", "Names": ["/a"], "Ports": None, "State": "running"},
            {"Id": "b2", "Names": ["/b"], "SizeRw": 12, "SizeRootFs": 34},
            {"Id": "c3", "Ports": [{"PrivatePort": 80, "Type": "tcp"}], "Health": {"Status": "ok"}},
        ],
    )
    assert [type(item) for item in listed] == [models.ContainerSummary] * 3
    assert listed[0].ports is None
    assert listed[0].size_rw is None
    assert listed[1].size_rw == 12
    assert listed[1].size_root_fs == 34
    assert listed[2].ports[0].private_port == 80
    # A member this version's spec may lack is kept, not dropped.
    assert listed[2].to_dict()["Health"] == {"Status": "ok"}


@pytest.mark.parametrize("version", VERSIONS)
def test_system_df_lists_containers_as_objects(version: str) -> None:
    models = models_of(version)
    if "Containers" not in models.SystemDataUsageResponse._wire_names.values():
        # From 1.52 disk usage is reported per kind, with counts instead of a plain list.
        usage = models.SystemDataUsageResponse.from_dict(
            {"ContainerUsage": {"ActiveCount": 1, "TotalCount": 2, "Items": [{"Id": "a1"}]}}
        )
        assert isinstance(usage.container_usage, models.ContainersDiskUsage)
        assert usage.container_usage.total_count == 2
        assert usage.container_usage.items == [{"Id": "a1"}]
        return
    usage = models.SystemDataUsageResponse.from_dict(
        {"Containers": [{"Id": "a1", "Names": ["/a"], "SizeRw": 5}], "LayersSize": 10}
    )
    (container,) = usage.containers
    assert isinstance(container, models.ContainerSummary)
    assert container.size_rw == 5
