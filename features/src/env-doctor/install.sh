#!/bin/sh
# Installs env-doctor into its own environment (/opt/env-doctor: nvidia-ml-py + pyyaml from the
# hash-pinned requirements.lock), never into the project's one, and the env-doctor command.
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
for f in env_doctor/__init__.py env_doctor/__main__.py env_doctor_probe.py env_doctor_bench.py versions.yml requirements.lock; do
    [ -f "$FEATURE_DIR/$f" ] || fail "$f is missing beside install.sh: the feature folder is incomplete."
done

# --- env-doctor's own environment --------------------------------------------------------------
find_python
make_venv "$PREFIX"
venv_install --require-hashes -r "$FEATURE_DIR/requirements.lock"

# --- The command ------------------------------------------------------------------------------
# The env_doctor package and its data files side by side, as in the feature folder: the package
# finds versions.yml, settings.json and the probe in its parent folder.
mkdir -p "$SHARE/env_doctor"
install -m 0644 "$FEATURE_DIR"/env_doctor/*.py "$SHARE/env_doctor/"
install -m 0644 "$FEATURE_DIR/env_doctor_probe.py" "$FEATURE_DIR/env_doctor_bench.py" "$FEATURE_DIR/versions.yml" "$SHARE/"
cat >"$SHARE/settings.json" <<JSON
{"projectPython": "$PROJECTPYTHON", "checkOnStart": $CHECKONSTART}
JSON
# Only env-doctor's own interpreter sees the package (a .pth file in its venv), never through
# PYTHONPATH, which would leak into the probe that runs with the project's interpreter.
PURELIB="$("$PREFIX/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$SHARE" >"$PURELIB/env_doctor.pth"
"$PREFIX/bin/python" -m compileall -q "$SHARE/env_doctor" >/dev/null  # users cannot write __pycache__ here
# -I keeps the current folder off sys.path (python -m would put it first): a project file such as
# yaml.py or glob.py must not shadow env-doctor's imports.
cat >/usr/local/bin/env-doctor <<SH
#!/bin/sh
exec $PREFIX/bin/python -I -m env_doctor "\$@"
SH
chmod 0755 /usr/local/bin/env-doctor
# The environment as built: what `env-doctor diff --reference` compares a container with. Taken
# here, after the project environment and the CUDA features, with no host visible (build time).
if [ "$REFERENCESNAPSHOT" = true ]; then
    bench=""
    [ "$REFERENCEBENCH" != true ] || bench="--bench"
    env-doctor snapshot --at-build $bench ${REFERENCEPROJECT:+--project "$REFERENCEPROJECT"} -o "$SHARE/reference.json"
    chmod 0644 "$SHARE/reference.json"
fi
log "done: $(env-doctor --help | head -n 1)"
