"""`python -m docker_engine version`: what is installed, what the daemon speaks, what fits.

Like `docker version`: the client side (this runtime and the installed version packages)
always prints; the server side needs the daemon. When the daemon cannot be reached the
command prints the client side, then the error on stderr, and exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
from typing import Any

from docker_engine.errors import DockerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m docker_engine",
        description="Tools of the docker-engine runtime.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    version = commands.add_parser(
        "version",
        help="show the runtime, the installed version packages and the daemon's versions",
        description="Show the runtime, the installed version packages, the daemon's "
        "versions and which package docker_engine.connect() picks for it.",
    )
    version.add_argument(
        "-H",
        "--host",
        help="daemon to query, such as unix:///var/run/docker.sock or tcp://HOST:2376 "
        "(default: DOCKER_HOST, the current Docker context, then the default socket)",
    )
    version.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="output format (default: text)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if arguments.verbose else logging.WARNING,
        format="%(name)s: %(message)s",
        stream=sys.stderr,
    )
    return run_version(arguments.host, arguments.format)


def run_version(host: str | None, output_format: str) -> int:
    """Print the version report; return the exit status."""
    report, error = collect_version_report(host)
    if output_format == "json":
        if error is not None:
            report["Error"] = error
        print(json.dumps(report, indent=2))
    else:
        print(format_text(report))
    if error is not None:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def collect_version_report(host: str | None) -> tuple[dict[str, Any], str | None]:
    """Gather the client side, then the server side; return the report and the error, if any."""
    from docker_engine import __version__
    from docker_engine._client import BaseClient
    from docker_engine._connect import choose_for_daemon, choose_for_pinned, installed_packages
    from docker_engine._hosts import resolve_host
    from docker_engine._versions import normalize_pinned_version

    client: dict[str, Any] = {
        "Runtime": "docker-engine",
        "Version": __version__,
        "Python": platform.python_version(),
        "Packages": [],
    }
    report: dict[str, Any] = {"Client": client, "Server": None}
    try:
        packages = installed_packages()
        client["Packages"] = [
            {"Module": p.module, "APIVersion": p.api_version, "FoundBy": p.found_by}
            for p in packages
        ]
        resolved = resolve_host(host, None, base_url_source="the -H option")
        server: dict[str, Any] = {"Host": resolved.url, "HostSource": resolved.source}
        report["Server"] = server
        from docker_engine._negotiation import probe_daemon

        # The daemon is always asked, even when DOCKER_API_VERSION pins the version and
        # a client would skip negotiation: this command reports what the daemon supports.
        with BaseClient(resolved, timeout=10) as prober:
            daemon = probe_daemon(prober._get_unversioned)
    except DockerError as error:
        return report, str(error)

    details = daemon.details
    server.update(
        {
            "Engine": details.get("Version"),
            "APIVersion": daemon.api_version,
            "MinAPIVersion": daemon.min_api_version,
            "Os": details.get("Os"),
            "Arch": details.get("Arch"),
            "KernelVersion": details.get("KernelVersion"),
        }
    )
    try:
        pinned = os.environ.get("DOCKER_API_VERSION")
        if pinned:
            source = "the DOCKER_API_VERSION environment variable"
            package, reason = choose_for_pinned(
                packages, normalize_pinned_version(pinned, source), source
            )
        else:
            package, reason = choose_for_daemon(packages, daemon)
    except DockerError as error:
        report["Selection"] = None
        return report, str(error)
    report["Selection"] = {
        "Module": package.module,
        "APIVersion": package.api_version,
        "Reason": reason,
    }
    return report, None


def format_text(report: dict[str, Any]) -> str:
    client = report["Client"]
    packages = client["Packages"]
    if not packages:
        listed = "none"
    elif len(packages) <= 3:
        listed = ", ".join(f"{p['Module']} (API {p['APIVersion']})" for p in packages)
    else:
        versions = ", ".join(p["APIVersion"] for p in packages)
        listed = f"{len(packages)}, docker_engine_v1_NN for API {versions}"
    lines = [
        "Client:",
        f" Runtime:          {client['Runtime']} {client['Version']} (Python {client['Python']})",
        f" Version packages: {listed}",
    ]
    server = report.get("Server")
    if server is not None:
        lines += ["", "Server:", f" Host:             {server['Host']} (from {server['HostSource']})"]
        if "APIVersion" in server:
            minimum = server["MinAPIVersion"] or "unknown"
            lines += [
                f" Engine:           {server['Engine'] or 'unknown'}",
                f" API version:      {server['APIVersion']} (minimum version {minimum})",
                f" OS/Arch:          {server['Os'] or '?'}/{server['Arch'] or '?'}",
            ]
            if server.get("KernelVersion"):
                lines.append(f" Kernel version:   {server['KernelVersion']}")
    selection = report.get("Selection")
    if selection:
        lines += [
            "",
            "Negotiation:",
            f" Package:          {selection['Module']} (API {selection['APIVersion']})",
            f" Because:          {selection['Reason']}",
        ]
    return "\n".join(lines)
