"""scripts/sync.py: every derived file is current, a drifted copy is caught and repaired, and a new
CUDA release reaches every derived file from one data edit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
# What sync.py reads and writes: a copy of these is a complete playground.
TREE = ["data", "features", "docs", "scripts", "README.md"]


def sync(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(root / "scripts/sync.py"), *args],
                          capture_output=True, text=True, cwd=root)


@pytest.fixture
def playground(tmp_path) -> Path:
    for name in TREE:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    return tmp_path


def test_derived_files_are_current():
    result = sync(REPO, "--check")
    assert result.returncode == 0, result.stderr


def test_feature_copies_carry_the_library_and_its_data():
    common = (REPO / "features/lib/common.sh").read_text()
    oldest = min(yaml.safe_load((REPO / "data/versions.yml").read_text())["python"]["project"],
                 key=lambda v: tuple(map(int, v.split("."))))
    for feature in ("cuda", "cudnn", "env-doctor", "jupyterlab"):
        copy = (REPO / "features/src" / feature / "common.sh").read_text()
        assert copy.endswith(common) and f'FEATURE_MIN_PYTHON="{oldest}"' in copy, feature
    for feature in ("cuda", "cudnn"):
        assert (REPO / "features/src" / feature / "nvidia.sh").read_text().endswith(
            (REPO / "features/lib/nvidia.sh").read_text())
        assert (REPO / "features/test" / feature / "checks.sh").read_text().endswith(
            (REPO / "features/lib/test-checks.sh").read_text())


def test_a_hand_edited_copy_is_named_and_repaired(playground):
    copy = playground / "features/src/cudnn/common.sh"
    copy.write_text(copy.read_text() + "\nlocal_fix() { :; }\n")
    result = sync(playground, "--check")
    assert result.returncode == 1
    assert "features/src/cudnn/common.sh" in result.stderr and "scripts/sync.py" in result.stderr
    assert "local_fix" in copy.read_text()  # --check changes nothing
    assert sync(playground).returncode == 0
    assert "local_fix" not in copy.read_text()
    assert sync(playground, "--check").returncode == 0


def test_a_new_cuda_release_is_one_data_edit(playground):
    data_file = playground / "data/versions.yml"
    data = data_file.read_text().replace(
        '  # The cuda feature\'s version when', '    "13.1": {min_driver: "590.44.01", runtime_wheel: '
        '"nvidia-cuda-runtime==13.1.80"}\n  # The cuda feature\'s version when')
    data_file.write_text(data)
    assert yaml.safe_load(data)["cuda"]["releases"]["13.1"]["runtime_wheel"]
    result = sync(playground)
    assert result.returncode == 0, result.stderr
    features = playground / "features/src"
    assert ' 13.0 13.1"\n' in (features / "cuda/versions.sh").read_text()  # CUDA_SUPPORTED
    assert "13.1) echo nvidia-cuda-runtime==13.1.80" in (features / "cuda/versions.sh").read_text()
    proposals = json.loads((features / "cuda/devcontainer-feature.json").read_text())["options"]["version"]["proposals"]
    assert proposals[-1] == "13.1"
    assert "| 13.1 | `nvidia-cuda-runtime==13.1.80` | no | >= 590.44.01 | >= 580.65.06 |" in (
        playground / "docs/cuda-features.md").read_text()
    assert '"13.1": {min_driver: "590.44.01"' in (features / "env-doctor/versions.yml").read_text()
    assert sync(playground, "--check").returncode == 0


def test_inconsistent_data_is_refused_with_the_reason(playground):
    data_file = playground / "data/versions.yml"
    data_file.write_text(data_file.read_text().replace('feature_default: "12.8"', 'feature_default: "12.3"'))
    result = sync(playground, "--check")
    assert result.returncode == 1
    assert "feature_default 12.3 has no runtime_wheel" in result.stderr
