"""layer_pins.py: the lock's packages, split into the image's layer groups."""

from __future__ import annotations

import subprocess
import sys

from tests.utils.project import REPO

PINS = REPO / "template/.devcontainer/layer_pins.py"


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


def split_pins(tmp_path, *args: str, export: str = EXPORT, dev: str | None = None) -> dict[str, list[str]]:
    """Run layer_pins.py (with `dev` as the dev group's export, if given): the packages of each group."""
    if dev is not None:
        (tmp_path / "dev.txt").write_text(dev)
        args = ("--tools", str(tmp_path / "dev.txt"), *args)
    out = tmp_path / "pins"
    subprocess.run([sys.executable, str(PINS), "--out", str(out), *args], input=export, text=True, check=True)
    return {path.stem: names(path.read_text()) for path in out.glob("*.txt")}


def test_the_frameworks_pins_split_into_layer_groups(tmp_path):
    groups = split_pins(tmp_path, "torch")
    assert groups == {
        "cuda-toolkit": ["cuda-toolkit", "nvidia-cublas", "nvidia-cuda-runtime-cu12"],
        "nvidia": ["nvidia-cudnn-cu13", "nvidia-cusparselt-cu13"],
        "framework": ["torch", "triton"],
        "closure": ["filelock", "numpy"],
        "tools": [],  # no dev group given
    }
    assert "--hash=sha256:33" in (tmp_path / "pins/framework.txt").read_text()  # hashes kept: --require-hashes
    assert all("rich" not in group for group in groups.values())  # other dependencies stay in the uv sync layer


def test_a_framework_without_nvidia_wheels_leaves_their_groups_empty(tmp_path):
    export = "jax==0.8.1 \\\n    --hash=sha256:1\n    # via my-project\njaxlib==0.8.1 \\\n    --hash=sha256:2\n    # via jax\n"
    groups = split_pins(tmp_path, "jax", export=export)
    assert (tmp_path / "pins/cuda-toolkit.txt").read_text() == (tmp_path / "pins/nvidia.txt").read_text() == ""
    assert groups["framework"] == ["jax", "jaxlib"]


DEV_EXPORT = """\
filelock==4.3.1 \\
    --hash=sha256:bb
    # via pytest
ipykernel==7.4.0 \\
    --hash=sha256:55
packaging==26.4 \\
    --hash=sha256:66
    # via pytest
pytest==9.2.0 \\
    --hash=sha256:77
"""


def test_the_dev_groups_tools_and_the_frameworks_companions_get_layers_of_their_own(tmp_path):
    """After the framework's groups: the dev group's tools (the export of `--only-dev`) less what the
    framework's layers hold, so that the lock's own step installs only what the user added."""
    groups = split_pins(tmp_path, "torch", "--with", "rich", dev=DEV_EXPORT)
    assert groups["closure"] == ["filelock", "numpy", "rich"]  # rich, a companion: with the framework
    assert groups["tools"] == ["ipykernel", "packaging", "pytest"]  # filelock is in the closure's layer
    assert "--hash=sha256:55" in (tmp_path / "pins/tools.txt").read_text()


def test_without_a_framework_only_the_tools_group_is_filled(tmp_path):
    groups = split_pins(tmp_path, dev=DEV_EXPORT)
    assert groups == {"cuda-toolkit": [], "nvidia": [], "framework": [], "closure": [],
                      "tools": ["filelock", "ipykernel", "packaging", "pytest"]}


def test_a_local_or_url_requirement_is_left_to_the_locks_step(tmp_path):
    """`uv add --editable ./libs/helpers` or a git requirement: no layer group takes it (its source is
    not in the pins stage), and the other pins are still split."""
    local = ("-e ./libs/helpers\n    # via my-project\n"
             "mylib @ git+https://example.invalid/mylib@0123abc\n    # via my-project\n")
    groups = split_pins(tmp_path, "torch", export=EXPORT + local, dev=DEV_EXPORT + "-e ./tools/lint-rules\n")
    text = "".join(path.read_text() for path in (tmp_path / "pins").glob("*.txt"))
    assert "helpers" not in text and "mylib" not in text and "lint-rules" not in text
    assert groups["framework"] == ["torch", "triton"]
    assert groups["tools"] == ["ipykernel", "packaging", "pytest"]
