"""framework_pins.py: the framework's part of the lock, split into the image's layer groups."""

from __future__ import annotations

import subprocess
import sys

from tests.utils.project import REPO

PINS = REPO / "template/.devcontainer/framework_pins.py"


EXPORT = """\
cuda-toolkit==13.0.3.0 ; sys_platform == 'linux' \\
    --hash=sha256:aa
    # via torch
filelock==4.3.1 \\
    --hash=sha256:bb
    # via torch
numpy==2.4.6 \\
    --hash=sha256:cc
    # via
    #   my-project
    #   torch
nvidia-cublas==13.1.1.3 \\
    --hash=sha256:dd
    # via cuda-toolkit
nvidia-cuda-runtime-cu12==12.9.79 \\
    --hash=sha256:ee
    # via my-project
nvidia-cudnn-cu13==9.24.0.43 \\
    --hash=sha256:ff
    # via torch
nvidia-cusparselt-cu13==0.8.1 \\
    --hash=sha256:11
    # via torch
rich==14.0.0 \\
    --hash=sha256:22
    # via my-project
torch==2.14.1 \\
    --hash=sha256:33
    # via my-project
triton==3.8.0 \\
    --hash=sha256:44
    # via torch
"""


def names(text: str) -> list[str]:
    return [line.split("==")[0] for line in text.splitlines() if line and not line[0].isspace()]


def test_framework_pins_split_into_layer_groups(tmp_path):
    subprocess.run([sys.executable, str(PINS), "--out", str(tmp_path), "torch"], input=EXPORT, text=True, check=True)
    groups = {path.stem: names(path.read_text()) for path in tmp_path.glob("*.txt")}
    assert groups == {
        "cuda-toolkit": ["cuda-toolkit", "nvidia-cublas", "nvidia-cuda-runtime-cu12"],
        "nvidia": ["nvidia-cudnn-cu13", "nvidia-cusparselt-cu13"],
        "framework": ["torch", "triton"],
        "closure": ["filelock", "numpy"],
    }
    assert "--hash=sha256:33" in (tmp_path / "framework.txt").read_text()  # hashes kept: --require-hashes
    assert all("rich" not in group for group in groups.values())  # other dependencies stay in the uv sync layer


def test_framework_pins_without_nvidia_leaves_empty_groups(tmp_path):
    export = "jax==0.8.1 \\\n    --hash=sha256:1\n    # via my-project\njaxlib==0.8.1 \\\n    --hash=sha256:2\n    # via jax\n"
    subprocess.run([sys.executable, str(PINS), "--out", str(tmp_path), "jax"], input=export, text=True, check=True)
    assert (tmp_path / "cuda-toolkit.txt").read_text() == (tmp_path / "nvidia.txt").read_text() == ""
    assert names((tmp_path / "framework.txt").read_text()) == ["jax", "jaxlib"]
