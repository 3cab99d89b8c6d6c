#!/usr/bin/env bash
# Makes a fresh Linux machine ready for the whole test suite:
#   - a running Docker Engine (installed from the distro and started here when only the client exists),
#   - the devcontainer CLI (npm @devcontainers/cli, the engine VS Code uses),
#   - the local base images the tests build on (pulled when a registry answers, else made with debootstrap),
#     and the feature test base image (testbed/make-feature-test-base.sh),
#   - a local OCI registry on 127.0.0.1:5000 (Debian's docker-registry, no auth) that the feature
#     publishing tests push to; the devcontainer CLI reaches it as localhost:5000, and skopeo (the
#     zstd publishing) does too, marked plain HTTP in /etc/containers/registries.conf.d,
#   - a non-root user with a UID other than 1000 (uidtest, 1234) in the docker group, for the host-UID tests,
#   - docker-compose (Debian's v1.29), which starts the Slurm test cluster (pytest-docker).
# Every step prints what it does; any failure stops the script with a non-zero exit, so CI never
# runs the integration tests against a missing engine.
set -euo pipefail

DEVCONTAINER_CLI_VERSION="${DEVCONTAINER_CLI_VERSION:-0.89.0}"
read -r -a BASE_IMAGES <<<"${TEST_BASE_IMAGES:-debian:bookworm}"
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/dockerd.log}"
REGISTRY_ADDR="127.0.0.1:5000"
REGISTRY_DIR="${REGISTRY_DIR:-/var/lib/mltemplate-registry}"
REGISTRY_LOG="${REGISTRY_LOG:-/tmp/docker-registry.log}"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
    [ -n "$apt_updated" ] || { say "apt-get update"; as_root apt-get update -qq; apt_updated=1; }
    say "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# start_daemon LOG COMMAND...: in the background, outliving this script, without our open files:
# run under `flock /tmp/docker-build.lock`, a daemon would otherwise hold that lock while it runs.
start_daemon() {
    # shellcheck disable=SC2016  # expanded by the inner shell
    as_root bash -c 'log=$1; shift
        for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null
        nohup "$@" >"$log" 2>&1 &' bash "$@"
}

# await_daemon SECONDS NAME LOG CHECK...: wait until CHECK succeeds; else show the log and stop.
await_daemon() {
    local seconds="$1" name="$2" log="$3"
    shift 3
    for _ in $(seq 1 "$seconds"); do
        "$@" && return
        sleep 1
    done
    tail -n 30 "$log" >&2 || true
    die "$name did not answer within $seconds s (see $log)"
}

engine_up() { docker info >/dev/null 2>&1; }

start_engine() {
    if engine_up; then say "Docker Engine already running"; return; fi
    command -v dockerd >/dev/null 2>&1 || apt_install docker.io
    command -v docker >/dev/null 2>&1 || die "docker client missing after installing docker.io"
    say "starting dockerd (log: $DOCKERD_LOG)"
    start_daemon "$DOCKERD_LOG" dockerd
    await_daemon 60 "Docker Engine" "$DOCKERD_LOG" engine_up
    say "Docker Engine is up: $(docker version --format '{{.Server.Version}}')"
}

install_devcontainer_cli() {
    if command -v devcontainer >/dev/null 2>&1; then
        say "devcontainer CLI $(devcontainer --version) present"; return
    fi
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    say "npm install -g @devcontainers/cli@$DEVCONTAINER_CLI_VERSION"
    as_root npm install -g --no-fund --no-audit "@devcontainers/cli@$DEVCONTAINER_CLI_VERSION" >/dev/null
    command -v devcontainer >/dev/null 2>&1 || die "devcontainer CLI not on PATH after npm install"
}

# The Slurm test cluster is the generated project's cluster/local/compose.yml, started by
# pytest-docker with `docker-compose` (Debian 12's v1.29 works with the distro's Docker Engine).
install_compose() {
    if command -v docker-compose >/dev/null 2>&1; then
        say "docker-compose $(docker-compose version --short 2>/dev/null) present"; return
    fi
    apt_install docker-compose
    command -v docker-compose >/dev/null 2>&1 || die "docker-compose not on PATH after apt-get install"
}

# debian:bookworm -> suite "bookworm"; only Debian suites can be bootstrapped from the Debian archive.
make_base_image() {
    local image="$1" suite root
    if docker image inspect "$image" >/dev/null 2>&1; then say "base image $image present"; return; fi
    if timeout 60 docker pull -q "$image" >/dev/null 2>&1; then say "pulled $image"; return; fi
    case "$image" in
        debian:*) suite="${image#debian:}" ;;
        *) die "cannot pull $image and only debian:<suite> images can be made with debootstrap" ;;
    esac
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    root="$(mktemp -d /tmp/rootfs-"$suite".XXXXXX)"
    say "no registry answered: building $image with debootstrap (about a minute)"
    as_root debootstrap --variant=minbase "$suite" "$root" >/tmp/debootstrap-"$suite".log 2>&1 \
        || { tail -n 20 /tmp/debootstrap-"$suite".log >&2; die "debootstrap $suite failed"; }
    # Like the official image: no downloaded .debs or package lists left in the base layer.
    as_root rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    as_root tar -C "$root" -c . | docker import - "$image" >/dev/null
    as_root rm -rf "$root"
    say "imported $image"
}

# A host user whose UID is not the image's 1000: tests/integration/test_host_uid.py runs
# `devcontainer up` as this user, as a colleague with such a UID would.
TEST_USER="${TEST_USER:-uidtest}"
TEST_UID="${TEST_UID:-1234}"
make_test_user() {
    getent group docker >/dev/null || as_root groupadd --system docker
    if getent passwd "$TEST_USER" >/dev/null; then
        [ "$(id -u "$TEST_USER")" = "$TEST_UID" ] || die "user $TEST_USER exists with UID $(id -u "$TEST_USER"), not $TEST_UID"
        id -nG "$TEST_USER" | tr ' ' '\n' | grep -qx docker || as_root usermod -aG docker "$TEST_USER"
        say "test user $TEST_USER ($TEST_UID) present"
        return
    fi
    getent passwd "$TEST_UID" >/dev/null && die "UID $TEST_UID is taken by $(getent passwd "$TEST_UID" | cut -d: -f1)"
    as_root useradd --uid "$TEST_UID" --groups docker --create-home --shell /bin/bash "$TEST_USER"
    say "created test user $TEST_USER (UID $TEST_UID, group docker)"
}

registry_up() { curl -fsS -o /dev/null "http://$REGISTRY_ADDR/v2/" 2>/dev/null; }

# Plain HTTP on loopback only, no auth: a throwaway registry for the publishing tests.
start_registry() {
    if registry_up; then say "registry already answering on $REGISTRY_ADDR"; return; fi
    command -v docker-registry >/dev/null 2>&1 || apt_install docker-registry
    command -v curl >/dev/null 2>&1 || apt_install curl
    as_root mkdir -p "$REGISTRY_DIR/data"
    printf '%s\n' 'version: 0.1' 'log:' '  level: warn' 'storage:' '  filesystem:' \
        "    rootdirectory: $REGISTRY_DIR/data" '  delete:' '    enabled: true' 'http:' \
        "  addr: $REGISTRY_ADDR" | as_root tee "$REGISTRY_DIR/config.yml" >/dev/null
    # The tests delete what they push, but the registry keeps the blobs until a garbage collection,
    # which must run while it is stopped: gigabytes per suite run otherwise.
    say "docker-registry garbage-collect (blobs no manifest uses any more)"
    as_root docker-registry garbage-collect --delete-untagged "$REGISTRY_DIR/config.yml" >/dev/null
    say "starting docker-registry on $REGISTRY_ADDR (log: $REGISTRY_LOG)"
    start_daemon "$REGISTRY_LOG" docker-registry serve "$REGISTRY_DIR/config.yml"
    await_daemon 30 "docker-registry on $REGISTRY_ADDR" "$REGISTRY_LOG" registry_up
    say "registry is up on $REGISTRY_ADDR"
}

# skopeo pushes the zstd images; Docker treats a loopback registry as plain HTTP by itself, skopeo
# only when registries.conf says so.
skopeo_for_registry() {
    command -v skopeo >/dev/null 2>&1 || apt_install skopeo
    as_root mkdir -p /etc/containers/registries.conf.d
    printf '%s\n' '# the test registry (testbed/prepare-test-machine.sh): plain HTTP on loopback' \
        '[[registry]]' 'location = "localhost:5000"' 'insecure = true' \
        '[[registry]]' "location = \"$REGISTRY_ADDR\"" 'insecure = true' \
        | as_root tee /etc/containers/registries.conf.d/50-mltemplate-test-registry.conf >/dev/null
    say "skopeo reaches the registry as localhost:5000 (plain HTTP)"
}

start_engine
install_devcontainer_cli
install_compose
make_test_user
for image in "${BASE_IMAGES[@]}"; do make_base_image "$image"; done
start_registry
skopeo_for_registry
"$(dirname "$0")/make-feature-test-base.sh"
say "test machine ready"
