"""env-doctor is a distribution of its own (features/src/env-doctor/pyproject.toml): its version is
the feature's, it supports the Pythons the feature does, and the hash-pinned lock that install.sh
installs from holds its build backend and versions its dependency ranges accept."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import env_doctor
from packaging.requirements import Requirement

from tests.utils.project import REPO

FEATURE = REPO / "features/src/env-doctor"
PYPROJECT = tomllib.loads((FEATURE / "pyproject.toml").read_text())


def lock_pins() -> dict[str, str]:
    text = (FEATURE / "requirements.lock").read_text()
    return {name.lower().replace("_", "-"): version for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def test_the_tests_import_the_installed_distribution_of_this_checkout():
    assert Path(env_doctor.__file__).resolve().parent == FEATURE / "env_doctor", (
        "env_doctor comes from elsewhere: run 'pip install -e features/src/env-doctor' (testbed/dev-env.sh does)")


def test_version_is_the_features():
    feature = json.loads((FEATURE / "devcontainer-feature.json").read_text())["version"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert env_doctor.__version__ == feature, (
        f"env_doctor/__init__.py says {env_doctor.__version__}, devcontainer-feature.json {feature}: "
        "set __version__ to the feature's version")


def test_requires_python_is_the_features_minimum():
    minimum = re.search(r'^FEATURE_MIN_PYTHON="([\d.]+)"', (FEATURE / "common.sh").read_text(), re.M).group(1)
    assert PYPROJECT["project"]["requires-python"] == f">={minimum}", (
        f"pyproject.toml: set requires-python to '>={minimum}', the oldest Python the feature installs into")


def test_lock_holds_the_build_backend_and_what_the_dependencies_accept():
    pins = lock_pins()
    for spec in [*PYPROJECT["build-system"]["requires"], *PYPROJECT["project"]["dependencies"]]:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"requirements.lock lacks {name}: add it in scripts/refresh_pins.py and run it"
        assert requirement.specifier.contains(pins[name]), f"requirements.lock pins {name}=={pins[name]}, outside {spec}"
    assert set(pins) == {"flit-core", "nvidia-ml-py", "pyyaml"}  # install.sh installs nothing else


def test_console_script_and_package_data():
    assert PYPROJECT["project"]["scripts"] == {"env-doctor": "env_doctor.cli:main"}
    data = FEATURE / "env_doctor/data"
    assert sorted(p.name for p in data.iterdir() if p.suffix != ".pyc" and p.name != "__pycache__") == [
        "env_doctor_bench.py", "env_doctor_probe.py", "versions.yml"]  # nothing the probe's sys.path could shadow
