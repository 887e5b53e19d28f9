"""Start and stop real Docker daemons for the tests, side by side on one machine.

Three engines are installed by ``scripts/install-engines.sh``: 20.10 (API 1.41, Debian
bookworm's docker.io), 26.1 (API 1.45, trixie's) and 28 (API 1.51 or newer, whatever sid
has). Each :class:`Daemon` gets its own unix socket, data root, exec root, pidfile and
log under one work directory, so several run at once without touching
``/var/run/docker.sock`` or ``/var/lib/docker``.

This module uses only the standard library (``http.client`` over an ``AF_UNIX`` socket)
so that a bug in the code under test cannot break the testbed that checks it.

Command line, run from the repository root::

    python -m tests.testbed up [SETUP...]   # start daemons under .cache/testbed/, print their hosts
    python -m tests.testbed status          # print the hosts of the daemons that run
    python -m tests.testbed down [SETUP...] # stop them

Setups are the engine names plus ``28-min-1.44``, the 28 engine that rejects clients
older than API 1.44 as Docker Engine 29.0 to 29.2 do.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import io
import json
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
ENGINES_DIR = REPO_ROOT / ".cache" / "engines"
CLI_WORK_ROOT = REPO_ROOT / ".cache" / "testbed"

# sun_path in struct sockaddr_un has 108 bytes, one of which is the terminating NUL.
MAX_SOCKET_PATH_BYTES = 107

# The longest socket path that a daemon creates below its work directory: the managed
# containerd's ttrpc socket in the exec root.
LONGEST_SOCKET_SUFFIX = "/exec/containerd/containerd.sock.ttrpc"

# Where dockerd looks for a containerd of the system. If this socket file exists,
# a dockerd started without --containerd uses it instead of starting its own.
SYSTEM_CONTAINERD_SOCKET = Path("/run/containerd/containerd.sock")


# --- Engines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    """A Docker Engine release installed by scripts/install-engines.sh."""

    name: str
    suite: str
    default_dockerd: Path
    api_version: str
    # True for sid's engine: sid moves, so its API version is a lower bound.
    newer_api_allowed: bool = False

    @property
    def info_path(self) -> Path:
        return ENGINES_DIR / self.name / "info"

    def read_info(self) -> dict[str, str]:
        """Read the ``key=value`` lines that the install script wrote, or nothing if absent."""
        if not self.info_path.is_file():
            return {}
        info = {}
        for line in self.info_path.read_text().splitlines():
            key, separator, value = line.partition("=")
            if separator:
                info[key] = value
        return info

    @property
    def dockerd(self) -> Path:
        """The dockerd binary: the path in the info file, else the default location."""
        recorded = self.read_info().get("dockerd")
        return Path(recorded) if recorded else self.default_dockerd

    def binary_dirs(self) -> list[Path]:
        """Directories with the engine's helpers (docker-proxy, docker-init), searched first."""
        root = self.dockerd.parent.parent
        return [root / "sbin", root / "bin"]

    def matches_api_version(self, version: str) -> bool:
        """Tell whether a daemon of this engine may report ``version`` as its API version."""
        if self.newer_api_allowed:
            return parse_api_version(version) >= parse_api_version(self.api_version)
        return version == self.api_version


ENGINES: dict[str, Engine] = {
    "20.10": Engine("20.10", "bookworm", Path("/usr/sbin/dockerd"), "1.41"),
    "26.1": Engine("26.1", "trixie", ENGINES_DIR / "26.1" / "usr" / "sbin" / "dockerd", "1.45"),
    "28": Engine(
        "28", "sid", ENGINES_DIR / "28" / "usr" / "sbin" / "dockerd", "1.51", newer_api_allowed=True
    ),
}


@dataclass(frozen=True)
class Setup:
    """A named way to run an engine: the engine plus environment variables for dockerd."""

    name: str
    engine: str
    env: Mapping[str, str] = field(default_factory=dict)


# DOCKER_MIN_API_VERSION=1.44 makes dockerd reject older API versions with 400, as
# Docker Engine 29.0 to 29.2 do by default.
SETUPS: dict[str, Setup] = {
    "20.10": Setup("20.10", "20.10"),
    "26.1": Setup("26.1", "26.1"),
    "28": Setup("28", "28"),
    "28-min-1.44": Setup("28-min-1.44", "28", {"DOCKER_MIN_API_VERSION": "1.44"}),
}


def parse_api_version(version: str) -> tuple[int, ...]:
    """Turn ``"1.41"`` into ``(1, 41)`` so that versions compare as numbers."""
    return tuple(int(part) for part in version.split("."))


# --- HTTP over a unix socket ---------------------------------------------------------------


class TestbedError(Exception):
    """A daemon of the testbed could not be started, reached, used or stopped."""

    __test__ = False  # not a test class, despite the name


class DaemonStartError(TestbedError):
    """dockerd exited, or did not respond to ``GET /_ping`` in time. The message ends with its log."""


class UnixHTTPConnection(http.client.HTTPConnection):
    """An HTTP/1.1 connection to a server that listens on a unix socket."""

    def __init__(self, socket_path: str | os.PathLike[str], timeout: float = 60.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = os.fspath(socket_path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


@dataclass(frozen=True)
class Response:
    """A complete response from the Docker Engine API."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def json_stream(self) -> list[Any]:
        """Decode a body of JSON objects separated by newlines, as progress streams are."""
        return [json.loads(line) for line in self.body.splitlines() if line.strip()]

    @property
    def message(self) -> str:
        """The ``message`` field of an error body, or the body as text."""
        try:
            return str(self.json()["message"])
        except (ValueError, KeyError, TypeError):
            return self.body.decode(errors="replace")


def request(
    socket_path: str | os.PathLike[str],
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Response:
    """Send one request on a new connection and read the whole response."""
    all_headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        all_headers.setdefault("Content-Type", "application/json")

    connection = UnixHTTPConnection(socket_path, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return Response(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


# --- Daemons -------------------------------------------------------------------------------


def _process_is_running(pid: int) -> bool:
    """Tell whether ``pid`` names a process that has not exited (zombies count as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The state letter follows the command name, which is in parentheses and may contain spaces.
    state = stat.rpartition(")")[2].split()[0]
    return state not in ("Z", "X")


def _command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _read_pid(pidfile: Path) -> int | None:
    try:
        text = pidfile.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def _mounts_below(directory: Path) -> list[str]:
    """List the mount points at or below ``directory``, from /proc/self/mountinfo."""
    prefix = os.fspath(directory.resolve())
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        # Field 5 is the mount point, with spaces and other special characters octal-escaped.
        mount_point = line.split()[4].encode().decode("unicode_escape")
        if mount_point == prefix or mount_point.startswith(prefix + "/"):
            mounts.append(mount_point)
    return mounts


class Daemon:
    """A dockerd of the testbed, with its own socket, data root, exec root and log.

    Create one with :meth:`start`, or with :meth:`attach` for one that an earlier process
    started in the same work directory. All files live below ``workdir``:
    ``docker.sock``, ``docker.pid``, ``dockerd.log``, ``daemon.json``, ``data/`` and
    ``exec/``, plus ``testbed.json`` that records the engine for :meth:`attach`.
    """

    def __init__(self, engine: Engine, workdir: Path, name: str) -> None:
        self.engine = engine
        self.workdir = workdir
        self.name = name
        self.socket_path = workdir / "docker.sock"
        self.pidfile = workdir / "docker.pid"
        self.log_path = workdir / "dockerd.log"
        self.config_path = workdir / "daemon.json"
        self.state_path = workdir / "testbed.json"
        self.data_root = workdir / "data"
        self.exec_root = workdir / "exec"
        self.api_version = ""
        self.min_api_version = ""
        self.engine_version = ""
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"<Daemon {self.name} engine={self.engine.name} host={self.host}>"

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        """The address for DOCKER_HOST: ``unix://`` and the socket path."""
        return f"unix://{self.socket_path}"

    @classmethod
    def start(
        cls,
        engine: Engine | str,
        workdir: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        name: str | None = None,
        timeout: float = 60.0,
    ) -> Daemon:
        """Start dockerd in ``workdir`` and wait until ``GET /_ping`` succeeds.

        ``env`` adds variables to dockerd's environment, which inherits this process's
        environment without its ``DOCKER_*`` variables. Raises :class:`DaemonStartError`
        with the end of dockerd's log when it exits or does not respond within ``timeout``
        seconds, and :class:`TestbedError` when the binary is missing, the paths are too
        long for unix sockets or a daemon already runs in ``workdir``.
        """
        if isinstance(engine, str):
            engine = ENGINES[engine]
        workdir = Path(workdir).resolve()
        daemon = cls(engine, workdir, name or engine.name)
        daemon._check_startable()

        workdir.mkdir(parents=True, exist_ok=True)
        daemon.socket_path.unlink(missing_ok=True)
        # An empty configuration file, so that /etc/docker/daemon.json does not apply.
        daemon.config_path.write_text("{}\n")
        daemon.state_path.write_text(
            json.dumps({"engine": engine.name, "name": daemon.name}) + "\n"
        )

        # Each daemon starts its own managed containerd (no --containerd), with its socket
        # and state in the exec root. Isolated containerds keep the daemons independent: a
        # daemon that crashes or is killed takes down only its own containerd, and no two
        # daemons see each other's containers in a shared "moby" namespace. They cost about
        # 40 MB of memory each, which a handful of daemons can afford.
        if SYSTEM_CONTAINERD_SOCKET.exists():
            # Limitation: dockerd then shares the system containerd instead of starting its
            # own, because it takes an existing socket there as a running containerd.
            logger.warning(
                "%s exists, so dockerd %s will use that containerd instead of its own",
                SYSTEM_CONTAINERD_SOCKET,
                daemon.name,
            )

        command = [
            os.fspath(engine.dockerd),
            f"--host={daemon.host}",
            f"--data-root={daemon.data_root}",
            f"--exec-root={daemon.exec_root}",
            f"--pidfile={daemon.pidfile}",
            f"--config-file={daemon.config_path}",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=vfs",
            *extra_args,
        ]
        logger.info("starting dockerd %s: %s", daemon.name, " ".join(command))
        started = time.monotonic()
        with daemon.log_path.open("ab") as log_file:
            # A session of its own keeps a Ctrl-C in the terminal from reaching dockerd,
            # so that the caller decides when it stops.
            daemon._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=daemon._environment(env),
                start_new_session=True,
            )
        try:
            daemon._wait_until_ready(timeout)
        except BaseException:
            daemon._kill_failed_start()
            raise
        logger.info(
            "dockerd %s is ready in %.1f s: engine %s, API %s (min %s), %s",
            daemon.name,
            time.monotonic() - started,
            daemon.engine_version,
            daemon.api_version,
            daemon.min_api_version,
            daemon.host,
        )
        return daemon

    @classmethod
    def attach(cls, workdir: str | os.PathLike[str]) -> Daemon:
        """Return the daemon that runs in ``workdir``, started by an earlier process.

        Raises :class:`TestbedError` if no daemon of the testbed runs there.
        """
        workdir = Path(workdir).resolve()
        try:
            state = json.loads((workdir / "testbed.json").read_text())
        except FileNotFoundError:
            raise TestbedError(f"no daemon of the testbed was started in {workdir}") from None
        daemon = cls(ENGINES[state["engine"]], workdir, state["name"])
        if daemon.running_pid() is None:
            raise TestbedError(f"dockerd {daemon.name} in {workdir} does not run")
        daemon._read_versions()
        return daemon

    def _check_startable(self) -> None:
        longest = os.fsencode(os.fspath(self.workdir) + LONGEST_SOCKET_SUFFIX)
        if len(longest) > MAX_SOCKET_PATH_BYTES:
            raise TestbedError(
                f"work directory {self.workdir} is too long for unix sockets: "
                f"{os.fsdecode(longest)} has {len(longest)} bytes, the maximum is "
                f"{MAX_SOCKET_PATH_BYTES}; choose a shorter work directory"
            )
        if not self.engine.dockerd.is_file():
            raise TestbedError(
                f"dockerd of engine {self.engine.name} not found at {self.engine.dockerd}; "
                "run scripts/install-engines.sh as root"
            )
        pid = self.running_pid()
        if pid is not None:
            raise TestbedError(
                f"dockerd (pid {pid}) already runs in {self.workdir}; stop it first "
                "with Daemon.attach(workdir).stop() or `python -m tests.testbed down`"
            )

    def _environment(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("DOCKER_")
        }
        # The engine's own docker-proxy and docker-init come first. containerd and runc
        # come from the machine, in /usr/bin and /usr/sbin.
        search_path = [os.fspath(directory) for directory in self.engine.binary_dirs()]
        search_path += environment.get("PATH", "").split(os.pathsep)
        search_path += [
            "/usr/local/sbin",
            "/usr/local/bin",
            "/usr/sbin",
            "/usr/bin",
            "/sbin",
            "/bin",
        ]
        environment["PATH"] = os.pathsep.join(dict.fromkeys(part for part in search_path if part))
        environment.update(extra or {})
        return environment

    def _wait_until_ready(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        last_error = "no attempt"
        while True:
            exit_code = self._process.poll()
            if exit_code is not None:
                raise DaemonStartError(
                    f"dockerd {self.name} ({self.engine.dockerd}) exited with code "
                    f"{exit_code} during startup; end of {self.log_path}:\n{self.log_tail()}"
                )
            try:
                response = self.request("GET", "/_ping", timeout=5.0)
                if response.status == 200:
                    break
                last_error = f"GET /_ping returned {response.status}"
            except OSError as error:
                last_error = str(error) or type(error).__name__
            if time.monotonic() > deadline:
                raise DaemonStartError(
                    f"dockerd {self.name} ({self.engine.dockerd}) did not respond to GET /_ping "
                    f"within {timeout:.0f} s (last error: {last_error}); "
                    f"end of {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.1)
        self._read_versions()

    def _read_versions(self) -> None:
        ping = self.request("GET", "/_ping")
        self.api_version = ping.headers.get("Api-Version", "")
        version = self.request("GET", "/version")
        if version.status != 200:
            raise TestbedError(
                f"GET /version on {self.host} returned {version.status}: {version.message}"
            )
        details = version.json()
        self.min_api_version = details.get("MinAPIVersion", "")
        self.engine_version = details.get("Version", "")

    def _kill_failed_start(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        self.stop()

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        """Send a request to this daemon; takes the keyword arguments of :func:`request`."""
        return request(self.socket_path, method, path, **kwargs)

    def log_tail(self, lines: int = 20) -> str:
        """Return the last ``lines`` lines of dockerd's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def running_pid(self) -> int | None:
        """Return the pid in the pidfile if that process is this workdir's dockerd, else None.

        The command line must name this daemon's socket, so that a pid that the kernel
        reused for another process is never taken for the daemon.
        """
        pid = _read_pid(self.pidfile)
        if pid is None and self._process is not None:
            # dockerd writes its pidfile a moment after it starts.
            pid = self._process.pid
        if pid is None or not _process_is_running(pid):
            return None
        if f"--host={self.host}" not in _command_line(pid):
            return None
        return pid

    def stop(self, *, timeout: float = 60.0, keep_data: bool = False) -> None:
        """Stop dockerd by the pid in its pidfile, wait for it to exit and clean up.

        Sends SIGTERM and, after ``timeout`` seconds, SIGKILL. Then stops the managed
        containerd if dockerd left it behind, and removes the socket, the pidfile and,
        unless ``keep_data`` is set, the data and exec roots. The log stays. Stopping a
        daemon that no longer runs only cleans up.
        """
        pid = self.running_pid()
        if pid is not None:
            logger.info("stopping dockerd %s (pid %d)", self.name, pid)
            if not self._terminate(pid, timeout):
                logger.warning(
                    "dockerd %s (pid %d) ignored SIGTERM for %.0f s, killing it",
                    self.name,
                    pid,
                    timeout,
                )
                os.kill(pid, signal.SIGKILL)
                self._wait_for_exit(pid, 10.0)
        if self._process is not None:
            self._process.wait(timeout=10)
            self._process = None

        self._stop_leftover_containerd()

        self.socket_path.unlink(missing_ok=True)
        self.pidfile.unlink(missing_ok=True)
        self.state_path.unlink(missing_ok=True)
        if keep_data:
            return
        # dockerd unmounts what it mounted below its roots on a clean exit, but not after
        # SIGKILL, and not its bind mount of the data root when it runs in a chroot.
        for mount_point in reversed(_mounts_below(self.workdir)):
            logger.warning("unmounting %s that dockerd %s left behind", mount_point, self.name)
            subprocess.run(["umount", "--lazy", mount_point], check=False)
        mounts = _mounts_below(self.workdir)
        if mounts:
            # Removing files below a mount point would delete what the mount shows,
            # which may be a directory of the machine.
            logger.warning(
                "keeping %s and %s of dockerd %s because mounts remain: %s",
                self.data_root,
                self.exec_root,
                self.name,
                ", ".join(mounts),
            )
            return
        shutil.rmtree(self.data_root, ignore_errors=True)
        shutil.rmtree(self.exec_root, ignore_errors=True)

    def _terminate(self, pid: int, timeout: float) -> bool:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return True
        return self._wait_for_exit(pid, timeout)

    def _wait_for_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.pid == pid:
                if self._process.poll() is not None:
                    return True
            elif not _process_is_running(pid):
                return True
            time.sleep(0.05)
        return False

    def _stop_leftover_containerd(self) -> None:
        # dockerd stops its managed containerd on a clean exit, but not when killed.
        pidfile = self.exec_root / "containerd" / "containerd.pid"
        pid = _read_pid(pidfile)
        if pid is None or not _process_is_running(pid):
            return
        if not any(os.fspath(self.exec_root) in part for part in _command_line(pid)):
            return
        logger.warning("stopping containerd (pid %d) that dockerd %s left behind", pid, self.name)
        if not self._terminate(pid, 10.0):
            os.kill(pid, signal.SIGKILL)
            self._wait_for_exit(pid, 10.0)


# --- Images --------------------------------------------------------------------------------

BUSYBOX_PATH = Path("/bin/busybox")

# Commands that tests may call in the image. The image links every applet that the
# busybox binary lists, and the import fails if one of these is not among them.
REQUIRED_APPLETS = (
    "sh", "echo", "cat", "sleep", "true", "false", "env", "ls", "head", "tail", "dd", "yes",
    "wc", "tee", "printf", "id", "hostname", "mkdir", "rm", "touch", "grep", "ps", "kill",
    "pwd", "test", "nc",
)  # fmt: skip

_ELF_PT_INTERP = 3


def _is_static_elf(path: Path) -> bool:
    """Tell whether ``path`` is a 64-bit little-endian ELF file without a program interpreter.

    A dynamically linked busybox would not run in an image that has no C library.
    """
    with path.open("rb") as file:
        header = file.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            return False
        program_headers_offset = struct.unpack_from("<Q", header, 0x20)[0]
        entry_size, entry_count = struct.unpack_from("<HH", header, 0x36)
        file.seek(program_headers_offset)
        table = file.read(entry_size * entry_count)
    for index in range(entry_count):
        (entry_type,) = struct.unpack_from("<I", table, index * entry_size)
        if entry_type == _ELF_PT_INTERP:
            return False
    return True


@functools.lru_cache(maxsize=4)
def build_busybox_rootfs(busybox: Path = BUSYBOX_PATH) -> bytes:
    """Build a root filesystem as an uncompressed tar: busybox, its applets and /etc basics.

    Raises :class:`TestbedError` if ``busybox`` is missing, not statically linked, or lacks
    one of :data:`REQUIRED_APPLETS`.
    """
    if not busybox.is_file():
        raise TestbedError(
            f"{busybox} not found; install Debian's busybox-static (scripts/install-engines.sh)"
        )
    if not _is_static_elf(busybox):
        raise TestbedError(
            f"{busybox} is not a statically linked 64-bit ELF binary; install busybox-static"
        )
    listing = subprocess.run(
        [os.fspath(busybox), "--list"], capture_output=True, text=True, check=True
    )
    applets = sorted(set(listing.stdout.split()) - {"busybox"})
    missing = sorted(set(REQUIRED_APPLETS) - set(applets))
    if missing:
        raise TestbedError(f"{busybox} lacks the applets {', '.join(missing)}")

    mtime = int(busybox.stat().st_mtime)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:

        def add(
            name: str, kind: bytes, *, mode: int = 0o755, data: bytes = b"", target: str = ""
        ) -> None:
            member = tarfile.TarInfo(name)
            member.type = kind
            member.mode = mode
            member.mtime = mtime
            member.linkname = target
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data) if data else None)

        for directory in (
            "bin",
            "dev",
            "etc",
            "home",
            "proc",
            "root",
            "sys",
            "usr",
            "usr/bin",
            "var",
        ):
            add(directory, tarfile.DIRTYPE, mode=0o700 if directory == "root" else 0o755)
        add("tmp", tarfile.DIRTYPE, mode=0o1777)
        add("bin/busybox", tarfile.REGTYPE, data=busybox.read_bytes())
        for applet in applets:
            add(f"bin/{applet}", tarfile.SYMTYPE, target="busybox")
        # For scripts whose first line is "#!/usr/bin/env ...".
        add("usr/bin/env", tarfile.SYMTYPE, target="../../bin/busybox")
        add("etc/passwd", tarfile.REGTYPE, mode=0o644, data=(
            b"root:x:0:0:root:/root:/bin/sh\n"
            b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
        ))  # fmt: skip
        add("etc/group", tarfile.REGTYPE, mode=0o644, data=b"root:x:0:\nnogroup:x:65534:\n")
    return buffer.getvalue()


def import_busybox(
    daemon: Daemon, reference: str = "busybox:test", *, busybox: Path = BUSYBOX_PATH
) -> str:
    """Import a busybox image into ``daemon`` without a registry and return its image id.

    Does what ``docker import`` does: ``POST /images/create?fromSrc=-`` with the root
    filesystem tar as the body. Raises :class:`TestbedError` if the daemon reports an error.
    """
    repository, separator, tag = reference.rpartition(":")
    if not separator or "/" in tag:
        repository, tag = reference, "latest"
    query = urllib.parse.urlencode({"fromSrc": "-", "repo": repository, "tag": tag})

    response = daemon.request(
        "POST",
        f"/images/create?{query}",
        body=build_busybox_rootfs(busybox),
        headers={"Content-Type": "application/x-tar"},
        timeout=120.0,
    )
    if response.status != 200:
        raise TestbedError(
            f"importing {reference} into {daemon.name} returned {response.status}: {response.message}"
        )
    # Errors during an import arrive in the progress stream with status 200.
    for message in response.json_stream():
        if "error" in message:
            raise TestbedError(
                f"importing {reference} into {daemon.name} failed: {message['error']}"
            )

    inspected = daemon.request("GET", f"/images/{urllib.parse.quote(reference, safe='')}/json")
    if inspected.status != 200:
        raise TestbedError(
            f"{reference} not found in {daemon.name} after the import: {inspected.message}"
        )
    image_id = str(inspected.json()["Id"])
    logger.info("imported %s into dockerd %s as %s", reference, daemon.name, image_id)
    return image_id


# --- Swarm ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwarmNode:
    """The manager node of a one-node swarm."""

    node_id: str
    listen_addr: str


def free_tcp_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_swarm(
    daemon: Daemon, port: int | None = None, *, data_path_port: int | None = None
) -> SwarmNode:
    """Make ``daemon`` the only manager of a new swarm that listens on 127.0.0.1:``port``.

    ``port`` defaults to a free port, so that swarms of concurrent test runs do not
    collide on 2377. ``data_path_port`` sets the VXLAN port (the daemon's default is 4789).
    Raises :class:`TestbedError` if the daemon rejects the request.
    """
    if port is None:
        port = free_tcp_port()
    listen_addr = f"127.0.0.1:{port}"
    spec: dict[str, Any] = {"ListenAddr": listen_addr, "AdvertiseAddr": listen_addr}
    if data_path_port is not None:
        spec["DataPathPort"] = data_path_port

    response = daemon.request("POST", "/swarm/init", json_body=spec, timeout=120.0)
    if response.status != 200:
        raise TestbedError(
            f"swarm init on {daemon.name} at {listen_addr} returned {response.status}: {response.message}"
        )
    node = SwarmNode(node_id=str(response.json()), listen_addr=listen_addr)
    logger.info("dockerd %s manages swarm node %s at %s", daemon.name, node.node_id, listen_addr)
    return node


def leave_swarm(daemon: Daemon) -> None:
    """Make ``daemon`` leave its swarm, forcing it as the last manager must."""
    response = daemon.request("POST", "/swarm/leave?force=1", timeout=120.0)
    if response.status != 200:
        raise TestbedError(
            f"swarm leave on {daemon.name} returned {response.status}: {response.message}"
        )


# --- Command line --------------------------------------------------------------------------


def start_setup(
    setup: Setup | str, workdir: str | os.PathLike[str], *, timeout: float = 60.0
) -> Daemon:
    """Start the daemon of a named setup in ``workdir``."""
    if isinstance(setup, str):
        setup = SETUPS[setup]
    return Daemon.start(setup.engine, workdir, env=setup.env, name=setup.name, timeout=timeout)


def _command_up(names: Iterable[str], with_image: bool) -> int:
    failures = 0
    for name in names:
        workdir = CLI_WORK_ROOT / name
        try:
            daemon = Daemon.attach(workdir)
            print(f"testbed: {name} already runs", file=sys.stderr)
        except TestbedError:
            print(f"testbed: starting {name}", file=sys.stderr)
            try:
                daemon = start_setup(name, workdir)
                if with_image:
                    import_busybox(daemon)
            except TestbedError as error:
                print(f"testbed: {name} failed: {error}", file=sys.stderr)
                failures += 1
                continue
        print(f"{name}\t{daemon.host}\tAPI {daemon.api_version}\tengine {daemon.engine_version}")
    return 1 if failures else 0


def _command_status(names: Iterable[str]) -> int:
    for name in names:
        try:
            daemon = Daemon.attach(CLI_WORK_ROOT / name)
        except TestbedError:
            continue
        print(f"{name}\t{daemon.host}\tAPI {daemon.api_version}\tengine {daemon.engine_version}")
    return 0


def _command_down(names: Iterable[str]) -> int:
    for name in names:
        workdir = CLI_WORK_ROOT / name
        try:
            daemon = Daemon.attach(workdir)
        except TestbedError:
            continue
        print(f"testbed: stopping {name}", file=sys.stderr)
        daemon.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.testbed",
        description="Start and stop the testbed's Docker daemons under .cache/testbed/.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start daemons and print their hosts on stdout")
    up.add_argument("--no-image", action="store_true", help="do not import the busybox:test image")
    status = commands.add_parser("status", help="print the hosts of the daemons that run")
    down = commands.add_parser("down", help="stop daemons and remove their data")
    for command in (up, status, down):
        command.add_argument(
            "setups", nargs="*", metavar="SETUP", help=f"one of {', '.join(SETUPS)} (default: all)"
        )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="testbed: %(message)s")

    unknown = [name for name in arguments.setups if name not in SETUPS]
    if unknown:
        parser.error(f"unknown setup {', '.join(unknown)}; choose from {', '.join(SETUPS)}")
    names = arguments.setups or list(SETUPS)
    if arguments.command == "up":
        return _command_up(names, with_image=not arguments.no_image)
    if arguments.command == "status":
        return _command_status(names)
    return _command_down(names)


if __name__ == "__main__":
    sys.exit(main())
