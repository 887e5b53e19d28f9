"""`exec_run_async`: docker_engine.exec_run for the asyncio client.

It sends the same three operations with the same body, input and exit-code rule, all
taken from docker_engine._exec; only the waiting is asynchronous.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from docker_engine._exec import (
    EXEC_CREATE,
    EXEC_INSPECT,
    EXEC_START,
    EXIT_CODE_WAIT,
    ExecResult,
    exec_config,
    exec_input,
    exit_code,
)

if TYPE_CHECKING:
    from docker_engine._async_client import AsyncBaseClient
    from docker_engine._async_hijack import AsyncHijackedStream


async def exec_run_async(
    client: AsyncBaseClient,
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

    The arguments and the result are those of docker_engine.exec_run, which describes them.
    """
    config = exec_config(
        cmd,
        stdin=stdin,
        tty=tty,
        env=env,
        workdir=workdir,
        user=user,
        privileged=privileged,
    )
    created = await client.call(EXEC_CREATE, {"id": container}, body=config)
    exec_id = created["Id"]

    stream: AsyncHijackedStream
    body = {"Detach": False, "Tty": tty}
    async with await client.call(EXEC_START, {"id": exec_id}, body=body) as stream:
        stdout, stderr = await stream.communicate(
            exec_input(stdin, tty), timeout=timeout
        )

    return ExecResult(await _wait_for_exit_code(client, exec_id), stdout, stderr)


async def _wait_for_exit_code(client: AsyncBaseClient, exec_id: str) -> int:
    """Return the exec's exit code, waiting for the daemon to record it.

    The output can end (the command closed stdout and stderr) a moment before the
    daemon has seen the process exit, and meanwhile it reports the exec as running.
    """
    deadline = time.monotonic() + EXIT_CODE_WAIT
    delay = 0.01
    while True:
        code = exit_code(await client.call(EXEC_INSPECT, {"id": exec_id}))
        if code is not None:
            return code
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"exec {exec_id} is still running {EXIT_CODE_WAIT} s after its output "
                "ended: it closed stdout and stderr but has not exited"
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)
