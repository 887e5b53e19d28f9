"""The base class of every generated model: typed attributes over the daemon's JSON.

A generated model declares its fields as annotated class attributes, each defaulting to
`None`, and maps them to their wire names in `_wire_names`:

    class PortBinding(Model):
        _wire_names = {"host_ip": "HostIp", "host_port": "HostPort"}

        host_ip: str | None = None
        host_port: str | None = None

Decoding is lenient because daemons are: a field the model does not know is kept in
`extra` and sent back by `to_dict()`, an enum value the spec does not list is kept as the
string it is, `null` is accepted everywhere, and a value whose shape disagrees with the
declared type is kept as it came instead of raising. The declared types are resolved on the
first decode of each class, so importing a package of several hundred models stays cheap.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar, dataclass_transform

ModelT = TypeVar("ModelT", bound="Model")

_Decoder = Callable[[Any], Any]


def _keep(value: Any) -> Any:
    return value


@dataclass_transform(kw_only_default=True)
class Model:
    """A JSON object of the Engine API with typed attributes."""

    # Python attribute name to JSON member name, written out by the generator.
    _wire_names: ClassVar[dict[str, str]] = {}
    # Built on first decode: JSON member name to (attribute name, decoder).
    _decoders: ClassVar[dict[str, tuple[str, _Decoder]] | None] = None

    extra: dict[str, Any]

    def __init__(self, **values: Any) -> None:
        unknown = [name for name in values if name not in self._wire_names]
        if unknown:
            known = ", ".join(sorted(self._wire_names)) or "none"
            raise TypeError(
                f"{type(self).__name__} has no field {unknown[0]!r}; its fields are: {known}"
            )
        self.__dict__.update(values)
        self.extra = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._decoders = None

    @classmethod
    def from_dict(cls: type[ModelT], data: Mapping[str, Any]) -> ModelT:
        """Decode a JSON object into this model, keeping members it does not declare."""
        decoders = cls._decoders
        if decoders is None:
            decoders = _build_decoders(cls)
        instance = cls.__new__(cls)
        attributes = instance.__dict__
        extra: dict[str, Any] = {}
        for key, value in data.items():
            entry = decoders.get(key)
            if entry is None:
                extra[key] = value
            else:
                attributes[entry[0]] = entry[1](value)
        attributes["extra"] = extra
        return instance

    def to_dict(self) -> dict[str, Any]:
        """Encode this model as the JSON object the daemon expects, omitting unset fields."""
        result: dict[str, Any] = {}
        attributes = self.__dict__
        for name, wire_name in self._wire_names.items():
            value = attributes.get(name)
            if value is not None:
                result[wire_name] = encode(value)
        for key, value in self.extra.items():
            result.setdefault(key, encode(value))
        return result

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        attributes = self.__dict__
        shown = [
            f"{name}={attributes[name]!r}"
            for name in self._wire_names
            if attributes.get(name) is not None
        ]
        if self.extra:
            shown.append(f"extra={self.extra!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def encode(value: Any) -> Any:
    """Turn models, and containers of them, into plain JSON values."""
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    return value


def decode(annotation: Any, value: Any) -> Any:
    """Decode a JSON value as `annotation` (a model, `list[...]`, `dict[str, ...]`, ...)."""
    return decoder_for(annotation)(value)


def decoder_for(annotation: Any) -> _Decoder:
    """Build the function that decodes a JSON value into the type `annotation`."""
    if isinstance(annotation, type) and issubclass(annotation, Model):
        model = annotation

        def decode_model(value: Any) -> Any:
            return model.from_dict(value) if isinstance(value, dict) else value

        return decode_model

    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)

    if origin in (typing.Union, types.UnionType):
        members = [member for member in arguments if member is not type(None)]
        if len(members) == 1:
            inner = decoder_for(members[0])
            if inner is _keep:
                return _keep
            return lambda value: None if value is None else inner(value)
        return _keep

    if origin is list and arguments:
        item = decoder_for(arguments[0])
        if item is _keep:
            return _keep
        return lambda value: [item(v) for v in value] if isinstance(value, list) else value

    if origin is dict and len(arguments) == 2:
        item = decoder_for(arguments[1])
        if item is _keep:
            return _keep
        return (
            lambda value: {k: item(v) for k, v in value.items()}
            if isinstance(value, dict)
            else value
        )

    return _keep


def _build_decoders(cls: type[Model]) -> dict[str, tuple[str, _Decoder]]:
    # Only the annotations of generated classes count: Model's own (`extra`, the class
    # variables) would not evaluate in a generated module's namespace.
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, Model)) or klass is Model:
            continue
        namespace = vars(sys.modules[klass.__module__])
        for name, annotation in klass.__dict__.get("__annotations__", {}).items():
            hints[name] = eval(annotation, namespace) if isinstance(annotation, str) else annotation
    decoders = {
        wire_name: (name, decoder_for(hints.get(name, Any)))
        for name, wire_name in cls._wire_names.items()
    }
    cls._decoders = decoders
    return decoders
