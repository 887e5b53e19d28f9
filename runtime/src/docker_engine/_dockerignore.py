"""`.dockerignore` patterns: which files of a build context are left out.

The rules are the Docker CLI's, which sends the build context:

- One pattern per line. Surrounding whitespace is dropped, and empty lines and lines
  starting with `#` are skipped.
- Paths are relative to the context's root, with `/` between components. A leading `/`
  is dropped, and `.` and `..` components are resolved as in a cleaned path.
- `*` matches any run of characters other than `/`, `?` one character other than `/`,
  `[...]` a character class, and `\\` makes the next character literal.
- `**` matches any number of directories, none included: `**/test` matches `test` and
  `a/b/test`, `dir/**` everything below `dir`, `a/**/b` both `a/b` and `a/x/y/b`.
- A line starting with `!` is an exception: it brings back what earlier lines excluded.
  The last pattern that matches a path decides.
- A pattern that matches a directory also matches everything below it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from docker_engine.errors import InvalidArgument

# Regular-expression characters that are literal in a pattern.
_REGEX_SPECIAL = set(".+()|{}$^")
_WILDCARDS = set("*?[\\")


@dataclass(frozen=True)
class IgnorePattern:
    """One cleaned line of a `.dockerignore` file."""

    text: str  # the pattern after cleaning, without its "!"
    exception: bool  # True for a "!" line, which brings paths back
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        """Return whether the pattern matches `path` itself (not its parents)."""
        return self.regex.fullmatch(path) is not None


class DockerIgnore:
    """The patterns of a `.dockerignore` file, and the decision for each path."""

    def __init__(self, patterns: Iterable[str] = (), *, source: str = "the patterns") -> None:
        self.source = source
        self.patterns: list[IgnorePattern] = []
        for number, line in enumerate(patterns, start=1):
            pattern = _parse_line(line, source, number)
            if pattern is not None:
                self.patterns.append(pattern)
        self.has_exceptions = any(pattern.exception for pattern in self.patterns)

    @classmethod
    def parse(cls, text: str, *, source: str = "the .dockerignore text") -> DockerIgnore:
        """Read the patterns from the text of a `.dockerignore` file."""
        return cls(text.splitlines(), source=source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> DockerIgnore:
        """Read a `.dockerignore` file; a missing file excludes nothing."""
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except FileNotFoundError:
            return cls(source=os.fspath(path))
        return cls.parse(text, source=os.fspath(path))

    def with_exceptions(self, *paths: str) -> DockerIgnore:
        """Return a copy that brings `paths` back, whatever the patterns exclude."""
        copy = DockerIgnore(source=self.source)
        copy.patterns = list(self.patterns)
        for path in paths:
            pattern = _parse_line("!" + escape(path), "an added exception", 0)
            assert pattern is not None
            copy.patterns.append(pattern)
        copy.has_exceptions = any(pattern.exception for pattern in copy.patterns)
        return copy

    def excludes(self, path: str) -> bool:
        """Return whether `path` (relative to the context, `/`-separated) is left out."""
        path = _clean(path)
        parents = path.split("/")[:-1]
        excluded = False
        for pattern in self.patterns:
            # An exclusion cannot change an excluded path, nor an exception an included one.
            if pattern.exception != excluded:
                continue
            matched = pattern.matches(path)
            if not matched:
                for depth in range(1, len(parents) + 1):
                    if pattern.matches("/".join(parents[:depth])):
                        matched = True
                        break
            if matched:
                excluded = not pattern.exception
        return excluded

    def may_include_below(self, directory: str) -> bool:
        """Return whether an exception could bring back a path below an excluded directory.

        A False result lets a walk skip the directory without reading it.
        """
        if not self.has_exceptions:
            return False
        prefix = _clean(directory) + "/"
        for pattern in self.patterns:
            if not pattern.exception:
                continue
            literal = _literal_prefix(pattern.text)
            # The exception can match below `directory` when its fixed start agrees with
            # the directory's path as far as both go.
            if literal.startswith(prefix) or prefix.startswith(literal):
                return True
        return False


def _parse_line(line: str, source: str, number: int) -> IgnorePattern | None:
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    exception = text.startswith("!")
    if exception:
        text = text[1:].strip()
        if not text:
            raise InvalidArgument(
                f"{source}, line {number}: the exception {line.strip()!r} has no pattern "
                "after '!': remove the line or add the pattern it should bring back"
            )
    text = _clean(text)
    if len(text) > 1 and text.startswith("/"):
        text = text[1:]
    try:
        regex = re.compile(_translate(text))
    except re.error as error:
        raise InvalidArgument(
            f"{source}, line {number}: the pattern {line.strip()!r} is invalid ({error}); "
            "check its [...] character classes"
        ) from None
    return IgnorePattern(text, exception, regex)


def _clean(path: str) -> str:
    """Clean a slash-separated path lexically: no empty, "." or resolvable ".." parts."""
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append(part)
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def _translate(pattern: str) -> str:
    """Translate a cleaned pattern into a regular expression for the whole path."""
    output: list[str] = []
    index = 0
    length = len(pattern)
    while index < length:
        character = pattern[index]
        index += 1
        if character == "*":
            if index < length and pattern[index] == "*":
                index += 1
                # "**/" is the same as "**", because the directories it matches include their slashes.
                if index < length and pattern[index] == "/":
                    index += 1
                output.append(".*" if index == length else "(?:.*/)?")
            else:
                output.append("[^/]*")
        elif character == "?":
            output.append("[^/]")
        elif character == "\\":
            if index < length:
                output.append(re.escape(pattern[index]))
                index += 1
            else:
                output.append(re.escape("\\"))
        elif character == "[":
            index = _translate_class(pattern, index, output)
        elif character in _REGEX_SPECIAL:
            output.append("\\" + character)
        else:
            output.append(character)
    return "".join(output)


def _translate_class(pattern: str, index: int, output: list[str]) -> int:
    """Translate the character class that starts at `index`, after its "["; return
    the index after its "]".

    As in Go's filepath.Match, "^" first negates the class, "-" makes a range, "\\"
    makes the next character literal, and a "]" first in the class is literal.
    """
    start = index - 1
    parts = ["["]
    if index < len(pattern) and pattern[index] == "^":
        parts.append("^")
        index += 1
    first = True
    while index < len(pattern):
        character = pattern[index]
        if character == "]" and not first:
            parts.append("]")
            output.append("".join(parts))
            return index + 1
        if character == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
        elif character == "-" and not first:
            parts.append("-")
            index += 1
        else:
            parts.append(re.escape(character))
            index += 1
        first = False
    raise re.error(f"the character class at character {start + 1} is not closed")


def escape(path: str) -> str:
    """Return a pattern that matches `path` literally."""
    return re.sub(r"([*?\[\\])", r"\\\1", path)


def _literal_prefix(pattern: str) -> str:
    """Return the start of `pattern` before its first wildcard."""
    for index, character in enumerate(pattern):
        if character in _WILDCARDS:
            return pattern[:index]
    return pattern
