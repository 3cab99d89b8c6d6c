# shellcheck shell=sh disable=SC2034  # (its variables are used by the features that source it)
# Helpers the cuda and cudnn features share: NVIDIA's wheels in a Python environment, the
# system-wide loader registration, NVIDIA's apt repository. POSIX sh; sourced after common.sh.

TREE_MARK=.made-by-ml-devcontainer-cuda-feature # marks a CUDA_HOME symlink tree we may rebuild
APT_LIST=/etc/apt/sources.list.d/nvidia-cuda.list
APT_KEYRING_DIR=/usr/share/keyrings

# The name NVIDIA's apt repositories use for this distribution (debian12, ubuntu2204,
# ubuntu2404), or nothing when it has none.
apt_distro() {
    # shellcheck disable=SC1091
    ( . /etc/os-release 2>/dev/null || exit 0
      case "${ID:-}:${VERSION_ID:-}" in
          debian:12) echo debian12 ;;
          ubuntu:22.04) echo ubuntu2204 ;;
          ubuntu:24.04) echo ubuntu2404 ;;
      esac )
}

# site-packages folders of a Python environment (none when the path holds no environment).
site_packages() {
    [ -n "$1" ] || return 0
    for sp in "$1"/lib/python3*/site-packages "$1"/lib64/python3*/site-packages; do
        [ -d "$sp" ] || continue
        # A virtual environment's lib64 is often a link to lib: list that folder once, or the
        # CUDA_HOME below is made twice over.
        case "$sp" in "$1"/lib64/*) [ "$sp" -ef "$1/lib/${sp#"$1"/lib64/}" ] && continue ;; esac
        echo "$sp"
    done
    return 0
}

# Version (major.minor, e.g. 12.8) of NVIDIA's CUDA runtime wheel installed under the given
# site-packages folders, read from its dist-info name; nothing when none is there.
wheel_cuda_version() {
    for sp in "$@"; do
        for info in "$sp"/nvidia_cuda_runtime_cu1[0-9]-*.dist-info "$sp"/nvidia_cuda_runtime-1[0-9].*.dist-info; do
            [ -d "$info" ] || continue
            v="${info##*/}"; v="${v%.dist-info}"; v="${v##*-}"
            echo "$v" | cut -d. -f1,2
            return 0
        done
    done
    return 0
}

# The lib folders of NVIDIA's wheels below the given site-packages folders (cu12 layout:
# nvidia/<component>/lib, cu13 layout: nvidia/cu13/lib).
wheel_lib_dirs() {
    for sp in "$@"; do
        for d in "$sp"/nvidia/*/lib; do
            ls "$d"/*.so* >/dev/null 2>&1 && echo "$d"
        done
    done
    return 0
}

# Registers library folders system-wide so that every program (ctypes, a C program, nvcc's
# output) finds the same files: one conf file per feature, then ldconfig.
register_lib_dirs() {  # register_lib_dirs NAME DIR...
    conf="/etc/ld.so.conf.d/$1.conf"; shift
    : >"$conf"
    for d in "$@"; do echo "$d" >>"$conf"; done
    ldconfig
}

# Where the dynamic loader finds a library (from the ld.so cache), or nothing.
ldconfig_path() {
    ldconfig -p | awk -v name="$1" '$1 == name { print $NF; exit }'
}

# A python3 with pip for installing wheels: the image's own, else Debian's/Ubuntu's.
# Sets PIP (the command to run).
find_pip() {
    if command -v uv >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
        PIP="uv pip install --quiet --no-cache --python $(command -v python3)"
        return 0
    fi
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 \
            || fail "installing NVIDIA's wheels needs python3 with pip in the image (or an apt-based distribution to add them)."
        log "installing python3-pip from the distribution"
        apt_install python3 python3-pip
    fi
    # (--target never touches the system Python; the variable quiets Debian 12+ pip, old pip ignores it)
    export PIP_BREAK_SYSTEM_PACKAGES=1
    PIP="python3 -m pip install --quiet --no-cache-dir --disable-pip-version-check"
}

# Installs exact wheel pins, without dependencies (each pin is listed on purpose, so nothing
# arrives twice), into a fresh PREFIX (so a second run gives the same result).
pip_install_pinned() {  # pip_install_pinned PREFIX PIN...
    prefix="$1"; shift
    find_pip
    log "installing from PyPI into $prefix: $*"
    rm -rf "$prefix"
    # shellcheck disable=SC2086
    $PIP --no-deps --target "$prefix" "$@" \
        || fail "pip could not install $* (is PyPI reachable from the build?)."
}

# Copies a file from a path, a file: URL or an http(s) URL (fetched with apt's own downloader,
# so no curl is needed).
fetch() {  # fetch SOURCE DEST
    case "$1" in
        /*) cp "$1" "$2" ;;
        file:*) cp "${1#file:}" "$2" ;;
        http://*|https://*) /usr/lib/apt/apt-helper -qq download-file "$1" "$2" ;;
        *) return 1 ;;
    esac
}

# Adds NVIDIA's apt repository, trusted only through its own keyring file (signed-by).
# Reuses an earlier setup (e.g. the cuda feature's) when no repository is given.
apt_add_repository() {  # apt_add_repository URL KEY
    if [ -z "$1" ] && [ -f "$APT_LIST" ]; then
        log "using the NVIDIA apt repository set up earlier ($APT_LIST)"
        return 0
    fi
    key="$2"; [ -n "$key" ] || key="${1%/}/3bf863cc.pub"
    tmp="$(mktemp)"
    fetch "$key" "$tmp" || fail "could not fetch the repository signing key from '$key': set aptKey to its URL or path."
    if grep -q 'BEGIN PGP PUBLIC KEY' "$tmp"; then keyring="$APT_KEYRING_DIR/nvidia-cuda.asc"
    else keyring="$APT_KEYRING_DIR/nvidia-cuda.gpg"; fi
    rm -f "$APT_KEYRING_DIR/nvidia-cuda.asc" "$APT_KEYRING_DIR/nvidia-cuda.gpg"
    mkdir -p "$APT_KEYRING_DIR"
    install -m 0644 "$tmp" "$keyring"; rm -f "$tmp"
    echo "deb [signed-by=$keyring] ${1%/}/ /" >"$APT_LIST"
}

# Stops unless an apt route is possible here: a supported distribution and a repository.
check_apt_route() {  # check_apt_route REPOSITORY_URL
    distro="$(apt_distro)"
    [ -n "$distro" ] || fail "source=apt supports Debian 12, Ubuntu 22.04 and Ubuntu 24.04 (NVIDIA's repositories); this image is '$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}")'. Use source=pypi instead."
    if [ -z "$1" ] && [ ! -f "$APT_LIST" ]; then
        fail "source=apt needs option aptRepository: NVIDIA's CUDA apt repository URL for your distribution ($distro, $(uname -m)), from NVIDIA's CUDA installation guide."
    fi
    case "$1" in ''|http://*|https://*|file:/*) ;;
        *) fail "option aptRepository must be an http(s):// or file:/ URL, got '$1'." ;; esac
}

# Stops unless wheels from PyPI can work here: glibc (NVIDIA's wheels are manylinux).
check_pypi_route() {
    getconf GNU_LIBC_VERSION >/dev/null 2>&1 \
        || fail "source=pypi needs a glibc-based distribution (NVIDIA's wheels are manylinux); this image has no glibc (Alpine/musl?)."
}
