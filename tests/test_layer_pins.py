"""layer_pins.py: the lock's packages, split into the image's layer groups, one PEP 751 lock file
each: the split itself on uv's requirements export, and the files from a real lock made against a
stand-in index."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib

from tests.utils.project import REPO, layer_groups
from tests.utils.tools import tool
from tests.utils.wheel_index import metadata_wheel, serve, write_index

PINS = REPO / "template/.devcontainer/layer_pins.py"
_spec = importlib.util.spec_from_file_location("layer_pins", PINS)
layer_pins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(layer_pins)


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


def split_pins(*roots: str, export: str = EXPORT, dev: str = "", companions: tuple[str, ...] = ()) -> dict:
    return layer_pins.split(export, dev, list(roots), list(companions))


def test_the_frameworks_pins_split_into_layer_groups():
    groups = split_pins("torch")
    assert groups == {
        "cuda-toolkit": ["cuda-toolkit", "nvidia-cublas", "nvidia-cuda-runtime-cu12"],
        "nvidia": ["nvidia-cudnn-cu13", "nvidia-cusparselt-cu13"],
        "framework": ["torch", "triton"],
        "closure": ["filelock", "numpy"],
        "tools": [],  # no dev group
    }
    assert all("rich" not in group for group in groups.values())  # other dependencies stay in the uv sync layer


def test_a_framework_without_nvidia_wheels_leaves_their_groups_empty():
    export = "jax==0.8.1 \\\n    --hash=sha256:1\n    # via my-project\njaxlib==0.8.1 \\\n    --hash=sha256:2\n    # via jax\n"
    groups = split_pins("jax", export=export)
    assert groups["cuda-toolkit"] == groups["nvidia"] == []
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


def test_the_dev_groups_tools_and_the_frameworks_companions_get_layers_of_their_own():
    """After the framework's groups: the dev group's tools (the export of `--only-dev`) less what the
    framework's layers hold, so that the lock's own step installs only what the user added."""
    groups = split_pins("torch", companions=("rich",), dev=DEV_EXPORT)
    assert groups["closure"] == ["filelock", "numpy", "rich"]  # rich, a companion: with the framework
    assert groups["tools"] == ["ipykernel", "packaging", "pytest"]  # filelock is in the closure's layer


def test_without_a_framework_only_the_tools_group_is_filled():
    groups = split_pins(dev=DEV_EXPORT)
    assert groups == {"cuda-toolkit": [], "nvidia": [], "framework": [], "closure": [],
                      "tools": ["filelock", "ipykernel", "packaging", "pytest"]}


def test_a_local_or_url_requirement_is_left_to_the_locks_step():
    """`uv add --editable ./libs/helpers` or a git requirement: no layer group takes it (its source is
    not in the pins stage), and the other pins are still split."""
    local = ("-e ./libs/helpers\n    # via my-project\n"
             "mylib @ git+https://example.invalid/mylib@0123abc\n    # via my-project\n")
    groups = split_pins("torch", export=EXPORT + local, dev=DEV_EXPORT + "-e ./tools/lint-rules\n")
    assert not any(name in group for group in groups.values() for name in ("helpers", "mylib", "lint-rules"))
    assert groups["framework"] == ["torch", "triton"]
    assert groups["tools"] == ["ipykernel", "packaging", "pytest"]


# A framework-like project on a stand-in index: torch needs NVIDIA's libraries and filelock, pytest
# (the dev group) needs filelock too.
RELEASES = {
    "torch": ("2.0", ["filelock", "nvidia-cublas-cu12", "nvidia-cudnn-cu12", "triton"]),
    "triton": ("3.0", []), "filelock": ("3.0", []), "numpy": ("2.0", []), "rich": ("14.0", []),
    "nvidia-cublas-cu12": ("12.0", []), "nvidia-cudnn-cu12": ("9.0", ["nvidia-cublas-cu12"]),
    "pytest": ("9.0", ["filelock", "packaging"]), "packaging": ("26.0", []), "six": ("1.17", []),
}


def locked_project(tmp_path, url: str):
    """A project locked against the stand-in index, with a local package beside it."""
    root = tmp_path / "project"
    (root / "libs/helpers").mkdir(parents=True)
    (root / "libs/helpers/pyproject.toml").write_text(
        '[project]\nname = "helpers"\nversion = "1.0"\n\n'
        '[build-system]\nrequires = ["flit_core"]\nbuild-backend = "flit_core.buildapi"\n')
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\nversion = "0.1"\nrequires-python = ">={sys.version_info.major}.{sys.version_info.minor}"\n'
        'dependencies = ["torch", "numpy", "rich", "helpers"]\n\n[dependency-groups]\ndev = ["pytest"]\n\n'
        f'[tool.uv]\npackage = false\n\n[tool.uv.sources]\nhelpers = {{ path = "libs/helpers", editable = true }}\n\n'
        f'[[tool.uv.index]]\nurl = "{url}"\ndefault = true\n')
    return root


def uv(root, *args: str) -> None:
    subprocess.run([tool("uv"), *args, "--python", sys.executable, "--quiet"], cwd=root, check=True)


def test_each_group_is_a_lock_of_its_wheels_and_stays_the_same_when_a_dependency_is_added(tmp_path):
    """The files the image's layers install: each a PEP 751 lock of its group's packages alone, with
    the wheels' URLs on the index the lock took them from (no install asks an index for versions),
    byte for byte the same after `uv add six`, so that every group's layer stays cached."""
    wheels = []
    for name, (version, requires) in RELEASES.items():  # a wheel's file name spells "-" as "_"
        metadata = tmp_path / "metadata" / name
        metadata.parent.mkdir(exist_ok=True)
        metadata.write_text(f"Metadata-Version: 2.1\nName: {name.replace('-', '_')}\nVersion: {version}\n"
                            + "".join(f"Requires-Dist: {r}\n" for r in requires))
        wheels.append(metadata_wheel(tmp_path / "wheels", metadata, "py3-none-any"))
    write_index(tmp_path / "index", wheels)
    with serve(tmp_path / "index") as url:
        root = locked_project(tmp_path, url)
        uv(root, "lock")
        before = layer_groups(root, tmp_path / "before", "torch", "--with", "numpy", script=PINS)
        uv(root, "add", "--no-sync", "six")
        after = layer_groups(root, tmp_path / "after", "torch", "--with", "numpy", script=PINS)
    assert before == after
    groups = {name.split(".")[1]: tomllib.loads(text.decode()) if text else {} for name, text in before.items()}
    assert {group: [p["name"] for p in lock.get("packages", [])] for group, lock in groups.items()} == {
        "cuda-toolkit": ["nvidia-cublas-cu12"], "nvidia": ["nvidia-cudnn-cu12"], "framework": ["torch", "triton"],
        "closure": ["filelock", "numpy"], "tools": ["packaging", "pytest"]}  # rich, helpers: the lock's step
    wheel = groups["framework"]["packages"][0]["wheels"][0]
    assert wheel["url"].startswith(url.removesuffix("/simple")) and wheel["hashes"]["sha256"]
    assert all(b"helpers" not in text and not text.startswith(b"#") for text in before.values())
