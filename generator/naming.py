"""Python names for the API's names: snake_case members, PascalCase classes, method names."""

from __future__ import annotations

import keyword
import re

# Words split where a lower-case letter or digit meets an upper-case one, and before the
# last capital of an acronym run ("CPUShares" -> CPU Shares). "IPv4", "IPv6" and "IOps" are
# single words in the API's names ("IPv4Address" -> ipv4_address).
_WORD = re.compile(r"IPv[46]|IOps|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*[a-z]?(?![a-z])|[0-9]+|[a-z]+")

# Names that models and groups use for themselves: a field with one of these names gets a
# trailing underscore so it does not shadow the method.
_RESERVED_MEMBERS = frozenset({"extra", "from_dict", "to_dict"})

# The public attributes of the runtime's BaseClient and AsyncBaseClient: a group named like
# one of them would replace it on the generated client (a tag "Call" would break every method).
RESERVED_CLIENT_ATTRIBUTES = frozenset(
    {"aclose", "api_version", "call", "close", "daemon_version", "host", "negotiate", "negotiation_reason"}
)

# Module-level names that the generated models module imports or that its annotations use.
# A class or alias with one of these names would change what the annotations mean: a
# definition named "list" would turn every `list[...]` into a subscript of that class.
RESERVED_MODULE_NAMES = frozenset(
    {
        "Any", "Mapping", "Sequence", "Model", "BinaryBody", "annotations", "models",
        "bool", "bytes", "dict", "float", "int", "list", "str",
    }
)

# Groups whose tag is a countable noun are named in the plural: `client.containers`.
_PLURAL_TAGS = frozenset(
    {"Container", "Image", "Network", "Volume", "Node", "Service", "Task", "Secret", "Config", "Plugin"}
)

# Method names the tag-stripping rule gets wrong or leaves empty.
_METHOD_OVERRIDES = {
    "ContainerExec": "create",  # tagged Exec; "container" would read as a noun
    "Session": "start",
    "SwarmUnlockkey": "unlock_key",
    "GetPluginPrivileges": "privileges",
}


def words(name: str) -> list[str]:
    """Split an API name into words: "HostConfig" -> ["Host", "Config"]."""
    found: list[str] = []
    for chunk in re.split(r"[^A-Za-z0-9]+", name):
        found.extend(_WORD.findall(chunk))
    return found


def snake_case(name: str) -> str:
    """Return the snake_case form of an API name: "PortBindings" -> "port_bindings"."""
    result = "_".join(word.lower() for word in words(name))
    if not result:
        result = "value"
    if result[0].isdigit():
        result = "n" + result
    return result


def pascal_case(name: str) -> str:
    """Return the PascalCase form of an API name, keeping acronyms: "ipam_config" -> "IpamConfig"."""
    result = "".join(word[:1].upper() + word[1:] for word in words(name))
    if not result:
        return "Value"
    if result[0].isdigit():
        result = "N" + result
    return result


def safe_identifier(name: str) -> str:
    """Append an underscore to a name that is a Python keyword or a reserved member."""
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _RESERVED_MEMBERS:
        return name + "_"
    return name


def field_name(wire_name: str) -> str:
    """Return the attribute name of a model field for its JSON member name."""
    return safe_identifier(snake_case(wire_name))


def parameter_name(wire_name: str) -> str:
    """Return the Python argument name of a query, header or path parameter."""
    return safe_identifier(snake_case(wire_name))


def class_name(definition: str) -> str:
    """Return the Python class (or alias) name of a definition: "HostConfig" stays, "1st.item" -> "N1stItem"."""
    name = definition if definition.isidentifier() else pascal_case(definition)
    if keyword.iskeyword(name) or name in RESERVED_MODULE_NAMES:
        return name + "_"
    return name


def group_attribute(tag: str) -> str:
    """Return the client attribute for a tag: "Container" -> "containers"."""
    name = snake_case(tag)
    name = name + "s" if tag in _PLURAL_TAGS else name
    if name in RESERVED_CLIENT_ATTRIBUTES:
        return name + "_"
    return safe_identifier(name)


def group_class(tag: str) -> str:
    """Return the class name of a tag's group: "Container" -> "ContainersAPI"."""
    return pascal_case(group_attribute(tag)) + "API"


def method_name(operation_id: str, tag: str) -> str:
    """Return the method name of an operation: its operationId without the tag's noun.

    "ContainerList" in Container -> "list"; "PutContainerArchive" -> "put_archive".
    """
    if operation_id in _METHOD_OVERRIDES:
        return _METHOD_OVERRIDES[operation_id]
    tag_words = [word.lower() for word in words(tag)]
    parts = [word.lower() for word in words(operation_id)]
    for start in range(len(parts) - len(tag_words) + 1):
        if parts[start : start + len(tag_words)] == tag_words:
            remaining = parts[:start] + parts[start + len(tag_words) :]
            if remaining:
                parts = remaining
            break
    name = "_".join(parts)
    if not name or name[0].isdigit():
        # "2fast" or "--": snake_case makes an identifier of any name.
        name = snake_case(operation_id)
    return safe_identifier(name)
