"""Build contexts: what the tar stream contains, how it is cut, and what is left out."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from docker_engine._buildcontext import CHUNK_SIZE, BuildContext
from docker_engine._dockerignore import DockerIgnore
from docker_engine.errors import InvalidArgument


def write(path: Path, data: bytes | str = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


@pytest.fixture
def context_dir(tmp_path: Path) -> Path:
    root = tmp_path / "context"
    write(root / "Dockerfile", "FROM busybox:test\nCOPY . /app\n")
    write(root / ".dockerignore", "*.log\nsecrets\n!secrets/public.pem\nnode_modules\nDockerfile\n")
    write(root / "app.py", "print('hello')\n")
    write(root / "debug.log", "noise")
    write(root / "src" / "main.py", "main")
    write(root / "src" / "deep" / "trace.log", "kept: *.log is for the root only")
    write(root / "secrets" / "key.pem", "PRIVATE")
    write(root / "secrets" / "public.pem", "PUBLIC")
    write(root / "node_modules" / "big" / "index.js", "x" * 1000)
    os.symlink("app.py", root / "link-to-app")
    return root


def read_tar(chunks: list[bytes]) -> dict[str, tarfile.TarInfo | bytes]:
    archive = tarfile.open(fileobj=io.BytesIO(b"".join(chunks)), mode="r:")
    contents: dict[str, tarfile.TarInfo | bytes] = {}
    for member in archive.getmembers():
        if member.isfile():
            extracted = archive.extractfile(member)
            assert extracted is not None
            contents[member.name] = extracted.read()
        else:
            contents[member.name] = member
    return contents


def test_context_names_honour_dockerignore(context_dir: Path) -> None:
    context = BuildContext(context_dir)
    assert context.names() == [
        ".dockerignore",
        "Dockerfile",
        "app.py",
        "link-to-app",
        "secrets/public.pem",
        "src",
        "src/deep",
        "src/deep/trace.log",
        "src/main.py",
    ]
    assert context.dockerfile_name == "Dockerfile"


def test_context_tar_contents(context_dir: Path) -> None:
    contents = read_tar(list(BuildContext(context_dir)))
    assert contents["app.py"] == b"print('hello')\n"
    assert contents["secrets/public.pem"] == b"PUBLIC"
    assert contents["Dockerfile"] == b"FROM busybox:test\nCOPY . /app\n"
    assert "secrets/key.pem" not in contents
    assert "debug.log" not in contents
    assert not any(name.startswith("node_modules") for name in contents)

    link = contents["link-to-app"]
    assert isinstance(link, tarfile.TarInfo)
    assert link.issym()
    assert link.linkname == "app.py"
    directory = contents["src"]
    assert isinstance(directory, tarfile.TarInfo)
    assert directory.isdir()


def test_context_owner_is_root(context_dir: Path) -> None:
    archive = tarfile.open(fileobj=io.BytesIO(b"".join(BuildContext(context_dir))), mode="r:")
    for member in archive.getmembers():
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", ""), member.name


def test_context_archive_padded_to_records(context_dir: Path) -> None:
    data = b"".join(BuildContext(context_dir))
    assert len(data) % tarfile.RECORDSIZE == 0
    assert data.endswith(b"\0" * 1024)


def test_context_gzip(context_dir: Path) -> None:
    plain = b"".join(BuildContext(context_dir))
    compressed = b"".join(BuildContext(context_dir, gzip=True))
    assert compressed[:2] == b"\x1f\x8b"
    assert gzip.decompress(compressed) == plain


def test_context_large_file_in_bounded_chunks(tmp_path: Path) -> None:
    root = tmp_path / "big"
    write(root / "Dockerfile", "FROM scratch\n")
    payload = os.urandom(5 * 1024 * 1024 + 123)
    write(root / "blob.bin", payload)
    chunks = list(BuildContext(root))
    assert max(len(chunk) for chunk in chunks) < 2 * CHUNK_SIZE
    assert len(chunks) > 10
    assert read_tar(chunks)["blob.bin"] == payload


def test_context_dockerfile_in_excluded_directory(tmp_path: Path) -> None:
    root = tmp_path / "ctx"
    write(root / "build" / "Dockerfile.prod", "FROM scratch\n")
    write(root / "build" / "other.txt", "left out")
    write(root / ".dockerignore", "build\n")
    context = BuildContext(root, dockerfile="build/Dockerfile.prod")
    assert context.dockerfile_name == "build/Dockerfile.prod"
    assert context.names() == [".dockerignore", "build/Dockerfile.prod"]


def test_context_dockerfile_outside_directory(tmp_path: Path) -> None:
    root = tmp_path / "ctx"
    write(root / "app.py", "app")
    write(tmp_path / "elsewhere.Dockerfile", "FROM scratch\nCOPY app.py /\n")
    context = BuildContext(root, dockerfile=tmp_path / "elsewhere.Dockerfile")
    assert context.dockerfile_name.startswith(".dockerfile.")
    contents = read_tar(list(context))
    assert contents[context.dockerfile_name] == b"FROM scratch\nCOPY app.py /\n"
    assert contents["app.py"] == b"app"


def test_context_explicit_ignore_not_changed(context_dir: Path) -> None:
    ignore = DockerIgnore(["*"])
    context = BuildContext(context_dir, ignore=ignore)
    assert context.names() == [".dockerignore", "Dockerfile"]
    assert ignore.excludes("Dockerfile")


def test_context_missing_dockerfile(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="Dockerfile .* does not exist"):
        BuildContext(tmp_path)


def test_context_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="is not a directory"):
        BuildContext(tmp_path / "nope")


def test_context_file_shrinking_during_send(tmp_path: Path) -> None:
    root = tmp_path / "ctx"
    write(root / "Dockerfile", "FROM scratch\n")
    write(root / "zz-data.bin", b"y" * 1_000_000)
    chunks = iter(BuildContext(root))
    with open(root / "zz-data.bin", "r+b") as file:
        next(chunks)  # the walk has started; now the file shrinks
        file.truncate(10)
    with pytest.raises(InvalidArgument, match="shrank from 1000000 bytes"):
        list(chunks)
