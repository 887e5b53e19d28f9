"""Python names for API names: attributes, classes, groups and methods."""

import pytest

from generator import naming


@pytest.mark.parametrize(
    ("api_name", "expected"),
    [
        ("Id", "id"),
        ("HostConfig", "host_config"),
        ("HostIp", "host_ip"),
        ("CPUShares", "cpu_shares"),
        ("IPv4Address", "ipv4_address"),
        ("GlobalIPv6PrefixLen", "global_ipv6_prefix_len"),
        ("BlkioDeviceReadIOps", "blkio_device_read_iops"),
        ("IPAMConfig", "ipam_config"),
        ("OSType", "os_type"),
        ("SizeRootFs", "size_root_fs"),
        ("X-Registry-Auth", "x_registry_auth"),
        ("fromImage", "from_image"),
        ("pids_stats", "pids_stats"),
    ],
)
def test_snake_case(api_name: str, expected: str) -> None:
    assert naming.snake_case(api_name) == expected


def test_field_name_avoids_keywords_and_reserved_members() -> None:
    assert naming.field_name("from") == "from_"
    assert naming.field_name("extra") == "extra_"
    assert naming.field_name("to_dict") == "to_dict_"
    assert naming.field_name("Name") == "name"


@pytest.mark.parametrize(
    ("operation_id", "tag", "expected"),
    [
        ("ContainerList", "Container", "list"),
        ("ContainerCreate", "Container", "create"),
        ("ImageCreate", "Image", "create"),
        ("SystemPing", "System", "ping"),
        ("ContainerArchiveInfo", "Container", "archive_info"),
        ("PutContainerArchive", "Container", "put_archive"),
        ("ImageGetAll", "Image", "get_all"),
        ("BuildPrune", "Image", "build_prune"),
        ("ContainerExec", "Exec", "create"),
        ("ExecStart", "Exec", "start"),
        ("SwarmUnlockkey", "Swarm", "unlock_key"),
        ("GetPluginPrivileges", "Plugin", "privileges"),
    ],
)
def test_method_name(operation_id: str, tag: str, expected: str) -> None:
    assert naming.method_name(operation_id, tag) == expected


@pytest.mark.parametrize(
    ("tag", "attribute", "class_name"),
    [
        ("Container", "containers", "ContainersAPI"),
        ("System", "system", "SystemAPI"),
        ("Exec", "exec", "ExecAPI"),
        ("Plugin", "plugins", "PluginsAPI"),
    ],
)
def test_group_names(tag: str, attribute: str, class_name: str) -> None:
    assert naming.group_attribute(tag) == attribute
    assert naming.group_class(tag) == class_name
