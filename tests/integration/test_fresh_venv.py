"""A fresh virtual environment with only the runtime and version packages runs a container.

Wheels are built with this environment's hatchling and installed offline into a new venv
without system site-packages, so the test proves the two distributions are complete: no
import reaches back into the repository or the generator's dependencies.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from tests.generated_packages import REPO_ROOT, package_dir
from tests.testbed import Daemon

SCRIPT = textwrap.dedent("""
    import sys
    from docker_engine_v1_41 import Client, models

    client = Client(sys.argv[1])
    created = client.containers.create(
        models.ContainerCreateRequest(
            image="busybox:test",
            cmd=["sh", "-c", "exit 7"],
            host_config=models.HostConfig(network_mode="none"),
        )
    )
    try:
        client.containers.start(created.id)
        print(client.containers.wait(created.id).status_code)
    finally:
        client.containers.delete(created.id, force=True)
    """)


def run(*command: str | Path) -> str:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=300
    )
    assert (
        result.returncode == 0
    ), f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.timeout(600)
def test_fresh_venv_runs_a_container(tmp_path: Path, daemon_20_10: Daemon) -> None:
    package = package_dir("1.41")
    if not package.is_dir():
        pytest.skip(f"{package} is missing; run `make generate` first")
    newer = package_dir("1.45")
    if not newer.is_dir():
        pytest.skip(f"{newer} is missing; run `make generate` first")

    wheels = tmp_path / "wheels"
    for source in (REPO_ROOT / "runtime", package, newer):
        run(
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            wheels,
            source,
        )
    built = sorted(path.name for path in wheels.glob("*.whl"))
    assert built[0].startswith("docker_engine-0.1.0-")
    assert built[1].startswith("docker_engine_v1_41-0.1.0-")
    assert built[2].startswith("docker_engine_v1_45-0.1.0-")

    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True, system_site_packages=False)
    python = environment / "bin" / "python"
    run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-index",
        *sorted(wheels.glob("*.whl")),
    )

    script = tmp_path / "run_container.py"
    script.write_text(SCRIPT)
    assert run(python, script, daemon_20_10.host).strip() == "7"

    # The two version packages sit side by side, and connect() picks the newest one that
    # the 1.41 daemon accepts.
    picked = run(
        python,
        "-c",
        "import sys, docker_engine, docker_engine_v1_45; "
        "client = docker_engine.connect(sys.argv[1]); "
        "print(type(client).__module__, client.api_version)",
        daemon_20_10.host,
    )
    assert picked.split() == ["docker_engine_v1_41._client", "1.41"]
