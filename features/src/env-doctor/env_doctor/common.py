"""What every part of env-doctor shares: where its data files are, how to read them, exit codes,
check statuses, and helpers for version strings and sizes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

# Files that ship inside the package (data/, no modules: the probe and the bench run by path, so
# their folder is first on the project interpreter's sys.path and holds nothing it could import).
PACKAGE_DATA = Path(__file__).resolve().parent / "data"
VERSIONS_FILE = PACKAGE_DATA / "versions.yml"  # generated copy of the template's data/versions.yml
PROBE_FILE = PACKAGE_DATA / "env_doctor_probe.py"  # a standalone script: runs with the project's interpreter
BENCH_FILE = PACKAGE_DATA / "env_doctor_bench.py"  # the same, for `env-doctor bench`
# What install.sh writes for the image, in a fixed place: settings.json (the feature options) and,
# with the option referenceSnapshot, reference.json: the environment as built (and published),
# which `env-doctor diff --reference` compares a container with.
SHARE_DIR = Path("/usr/local/share/env-doctor")
SETTINGS_FILE = SHARE_DIR / "settings.json"
REFERENCE_FILE = SHARE_DIR / "reference.json"

SCHEMA_VERSION = 1  # of the --json report and of snapshots
EXIT_OK, EXIT_PROBLEMS, EXIT_NO_GPU, EXIT_USAGE = 0, 1, 2, 3
STATUS_ORDER = ["ok", "info", "warn", "error"]
PROBLEMS = {"warn", "error"}  # statuses that make the exit code 1


def project_python_env() -> dict | None:
    """The environment to run the project's interpreter in. As root (an image build), it writes no
    bytecode: the project's environment is its user's, and a root-owned __pycache__ would stop that
    user from caching any other module of the package."""
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"} if os.geteuid() == 0 else None


def vkey(version: str | None) -> tuple[int, ...]:
    """'535.104.05' -> (535, 104, 5); '2.6.0+cu124' -> (2, 6, 0)."""
    if not version:
        return ()
    return tuple(int(n) for n in re.findall(r"\d+", str(version).split("+")[0]))


def cuda_str(number: int) -> str:
    """CUDA's integer encoding (12040) -> '12.4'."""
    return f"{number // 1000}.{(number % 1000) // 10}"


def cudnn_str(number: int) -> str:
    """cuDNN's integer encoding: 9 uses 90100 -> '9.1.0', 8 used 8902 -> '8.9.2'."""
    if number >= 90000:
        return f"{number // 10000}.{(number % 10000) // 100}.{number % 100}"
    return f"{number // 1000}.{(number % 1000) // 100}.{number % 100}"


def major_minor(version: str | None) -> str | None:
    parts = vkey(version)
    return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 else None


def mib(n_bytes: int | None) -> str:
    if n_bytes is None:
        return "?"
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


def disk_usage(path: str) -> dict | None:
    """Bytes of the file system holding path: total, used, and free to an unprivileged user; None
    when it cannot be read."""
    try:
        stat = os.statvfs(path)
    except OSError:
        return None
    return {"total": stat.f_blocks * stat.f_frsize, "used": (stat.f_blocks - stat.f_bfree) * stat.f_frsize,
            "free": stat.f_bavail * stat.f_frsize}


def load_versions(path: Path = VERSIONS_FILE) -> dict:
    import yaml  # from env-doctor's own environment

    return yaml.safe_load(path.read_text())


def load_settings() -> dict:
    try:
        return json.loads(SETTINGS_FILE.read_text())
    except (OSError, ValueError):
        return {}
