"""Running a command in a running container and collecting its output and exit code.

`exec_run` works with the client of any version package: it sends its own descriptions
of the three exec operations, which have kept their paths and bodies since API 1.25.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docker_engine._operation import BodyKind, Location, Operation, Parameter, ResponseKind
from docker_engine.errors import InvalidArgument

from docker_engine._hijack import TTY_EOF

if TYPE_CHECKING:
    from docker_engine._client import BaseClient
    from docker_engine._hijack import HijackedStream

_ID = Parameter("id", "id", Location.PATH, required=True)

EXEC_CREATE = Operation(
    operation_id="ContainerExec",
    method="POST",
    path="/containers/{id}/exec",
    parameters=(_ID,),
    response=ResponseKind.JSON,
    body=BodyKind.JSON,
    body_content_type="application/json",
)
EXEC_START = Operation(
    operation_id="ExecStart",
    method="POST",
    path="/exec/{id}/start",
    parameters=(_ID,),
    response=ResponseKind.HIJACK,
    body=BodyKind.JSON,
    body_content_type="application/json",
)
EXEC_INSPECT = Operation(
    operation_id="ExecInspect",
    method="GET",
    path="/exec/{id}/json",
    parameters=(_ID,),
    response=ResponseKind.JSON,
)

# How long to wait, after the output has ended, for the daemon to record the exit code.
EXIT_CODE_WAIT = 10.0


@dataclass(frozen=True)
class ExecResult:
    """The exit code and output of a command run by `exec_run`."""

    exit_code: int
    stdout: bytes
    stderr: bytes


def exec_run(
    client: BaseClient,
    container: str,
    cmd: str | Sequence[str],
    *,
    stdin: bytes | None = None,
    tty: bool = False,
    env: Mapping[str, str] | Sequence[str] | None = None,
    workdir: str | None = None,
    user: str | None = None,
    privileged: bool = False,
    timeout: float | None = None,
) -> ExecResult:
    """Run `cmd` in the running `container`, feed it `stdin`, return its output and exit code.

    `cmd` is a list of arguments, or a string split like a shell would split it. No
    shell runs it: pass ["sh", "-c", "..."] for that. With `stdin`, the command's stdin
    receives those bytes and then ends; without, it is not attached. With `tty`, the
    command runs in a TTY, all its output is stdout (the TTY echoes `stdin` there too),
    and `stdin` is ended with the terminal's end-of-file character. `env` is a mapping or a list of
    "NAME=value" strings. `timeout` limits the command's run in seconds and raises
    TimeoutError; the command keeps running in the container after that.
    """
    config = exec_config(
        cmd, stdin=stdin, tty=tty, env=env, workdir=workdir, user=user, privileged=privileged
    )
    created = client.call(EXEC_CREATE, {"id": container}, body=config)
    exec_id = created["Id"]

    stream: HijackedStream
    with client.call(EXEC_START, {"id": exec_id}, body={"Detach": False, "Tty": tty}) as stream:
        stdout, stderr = stream.communicate(exec_input(stdin, tty), timeout=timeout)

    return ExecResult(_wait_for_exit_code(client, exec_id), stdout, stderr)


def exec_config(
    cmd: str | Sequence[str],
    *,
    stdin: bytes | None,
    tty: bool,
    env: Mapping[str, str] | Sequence[str] | None,
    workdir: str | None,
    user: str | None,
    privileged: bool,
) -> dict[str, Any]:
    """Build the body of `POST /containers/{id}/exec` for exec_run's arguments."""
    arguments = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
    if not arguments:
        raise InvalidArgument("exec_run needs a command: cmd is empty", parameter="cmd")

    config: dict[str, Any] = {
        "AttachStdin": stdin is not None,
        "AttachStdout": True,
        "AttachStderr": True,
        "Tty": tty,
        "Cmd": arguments,
    }
    if env is not None:
        config["Env"] = (
            [f"{name}={value}" for name, value in env.items()]
            if isinstance(env, Mapping)
            else list(env)
        )
    if workdir is not None:
        config["WorkingDir"] = workdir
    if user is not None:
        config["User"] = user
    if privileged:
        config["Privileged"] = True
    return config


def exec_input(stdin: bytes | None, tty: bool) -> bytes | None:
    """Return what exec_run writes to the command's stdin."""
    if tty and stdin is not None:
        # Closing stdin would make the daemon stop forwarding a TTY's output, so the
        # terminal ends the input instead: a first TTY_EOF sends a last unfinished line,
        # and one at the start of a line is the end of file.
        stdin += TTY_EOF if stdin.endswith(b"\n") or not stdin else TTY_EOF * 2
    return stdin


def exit_code(inspected: Mapping[str, Any]) -> int | None:
    """Return the exit code from `GET /exec/{id}/json`, None while the daemon reports none."""
    if not inspected.get("Running") and inspected.get("ExitCode") is not None:
        return int(inspected["ExitCode"])
    return None


def _wait_for_exit_code(client: BaseClient, exec_id: str) -> int:
    """Return the exec's exit code, waiting for the daemon to record it.

    The output can end (the command closed stdout and stderr) a moment before the
    daemon has seen the process exit, and meanwhile it reports the exec as running.
    """
    deadline = time.monotonic() + EXIT_CODE_WAIT
    delay = 0.01
    while True:
        code = exit_code(client.call(EXEC_INSPECT, {"id": exec_id}))
        if code is not None:
            return code
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"exec {exec_id} is still running {EXIT_CODE_WAIT} s after its output "
                "ended: it closed stdout and stderr but has not exited"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
