"""Render a package plan through the jinja2 templates into the files of a version package.

A Python module is rendered as a list of top-level chunks (the module header, then one
chunk per class or constant) so that formatting can work chunk by chunk and reuse what
other versions already formatted: most classes are identical across adjacent API versions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from generator.plan import (
    FIRST_API_VERSION,
    ArgumentPlan,
    OperationPlan,
    PackagePlan,
    docstring_body,
)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# The version of the generated distributions and the runtime they require.
PACKAGE_VERSION = "0.1.0"
RUNTIME_VERSION = "0.1.0"
RUNTIME_NEXT_MINOR = "0.2"


@dataclass(frozen=True)
class PythonModule:
    """A module as chunks, formatted one by one and then joined.

    A chunk is a top-level statement, or a method of the class before it when its first
    line is indented. Top-level chunks are joined with `separator` (two blank lines between
    classes, as black puts them), methods with one blank line.
    """

    chunks: tuple[str, ...]
    separator: str = "\n\n\n"


@dataclass(frozen=True)
class RenderedPackage:
    """The files of one version package, relative to its folder."""

    version: str
    package: str
    modules: dict[str, PythonModule]  # formatted by black before writing
    files: dict[str, str]  # written as they are


def pystr(value: Any) -> str:
    """Return a Python string literal for `value` (JSON's escaping is valid Python)."""
    return json.dumps(str(value), ensure_ascii=False)


# Characters that a docstring writes as escapes: control characters other than newline and
# tab (NUL may not appear in Python source at all) and the Unicode line separators.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _escape_invisible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def docstring(text: str | None, indent: int, fallback: str | None = None) -> str:
    """Return a triple-quoted docstring for `text`, indented for a block at `indent`."""
    body = (text or fallback or "").strip()
    body = body.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    body = _INVISIBLE.sub(_escape_invisible, body.replace("\r\n", "\n"))
    if body.endswith('"'):
        body += " "
    lines = body.splitlines() or [""]
    pad = " " * indent
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    rest = "\n".join((pad + line) if line.strip() else "" for line in lines[1:])
    return f'"""{lines[0]}\n{rest}\n{pad}"""'


# Links into the swagger page's own anchors ("[inspect](#operation/ContainerInspect)") mean
# nothing in a Python docstring: the link text is kept, the target dropped.
_ANCHOR_LINK = re.compile(r"\[([^\]]+)\]\(#[^)]*\)")

# Response descriptions that only restate the status ("no error") say nothing about the
# returned value, so they are left out of "Returns:".
_STATUS_ONLY = frozenset({"no error", "success", "ok", "", "empty response", "no content"})


def clean_markdown(text: str | None) -> str:
    """Return spec prose fit for a docstring: swagger anchor links reduced to their text."""
    return _ANCHOR_LINK.sub(r"\1", (text or "").strip())


def _argument_doc(argument: ArgumentPlan, operation_since: str) -> str:
    """Return one "name: description" entry of "Args:", continuation lines indented."""
    lines = [line.rstrip() for line in clean_markdown(argument.doc).splitlines()]
    # Keep list items and paragraphs on their own lines; join wrapped prose.
    paragraphs: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            if paragraphs and paragraphs[-1]:
                paragraphs.append("")
        elif paragraphs and paragraphs[-1] and not stripped.startswith(("-", "*", "|")):
            paragraphs[-1] += " " + stripped
        else:
            paragraphs.append(stripped)
    while paragraphs and not paragraphs[-1]:
        paragraphs.pop()
    if argument.json_encoded:
        paragraphs.append("Pass a mapping (or a sequence); the client encodes it as JSON.")
    if argument.since not in (FIRST_API_VERSION, operation_since):
        paragraphs.append(f"API {argument.since} and later.")
    if not paragraphs:
        return f"    {argument.python_name}:"
    first, *rest = paragraphs
    entry = f"    {argument.python_name}: {first}"
    return "\n".join([entry, *(f"        {line}" if line else "" for line in rest)])


def method_docstring(operation: OperationPlan, indent: int = 8) -> str:
    """Return the docstring of a generated method: summary, description, arguments, result."""
    summary = clean_markdown(operation.summary or operation.operation_id)
    description = clean_markdown(operation.description)
    if description == summary:
        description = ""
    arguments = [
        _argument_doc(argument, operation.since)
        for argument in [
            *operation.path_arguments,
            *([operation.body] if operation.body else []),
            *operation.keyword_arguments,
        ]
    ]
    arguments.append(
        "    request_timeout: Seconds to wait for the daemon's answer; the client's default when None."
    )
    returns = " ".join(clean_markdown(operation.returns_doc).split())
    sections = [
        summary,
        description,
        f"{operation.http_method} {operation.path}"
        + (f", API {operation.since} and later." if operation.since != FIRST_API_VERSION else "."),
        "Deprecated by the API." if operation.deprecated else None,
        "Args:\n" + "\n".join(arguments),
        f"Returns:\n    {returns}" if returns.lower().rstrip(".") not in _STATUS_ONLY else None,
    ]
    return docstring(docstring_body(*sections), indent)


# The asyncio counterparts of the stream types that sync methods return.
_ASYNC_STREAM_TYPES = ("ByteStream", "FrameStream", "HijackedStream", "JSONStream", "ProgressStream")


def async_annotation(annotation: str, is_async: bool) -> str:
    """Return the return annotation of the async variant of a method."""
    if not is_async:
        return annotation
    for name in _ASYNC_STREAM_TYPES:
        if annotation == name or annotation.startswith(name + "["):
            return "Async" + annotation
    return annotation


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["pystr"] = pystr
    environment.filters["docstring"] = docstring
    environment.filters["method_docstring"] = method_docstring
    environment.filters["async_annotation"] = async_annotation
    environment.globals["first_version"] = FIRST_API_VERSION
    return environment


class Renderer:
    """Renders package plans; one instance reuses the compiled templates."""

    def __init__(self) -> None:
        self._environment = _environment()

    def _render(self, name: str, **context: Any) -> str:
        return self._environment.get_template(name).render(**context)

    def _client_module(self, plan: PackagePlan, is_async: bool) -> PythonModule:
        """Render `Client`, or `AsyncClient`, from the same templates."""
        context = {"plan": plan, "is_async": is_async, "prefix": "Async" if is_async else ""}
        chunks = [self._render("package/client/header.py.j2", **context)]
        for group in plan.groups:
            chunks.append(self._render("package/client/group.py.j2", group=group, **context))
            chunks.extend(
                self._render("package/client/method.py.j2", op=op, **context)
                for op in group.operations
            )
        chunks.append(self._render("package/client/client.py.j2", **context))
        return PythonModule(tuple(chunks))

    def render(self, plan: PackagePlan) -> RenderedPackage:
        """Render every file of the version package described by `plan`."""
        render = self._render
        models = PythonModule(
            (
                render("package/models/header.py.j2", plan=plan),
                *(render("package/models/class.py.j2", cls=cls) for cls in plan.classes),
                *((render("package/models/aliases.py.j2", plan=plan),) if plan.aliases else ()),
            )
        )
        operations = PythonModule(
            (
                render("package/operations/header.py.j2", plan=plan),
                *(render("package/operations/constant.py.j2", op=op) for op in plan.operations),
            ),
            separator="\n\n",
        )
        client, async_client = (self._client_module(plan, is_async) for is_async in (False, True))
        init = PythonModule((render("package/__init__.py.j2", plan=plan),))
        versions = {
            "package_version": PACKAGE_VERSION,
            "runtime_version": RUNTIME_VERSION,
            "runtime_next_minor": RUNTIME_NEXT_MINOR,
        }
        package = plan.package
        return RenderedPackage(
            version=plan.version,
            package=package,
            modules={
                f"{package}/__init__.py": init,
                f"{package}/models.py": models,
                f"{package}/_operations.py": operations,
                f"{package}/_client.py": client,
                f"{package}/_async_client.py": async_client,
            },
            files={
                "pyproject.toml": render("package/pyproject.toml.j2", plan=plan, **versions),
                "README.md": render("package/README.md.j2", plan=plan),
                f"{package}/py.typed": "",
            },
        )
