#!/bin/sh
# Installs the env-doctor distribution (pyproject.toml here) into its own environment
# (/opt/env-doctor, with nvidia-ml-py + pyyaml from the hash-pinned requirements.lock), never into
# the project's one, and the env-doctor command. The image's settings and reference snapshot go to
# /usr/local/share/env-doctor, where the package reads them.
# Runs as root at image build time; devcontainer feature options arrive as upper-case variables.
set -eu

PROJECTPYTHON="${PROJECTPYTHON:-}"
CHECKONSTART="${CHECKONSTART:-true}"
REFERENCESNAPSHOT="${REFERENCESNAPSHOT:-false}"
REFERENCEBENCH="${REFERENCEBENCH:-false}"
REFERENCEPROJECT="${REFERENCEPROJECT:-}"

PREFIX=/opt/env-doctor
SHARE=/usr/local/share/env-doctor
FEATURE=env-doctor
FEATURE_DIR="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=common.sh
. "$FEATURE_DIR/common.sh"

# --- Check everything before changing anything -------------------------------------------------
require_root
check_arch
OS_ID="$(. /etc/os-release 2>/dev/null && echo "${ID:-} ${ID_LIKE:-}")" || OS_ID=""
case " $OS_ID " in
    *" debian "*|*" ubuntu "*) ;;
    *) fail "unsupported distribution '${OS_ID:-unknown}': this feature supports Debian and Ubuntu based images." ;;
esac
check_bool checkOnStart "$CHECKONSTART"
check_bool referenceSnapshot "$REFERENCESNAPSHOT"
check_bool referenceBench "$REFERENCEBENCH"
if [ "$REFERENCEBENCH" = true ] && [ "$REFERENCESNAPSHOT" != true ]; then
    fail "option referenceBench needs referenceSnapshot=true: the figures go into the reference snapshot."
fi
if [ -n "$REFERENCEPROJECT" ] && [ ! -f "$REFERENCEPROJECT/uv.lock" ]; then
    fail "option referenceProject: no uv.lock in '$REFERENCEPROJECT'."
fi
case "$PROJECTPYTHON" in *'"'*|*'\'*) fail "option projectPython must be a plain path, got '$PROJECTPYTHON'." ;; esac
for f in pyproject.toml requirements.lock env_doctor/__init__.py env_doctor/__main__.py \
         env_doctor/data/env_doctor_probe.py env_doctor/data/env_doctor_bench.py env_doctor/data/versions.yml; do
    [ -f "$FEATURE_DIR/$f" ] || fail "$f is missing beside install.sh: the feature folder is incomplete."
done

# --- env-doctor's own environment --------------------------------------------------------------
# An environment this script already installed from these very files is kept: an image can run the
# script before its project's lock is installed, and the feature's run after a lock change then
# only writes the settings and the snapshot.
STAMP="$PREFIX/.installed-from"
SOURCE_DIGEST="$(cd "$FEATURE_DIR" && find pyproject.toml requirements.lock env_doctor -name __pycache__ -prune -o -type f -print \
    | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" = "$SOURCE_DIGEST" ] && "$PREFIX/bin/python" -I -c 'import env_doctor' 2>/dev/null; then
    log "keeping $PREFIX: installed from this feature's files"
else
    find_python
    make_venv "$PREFIX"
    # The lock holds flit_core, the build backend of pyproject.toml: env-doctor itself is then built
    # from this folder with nothing downloaded (--no-index) and nothing unpinned (--no-deps: its
    # dependencies are the lock's). Every package in the environment is hash-checked or this folder.
    venv_install --require-hashes -r "$FEATURE_DIR/requirements.lock"
    venv_install --no-build-isolation --no-deps --no-index "$FEATURE_DIR"
    echo "$SOURCE_DIGEST" >"$STAMP"
fi
PACKAGE="$("$PREFIX/bin/python" -I -c 'import env_doctor, os; print(os.path.dirname(env_doctor.__file__))')"
"$PREFIX/bin/python" -m compileall -q "$PACKAGE" >/dev/null  # users cannot write __pycache__ there

# --- The command and the image's settings ------------------------------------------------------
mkdir -p "$SHARE"
rm -rf "$SHARE/env_doctor" "$SHARE/env_doctor.pth" "$SHARE"/env_doctor_*.py "$SHARE/versions.yml"  # an older layout's
cat >"$SHARE/settings.json" <<JSON
{"projectPython": "$PROJECTPYTHON", "checkOnStart": $CHECKONSTART}
JSON
# For a notebook kernel (the project's interpreter): sys.path.append("/usr/local/share/env-doctor")
# makes `env_doctor.watch()` importable there (only the standard library), nothing else of
# env-doctor's environment.
ln -s "$PACKAGE" "$SHARE/env_doctor"
# -I keeps the current folder off sys.path (python -m would put it first): a project file such as
# yaml.py or glob.py must not shadow env-doctor's imports.
cat >/usr/local/bin/env-doctor <<SH
#!/bin/sh
exec $PREFIX/bin/python -I -m env_doctor "\$@"
SH
chmod 0755 /usr/local/bin/env-doctor
# The environment as built: what `env-doctor diff --reference` compares a container with. Taken
# here, after the project environment and the CUDA features, with no host visible (build time).
# The frameworks' facts come from an earlier snapshot of the same build when nothing they depend
# on changed (/var/cache/env-doctor): adding a package does not import the framework again.
if [ "$REFERENCESNAPSHOT" = true ]; then
    bench=""
    [ "$REFERENCEBENCH" != true ] || bench="--bench"
    env-doctor snapshot --at-build $bench ${REFERENCEPROJECT:+--project "$REFERENCEPROJECT"} -o "$SHARE/reference.json"
    chmod 0644 "$SHARE/reference.json"
fi
log "done: $(env-doctor --help | head -n 1)"
