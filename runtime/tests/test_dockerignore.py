""".dockerignore matching: wildcards, `**`, exceptions, parents, cleaning and errors."""

from __future__ import annotations

import pytest

from docker_engine._dockerignore import DockerIgnore, escape
from docker_engine.errors import InvalidArgument

# (patterns, path, excluded)
CASES = [
    # "*" stays within one path component.
    (["*.md"], "README.md", True),
    (["*.md"], "docs/README.md", False),
    (["*/*.md"], "docs/README.md", True),
    (["*/*.md"], "a/b/README.md", False),
    # "**" spans any number of directories, none included.
    (["**/*.md"], "README.md", True),
    (["**/*.md"], "docs/a/b/README.md", True),
    (["**/*.md"], "docs/README.txt", False),
    (["a/**/b"], "a/b", True),
    (["a/**/b"], "a/x/b", True),
    (["a/**/b"], "a/x/y/b", True),
    (["a/**/b"], "ab", False),
    (["a/**/b"], "a/xb", False),
    (["dir/**"], "dir/x", True),
    (["dir/**"], "dir/x/y", True),
    (["dir/**"], "dir", False),
    (["**"], "anything/at/all", True),
    # "?" is one character other than "/".
    (["temp?"], "temp1", True),
    (["temp?"], "temp12", False),
    (["temp?"], "temp", False),
    (["a?b"], "a/b", False),
    # Character classes, ranges, negation and escapes.
    (["[a-c].txt"], "b.txt", True),
    (["[a-c].txt"], "d.txt", False),
    (["[^a].txt"], "a.txt", False),
    (["[^a].txt"], "b.txt", True),
    (["[]x].txt"], "].txt", True),
    (["\\*.txt"], "*.txt", True),
    (["\\*.txt"], "a.txt", False),
    (["file[0-9]"], "file7", True),
    # Characters that regular expressions treat specially are literal.
    (["a+b(c).txt"], "a+b(c).txt", True),
    (["a.txt"], "abtxt", False),
    (["$HOME"], "$HOME", True),
    # A directory pattern covers everything below it.
    (["docs"], "docs", True),
    (["docs"], "docs/a/b.txt", True),
    (["docs"], "docsx/a.txt", False),
    (["docs/"], "docs/a.txt", True),
    # Cleaning: leading "/", "./", "..", doubled slashes.
    (["/build"], "build/out.o", True),
    (["./build"], "build", True),
    (["a/../build"], "build", True),
    (["a//b"], "a/b", True),
    # The last matching pattern decides.
    (["*.md", "!README.md"], "README.md", False),
    (["*.md", "!README.md"], "CHANGES.md", True),
    (["!README.md", "*.md"], "README.md", True),
    (["docs", "!docs/keep.txt"], "docs/keep.txt", False),
    (["docs", "!docs/keep.txt"], "docs/drop.txt", True),
    (["docs", "!docs/keep.txt"], "docs", True),
    (["docs", "!docs/keep.txt", "docs/keep.txt"], "docs/keep.txt", True),
    (["**/*.log", "!important.log"], "important.log", False),
    (["**/*.log", "!important.log"], "sub/important.log", True),
    # An exception cannot bring back a path whose directory a later line excludes.
    (["!a/b", "a"], "a/b", True),
    # Comments, blank lines and surrounding whitespace.
    (["# secret.txt", "", "   "], "# secret.txt", False),
    (["  spaced.txt  "], "spaced.txt", True),
    (["! keep.txt", "*.txt"], "keep.txt", True),
    (["*.txt", "! keep.txt"], "keep.txt", False),
]


@pytest.mark.parametrize(("patterns", "path", "excluded"), CASES)
def test_dockerignore_cases(patterns: list[str], path: str, excluded: bool) -> None:
    assert DockerIgnore(patterns).excludes(path) is excluded


def test_dockerignore_parse_text() -> None:
    ignore = DockerIgnore.parse("# build output\nbuild\n\n*.pyc\n!keep.pyc\r\n")
    assert [p.text for p in ignore.patterns] == ["build", "*.pyc", "keep.pyc"]
    assert [p.exception for p in ignore.patterns] == [False, False, True]
    assert ignore.excludes("build/a.o")
    assert ignore.excludes("x.pyc")
    assert not ignore.excludes("keep.pyc")


def test_dockerignore_missing_file_excludes_nothing(tmp_path: object) -> None:
    ignore = DockerIgnore.from_file(f"{tmp_path}/.dockerignore")
    assert ignore.patterns == []
    assert not ignore.excludes("anything")


def test_dockerignore_bare_exclamation_rejected() -> None:
    with pytest.raises(InvalidArgument, match="line 2: the exception '!' has no pattern"):
        DockerIgnore.parse("a\n!\n", source=".dockerignore")


def test_dockerignore_unclosed_class_rejected() -> None:
    with pytest.raises(InvalidArgument, match="line 1: the pattern 'file\\[ab' is invalid"):
        DockerIgnore.parse("file[ab\n", source=".dockerignore")


def test_dockerignore_may_include_below() -> None:
    assert not DockerIgnore(["docs"]).may_include_below("docs")
    with_exception = DockerIgnore(["docs", "other", "!docs/keep.txt"])
    assert with_exception.may_include_below("docs")
    assert not with_exception.may_include_below("other")
    assert DockerIgnore(["x", "!**/keep"]).may_include_below("x")
    assert DockerIgnore(["x", "!x*/keep"]).may_include_below("xy")


def test_dockerignore_with_exceptions_copies() -> None:
    ignore = DockerIgnore(["*"])
    copy = ignore.with_exceptions("Dockerfile", "we*ird[1].txt")
    assert ignore.excludes("Dockerfile")
    assert not copy.excludes("Dockerfile")
    assert not copy.excludes("we*ird[1].txt")
    assert copy.excludes("weXird1.txt")


def test_dockerignore_escape_literal() -> None:
    assert escape("a*b?c[d]\\e") == "a\\*b\\?c\\[d]\\\\e"
