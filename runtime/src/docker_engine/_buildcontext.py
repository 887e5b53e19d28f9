"""Build contexts: a directory packed as a tar stream for `POST /build`, read as it is sent.

`BuildContext` walks the directory, leaves out what `.dockerignore` excludes and yields
the tar archive in chunks, so a context of any size is sent chunked with memory bounded
by one chunk. Entries get owner 0:0 and no user or group names, as the Docker CLI sends
them, so that the image does not depend on who ran the build.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from docker_engine._dockerignore import DockerIgnore
from docker_engine.errors import InvalidArgument

logger = logging.getLogger("docker_engine")

CHUNK_SIZE = 256 * 1024
_BLOCK = tarfile.BLOCKSIZE
_RECORD = tarfile.RECORDSIZE


@dataclass(frozen=True)
class ContextEntry:
    """One file, directory or symbolic link of a build context."""

    name: str  # the path in the archive, relative and `/`-separated
    path: str  # the path on disk
    kind: str  # "file", "directory" or "symlink"


class BuildContext:
    """A directory as a build context, iterable as the chunks of its tar archive.

    Pass it as the body of `images.build` and pass `dockerfile_name` as its
    `dockerfile` parameter. `dockerfile` is the Dockerfile's path, relative to
    `directory` or absolute; one outside the directory is added to the archive under a
    generated name. The Dockerfile and `.dockerignore` are sent even when
    `.dockerignore` excludes them, because the daemon reads both. With `gzip`, the
    archive is compressed. Each iteration walks the directory again.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        dockerfile: str | os.PathLike[str] = "Dockerfile",
        gzip: bool = False,
        ignore: DockerIgnore | None = None,
    ) -> None:
        self.directory = os.path.abspath(directory)
        if not os.path.isdir(self.directory):
            raise InvalidArgument(
                f"the build context {os.fspath(directory)!r} is not a directory: pass the "
                "directory that contains the files the Dockerfile copies",
                parameter="directory",
            )
        self.gzip = gzip
        if ignore is None:
            ignore = DockerIgnore.from_file(os.path.join(self.directory, ".dockerignore"))

        dockerfile_path = os.path.join(self.directory, dockerfile)
        if not os.path.isfile(dockerfile_path):
            raise InvalidArgument(
                f"the Dockerfile {dockerfile_path!r} does not exist: pass dockerfile= with "
                "its path, relative to the build context or absolute",
                parameter="dockerfile",
            )
        relative = os.path.relpath(dockerfile_path, self.directory)
        self._extra_dockerfile: str | None = None
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            # The daemon reads the Dockerfile from the archive, so one from outside the
            # directory travels in it under a name that cannot clash with the context's.
            self.dockerfile_name = f".dockerfile.{secrets.token_hex(10)}"
            self._extra_dockerfile = dockerfile_path
            self.ignore = ignore.with_exceptions(".dockerignore")
        else:
            self.dockerfile_name = relative.replace(os.sep, "/")
            self.ignore = ignore.with_exceptions(".dockerignore", self.dockerfile_name)

    def entries(self) -> Iterator[ContextEntry]:
        """Walk the directory and yield what the archive contains, parents first."""
        yield from self._walk(self.directory, "")
        if self._extra_dockerfile is not None:
            yield ContextEntry(self.dockerfile_name, self._extra_dockerfile, "file")

    def names(self) -> list[str]:
        """Return the archive's entry names, in archive order."""
        return [entry.name for entry in self.entries()]

    def __iter__(self) -> Iterator[bytes]:
        chunks = self._tar_chunks()
        if not self.gzip:
            yield from chunks
            return
        # wbits 31: a gzip header and trailer around the deflate stream.
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        for chunk in chunks:
            compressed = compressor.compress(chunk)
            if compressed:
                yield compressed
        yield compressor.flush()

    def _walk(self, directory: str, prefix: str) -> Iterator[ContextEntry]:
        try:
            names = sorted(os.listdir(directory))
        except OSError as error:
            raise InvalidArgument(
                f"cannot read the build context directory {directory!r}: {error.strerror}"
            ) from None
        for name in names:
            path = os.path.join(directory, name)
            relative = prefix + name
            try:
                status = os.lstat(path)
            except FileNotFoundError:
                continue  # removed during the walk
            excluded = self.ignore.excludes(relative)

            if stat.S_ISDIR(status.st_mode):
                if not excluded:
                    yield ContextEntry(relative, path, "directory")
                if not excluded or self.ignore.may_include_below(relative):
                    yield from self._walk(path, relative + "/")
            elif excluded:
                continue
            elif stat.S_ISREG(status.st_mode):
                yield ContextEntry(relative, path, "file")
            elif stat.S_ISLNK(status.st_mode):
                yield ContextEntry(relative, path, "symlink")
            else:
                logger.debug("build context: skipping %s, which is not a file, directory or link", path)

    def _tar_chunks(self) -> Iterator[bytes]:
        """Yield the tar archive in chunks of about CHUNK_SIZE bytes."""
        pending: list[bytes] = []
        pending_size = 0
        total = 0
        for entry in self.entries():
            for piece in _entry_pieces(entry):
                pending.append(piece)
                pending_size += len(piece)
                total += len(piece)
                if pending_size >= CHUNK_SIZE:
                    yield b"".join(pending)
                    pending, pending_size = [], 0

        # Two zero blocks end the archive, which is then padded to a whole record.
        end = 2 * _BLOCK
        end += (-(total + end)) % _RECORD
        pending.append(b"\0" * end)
        yield b"".join(pending)


def _entry_pieces(entry: ContextEntry) -> Iterator[bytes]:
    """Yield the tar header of an entry, then its content and padding."""
    status = os.lstat(entry.path) if entry.kind != "file" else os.stat(entry.path)
    info = tarfile.TarInfo(entry.name)
    info.mode = stat.S_IMODE(status.st_mode)
    info.mtime = int(status.st_mtime)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if entry.kind == "directory":
        info.type = tarfile.DIRTYPE
        info.name += "/"
    elif entry.kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(entry.path)
    else:
        info.type = tarfile.REGTYPE
        info.size = status.st_size
    yield info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    if entry.kind != "file":
        return

    remaining = info.size
    with open(entry.path, "rb") as file:
        while remaining:
            data = file.read(min(CHUNK_SIZE, remaining))
            if not data:
                raise InvalidArgument(
                    f"{entry.path} shrank from {info.size} bytes while the build context was "
                    "sent: do not change the context during a build"
                )
            remaining -= len(data)
            yield data
    padding = (-info.size) % _BLOCK
    if padding:
        yield b"\0" * padding
