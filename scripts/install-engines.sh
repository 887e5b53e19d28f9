#!/usr/bin/env bash
# Install the Docker engines that the tests run against, side by side.
#   20.10  Debian bookworm's docker.io, installed by apt (/usr/sbin/dockerd).
#   26.1   Debian trixie's docker.io, unpacked into .cache/engines/26.1/.
#   28     Debian sid's docker.io, unpacked into .cache/engines/28/. Sid moves,
#          so this is whatever version sid has on the day of the first run.
#          The directory keeps its name if sid moves past 28.
# The script also installs containerd, runc, busybox-static (for the test
# image) and OpenSSH (for ssh transport tests). The newer dockerd binaries run
# on bookworm's libraries, containerd and runc.
#
# Each engine directory gets a file "info" with lines dockerd=PATH,
# package=VERSION and version=OUTPUT-OF-dockerd---version; tests/testbed.py
# reads it.
#
# Must run as root. A second run that finds everything in place makes no
# network request and takes about 0.1 s. Set REFRESH_ENGINES=1 to
# download the trixie and sid packages again (sid may have moved).
#
# The machine's apt configuration is left alone: trixie and sid are read
# through a private sources file and private package lists under
# .cache/apt/. The system dockerd is never left running as a service, so
# nothing listens on /var/run/docker.sock.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
engines_dir="$repo/.cache/engines"
apt_dir="$repo/.cache/apt"
system_packages=(docker.io containerd runc busybox-static openssh-server openssh-client)

# Engine name, then the Debian suite that it comes from.
unpacked_engines=("26.1 trixie" "28 sid")

log() {
    echo "install-engines: $*" >&2
}

die() {
    log "error: $*"
    exit 1
}

# Run a command with its output in a log file, and show the end of that
# file only when the command fails.
run_quiet() {
    local output
    output=$(mktemp)
    if ! "$@" >"$output" 2>&1; then
        log "command failed: $*"
        tail -n 30 "$output" >&2
        rm -f "$output"
        exit 1
    fi
    rm -f "$output"
}

is_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

# Print "URI SIGNED-BY" of the machine's main Debian archive: the entry
# whose suites include the bare release name (bookworm), which excludes
# the security archive. Reads the deb822 file, else the one-line format.
find_archive() {
    local codename=$1
    local deb822=/etc/apt/sources.list.d/debian.sources
    if [[ -f $deb822 ]]; then
        awk -v codename="$codename" '
            function finish() {
                if (match_suite && uri != "") { print uri, (keyring == "" ? "-" : keyring); found = 1; exit }
                uri = ""; keyring = ""; match_suite = 0
            }
            /^[[:space:]]*$/ { finish(); next }
            $1 == "URIs:" { uri = $2 }
            $1 == "Signed-By:" { keyring = $2 }
            $1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i == codename) match_suite = 1 }
            END { if (!found) finish() }
        ' "$deb822"
        return
    fi
    if [[ -f /etc/apt/sources.list ]]; then
        awk -v codename="$codename" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($(i + 1) == codename) { print $i, "-"; exit }
            }
        ' /etc/apt/sources.list
    fi
}

[[ $(id -u) == 0 ]] || die "must run as root (apt-get install and dockerd need it)"
[[ -r /etc/os-release ]] || die "/etc/os-release is missing, cannot tell the Debian release"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ $codename == bookworm ]] ||
    log "warning: this machine runs '$codename', the engines are only tested on bookworm"

export DEBIAN_FRONTEND=noninteractive
start_time=$SECONDS
mkdir -p "$engines_dir"

# Step 1: the machine's own packages. apt-get update only when one is missing.
missing=()
for package in "${system_packages[@]}"; do
    is_installed "$package" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
    # Package scripts start their services through invoke-rc.d unless a
    # policy-rc.d forbids it. Forbid it for this install when the machine
    # has no policy of its own, so that no system dockerd, containerd or
    # sshd starts.
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        created_policy=1
        trap 'rm -f "$policy"' EXIT
    fi
    log "apt-get install ${missing[*]}"
    run_quiet apt-get -o DPkg::Lock::Timeout=300 update
    run_quiet apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}"
    if ((created_policy)); then
        rm -f "$policy"
        trap - EXIT
    fi
fi

# Step 2: make sure no system dockerd runs or starts at boot.
if [[ -d /run/systemd/system ]]; then
    run_quiet systemctl disable --now docker.socket docker.service
fi
if [[ -f /var/run/docker.pid ]]; then
    pid=$(cat /var/run/docker.pid)
    if [[ -n $pid && -r /proc/$pid/comm && $(cat "/proc/$pid/comm") == dockerd ]]; then
        log "stopping the system dockerd (pid $pid from /var/run/docker.pid)"
        kill "$pid"
        for _ in $(seq 150); do
            [[ -e /proc/$pid ]] || break
            sleep 0.2
        done
        [[ ! -e /proc/$pid ]] || die "the system dockerd (pid $pid) did not exit within 30 s"
    fi
fi
[[ ! -S /var/run/docker.sock ]] ||
    log "warning: /var/run/docker.sock exists although no system dockerd runs; it is not the testbed's"

# The bookworm engine is the machine's own dockerd.
bookworm_dir="$engines_dir/20.10"
mkdir -p "$bookworm_dir"
{
    echo "dockerd=/usr/sbin/dockerd"
    echo "package=$(dpkg-query -W -f='${Version}' docker.io)"
    echo "version=$(/usr/sbin/dockerd --version)"
} >"$bookworm_dir/info.new"
mv "$bookworm_dir/info.new" "$bookworm_dir/info"

# Step 3: the newer engines, unpacked from the trixie and sid packages.
apt_options=()
apt_lists_ready=0

prepare_private_apt() {
    local archive uri keyring options suite
    archive=$(find_archive "$codename")
    [[ -n $archive ]] || die "found no archive for '$codename' in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
    read -r uri keyring <<<"$archive"
    options="arch=$(dpkg --print-architecture)"
    [[ $keyring == - ]] || options+=" signed-by=$keyring"

    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    for suite in trixie sid; do
        echo "deb [$options] $uri $suite main"
    done >"$apt_dir/sources.list"

    # The sandbox user _apt may not be able to enter the repository folder.
    apt_options=(
        -o "Dir::Etc::SourceList=$apt_dir/sources.list"
        -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::State::Lists=$apt_dir/lists"
        -o "Dir::Cache=$apt_dir/cache"
        -o "APT::Sandbox::User=root"
        -o "Acquire::Languages=none"
    )
    log "apt-get update for trixie and sid from $uri (private lists in .cache/apt)"
    run_quiet apt-get "${apt_options[@]}" update
    apt_lists_ready=1
}

for entry in "${unpacked_engines[@]}"; do
    read -r engine suite <<<"$entry"
    target="$engines_dir/$engine"
    if [[ ${REFRESH_ENGINES:-0} != 1 && -x $target/usr/sbin/dockerd && -f $target/info ]]; then
        continue
    fi
    ((apt_lists_ready)) || prepare_private_apt

    download_dir=$(mktemp -d "$apt_dir/download.XXXXXX")
    (cd "$download_dir" && run_quiet apt-get "${apt_options[@]}" download "docker.io/$suite")
    debs=("$download_dir"/docker.io_*.deb)
    [[ -f ${debs[0]} ]] || die "apt-get download docker.io/$suite produced no .deb"

    # Unpack next to the target and swap, so an interrupted run never
    # leaves a half-unpacked engine that a later run would take as done.
    rm -rf "$target.new"
    dpkg-deb -x "${debs[0]}" "$target.new"
    {
        echo "dockerd=$target/usr/sbin/dockerd"
        echo "package=$(dpkg-deb -f "${debs[0]}" Version)"
        echo "version=$("$target.new/usr/sbin/dockerd" --version)"
    } >"$target.new/info"
    rm -rf "$target"
    mv "$target.new" "$target"
    rm -rf "$download_dir"
    log "engine $engine: $(sed -n 's/^package=//p' "$target/info") from $suite"
done

for engine in 20.10 26.1 28; do
    log "engine $engine: $(sed -n 's/^version=//p' "$engines_dir/$engine/info")"
done
log "done in $((SECONDS - start_time)) s"
