"""Rendering the template: what a generated project contains for each answer, and what is refused."""

from __future__ import annotations

import json
import tomllib
from itertools import product
from pathlib import Path

import pytest
import yaml

from tests.utils.answers import REFUSED_ANSWERS
from tests.utils.project import render

FRAMEWORK_PACKAGE = {  # what pyproject.toml pins, by framework and accelerator
    ("pytorch", "cuda"): "torch==", ("pytorch", "cpu"): "torch==",
    ("tensorflow", "cuda"): "tensorflow[and-cuda]==", ("tensorflow", "cpu"): "tensorflow==",
    ("jax", "cuda"): "jax[cuda13]==", ("jax", "cpu"): "jax==",
}
MATRIX = [
    *product(["pytorch", "tensorflow", "jax", "none"], ["cuda", "cpu"], ["3.12"]),
    ("pytorch", "cuda", "3.10"),
    ("jax", "cpu", "3.11"),
    ("none", "cpu", "3.13"),
]


@pytest.fixture(scope="module", params=MATRIX, ids="-".join)
def project(request, tmp_path_factory) -> tuple[Path, dict]:
    framework, accelerator, python = request.param
    answers = {"project_name": "Vision Lab", "framework": framework,
               "accelerator": accelerator, "python_version": python}
    return render(tmp_path_factory.mktemp("p") / "vision-lab", **answers), answers


def devcontainer_json(root: Path) -> dict:
    return json.loads((root / ".devcontainer/devcontainer.json").read_text())


def test_layout(project):
    root, _ = project
    for path in [".devcontainer/devcontainer.json", ".devcontainer/Dockerfile",
                 ".devcontainer/uv-requirements.txt", ".devcontainer/certs/README.md",
                 ".devcontainer/features/jupyterlab/install.sh", ".devcontainer/features/env-doctor/install.sh",
                 ".devcontainer/features/env-doctor/versions.yml",
                 ".devcontainer/features/env-doctor/env_doctor/__main__.py", "pyproject.toml", ".python-version",
                 "src/vision_lab/__init__.py", "src/vision_lab/device.py", "notebooks/example.ipynb",
                 "tests/test_device.py", "README.md", ".gitignore", ".dockerignore", ".copier-answers.yml"]:
        assert (root / path).is_file(), path
    assert not list(root.rglob("*.jinja"))
    assert (root / ".devcontainer/features/jupyterlab/install.sh").stat().st_mode & 0o111


def test_answers_recorded_for_copier_update(project):
    root, answers = project
    recorded = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert {k: recorded[k] for k in answers} == answers
    assert "_src_path" in recorded


def test_python_version_pinned_everywhere(project):
    root, answers = project
    python = answers["python_version"]
    assert (root / ".python-version").read_text().strip() == python
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f"=={python}.*"
    assert f"ARG PYTHON_VERSION={python}" in (root / ".devcontainer/Dockerfile").read_text()


def test_framework_dependency(project):
    root, answers = project
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    expected = FRAMEWORK_PACKAGE.get((answers["framework"], answers["accelerator"]))
    dependencies = pyproject["project"]["dependencies"]
    if expected is None:
        assert dependencies == []
    else:  # pinned exactly: the newest release the template knows for that Python
        assert dependencies[0].startswith(expected) and dependencies[0].count("==") == 1
    assert "ipykernel" in pyproject["dependency-groups"]["dev"]


def test_gpu_is_optional_never_forced(project):
    root, answers = project
    config = devcontainer_json(root)
    assert "--gpus" not in " ".join(config.get("runArgs", []))
    assert "--shm-size=8g" in config["runArgs"]
    dockerfile = (root / ".devcontainer/Dockerfile").read_text()
    features = config["features"]
    if answers["accelerator"] == "cuda":
        # CUDA libraries once: the features reuse the framework's NVIDIA wheels in /opt/venv
        assert features["./features/cuda"] == {"version": "auto", "pythonEnv": "/opt/venv"}
        assert ("./features/cudnn" in features) == (answers["framework"] != "none")
        assert config["overrideFeatureInstallOrder"][0] == "./features/cuda"
        assert (root / ".devcontainer/features/cuda/install.sh").is_file()
        assert config["hostRequirements"]["gpu"] == "optional"
        assert "NVIDIA_DRIVER_CAPABILITIES=compute,utility" in dockerfile
        assert "NVIDIA_VISIBLE_DEVICES=all" in dockerfile
    else:
        assert "./features/cuda" not in features and "./features/cudnn" not in features
        assert not (root / ".devcontainer/features/cuda").exists()
        assert "gpu" not in config["hostRequirements"]
        assert "NVIDIA_" not in dockerfile


def test_vscode_finds_interpreter_and_kernel(project):
    root, _ = project
    config = devcontainer_json(root)
    vscode = config["customizations"]["vscode"]
    assert {"ms-python.python", "ms-toolsai.jupyter"} <= set(vscode["extensions"])
    assert vscode["settings"]["python.defaultInterpreterPath"] == "/opt/venv/bin/python"
    feature = config["features"]["./features/jupyterlab"]
    assert feature["kernelPython"] == "/opt/venv/bin/python"
    assert feature["kernelName"] == "vision-lab"
    assert config["remoteUser"] == "dev"
    assert config["features"]["./features/env-doctor"]["projectPython"] == "/opt/venv/bin/python"


def test_dockerfile_installs_from_lock_before_code(project):
    root, answers = project
    dockerfile = (root / ".devcontainer/Dockerfile").read_text()
    assert "# syntax=" not in dockerfile  # would make BuildKit pull a frontend image
    stages = [line.split()[-1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert stages == (["base", "uv", "dev", "job"] if answers["framework"] == "none"
                      else ["base", "uv", "framework-pins", "dev", "job"])
    dev_stage = dockerfile.split("AS dev")[1].split("AS job")[0]
    assert "uv sync --locked --no-install-project" in dev_stage
    assert "COPY . " not in dev_stage  # code never enters the dependency layer
    assert "--require-hashes" in dockerfile
    assert "USER ${USERNAME}" in dev_stage
    assert 'HEALTHCHECK --interval=15s' in dev_stage and 'CMD ["jupyterlab-service", "status"]' in dev_stage
    assert "HEALTHCHECK NONE" in dockerfile.split("AS job")[1]


def test_notebook_is_valid_and_uses_project_kernel(project):
    root, answers = project
    notebook = json.loads((root / "notebooks/example.ipynb").read_text())
    assert notebook["nbformat"] == 4
    assert notebook["metadata"]["kernelspec"]["name"] == "vision-lab"
    code = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                     for c in notebook["cells"] if c["cell_type"] == "code")
    compile(code, "example.ipynb", "exec")
    framework_import = {"pytorch": "import torch", "tensorflow": "import tensorflow",
                        "jax": "import jax", "none": "import statistics"}[answers["framework"]]
    assert framework_import in code


def test_generated_python_compiles(project):
    root, _ = project
    for path in (root / "src").rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_ci_runs_tests_inside_the_devcontainer(project):
    root, _ = project
    workflow = yaml.safe_load((root / ".github/workflows/ci.yml").read_text())
    steps = workflow["jobs"]["devcontainer"]["steps"]
    assert any(step.get("run") == "uv lock --check" for step in steps)
    inside = next(step["run"] for step in steps if "devcontainer exec" in step.get("run", ""))
    assert "python -m pytest" in inside
    assert "nbconvert --to notebook --execute" in inside


def test_without_jupyterlab_no_feature(tmp_path):
    root = render(tmp_path / "p", jupyterlab=False)
    config = devcontainer_json(root)
    assert "./features/jupyterlab" not in config["features"] and "forwardPorts" not in config
    assert not (root / ".devcontainer/features/jupyterlab").exists()
    assert "HEALTHCHECK" not in (root / ".devcontainer/Dockerfile").read_text()
    assert "nbconvert" not in (root / ".github/workflows/ci.yml").read_text()


def test_custom_jupyter_port(tmp_path):
    config = devcontainer_json(render(tmp_path / "p", jupyter_port=9999))
    assert config["forwardPorts"] == [9999]
    assert config["features"]["./features/jupyterlab"]["port"] == "9999"


def test_data_path_and_cache_volume(project):
    """One data path (the host folder ML_DATA_DIR names, read-only; else the project's data volume)
    and one cache volume holding every library's cache, the same in both configurations."""
    root, answers = project
    config = devcontainer_json(root)
    assert ("--volume=${localEnv:ML_DATA_DIR:vision-lab-data}:/data:${localEnv:ML_DATA_MODE:ro}"
            in config["runArgs"])
    assert config["mounts"] == ["source=vision-lab-cache,target=/cache,type=volume"]
    env = config["containerEnv"]
    assert env["PROJECT_DATA_DIR"] == "/data" and env["PROJECT_CACHE_VOLUME"] == "vision-lab-cache"
    for variable in ("XDG_CACHE_HOME", "HF_HOME", "TORCH_HOME", "KERAS_HOME", "TFDS_DATA_DIR",
                     "JAX_COMPILATION_CACHE_DIR", "UV_CACHE_DIR"):
        assert env[variable].startswith("/cache"), variable
    dockerfile = (root / ".devcontainer/Dockerfile").read_text()
    assert 'RUN install -d -o "${USER_UID}" -g venv -m 2775 /cache /data' in dockerfile
    ignored = (root / ".gitignore").read_text().split()
    assert {"/data/", "/outputs/", "/runs/", "cluster/local/data/"} <= set(ignored)
    assert "--output=outputs/try" in (root / f"src/{answers.get('package_name', 'vision_lab')}/train.py").read_text()


def test_custom_data_path_reaches_every_place(tmp_path):
    root = render(tmp_path / "p", project_name="Vision Lab", framework="none", accelerator="cpu",
                  data_path="/datasets/vision")
    config = devcontainer_json(root)
    assert config["runArgs"][1].endswith(":/datasets/vision:${localEnv:ML_DATA_MODE:ro}")
    assert config["containerEnv"]["PROJECT_DATA_DIR"] == "/datasets/vision"
    assert "-m 2775 /cache /datasets/vision" in (root / ".devcontainer/Dockerfile").read_text()
    assert 'DATA_PATH = "/datasets/vision"' in (root / "src/vision_lab/cluster.py").read_text()
    assert '"/datasets/vision")' in (root / "src/vision_lab/data.py").read_text()
    assert ":/datasets/vision:ro" in (root / "cluster/local/compose.yml").read_text()


def test_lock_written_with_hashes_at_copy_time(tmp_path):
    root = render(tmp_path / "p", lock=True, framework="none", accelerator="cpu", python_version="3.11")
    lock = (root / "uv.lock").read_text()
    assert 'name = "ipykernel"' in lock
    assert "hash = \"sha256:" in lock


@pytest.mark.parametrize("answers, message", REFUSED_ANSWERS)
def test_refused_answer_leaves_nothing(tmp_path, answers, message):
    dst = tmp_path / "p"
    with pytest.raises(ValueError, match=message):
        render(dst, **answers)
    assert not dst.exists()


def test_longest_accepted_name_names_kernel_and_package(tmp_path):
    name = "Lab " + "x" * 60  # 64 characters: the longest name accepted
    root = render(tmp_path / "p", project_name=name)
    slug = "lab-" + "x" * 60
    assert devcontainer_json(root)["features"]["./features/jupyterlab"]["kernelName"] == slug
    assert (root / "src" / slug.replace("-", "_") / "__init__.py").is_file()


def test_python_choices_come_from_the_data(tmp_path):
    pythons = yaml.safe_load((Path(__file__).parent.parent / "data/versions.yml").read_text())["python"]["project"]
    for python in (pythons[0], pythons[-1]):
        root = render(tmp_path / python, framework="none", accelerator="cpu", python_version=python)
        assert (root / ".python-version").read_text().strip() == python


def test_project_gets_lint_and_notebook_hooks(project):
    root, answers = project
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert {"ruff", "nbstripout", "pre-commit"} <= set(pyproject["dependency-groups"]["dev"])
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + answers["python_version"].replace(".", "")
    hooks = yaml.safe_load((root / ".pre-commit-config.yaml").read_text())
    ids = [hook["id"] for repo in hooks["repos"] for hook in repo["hooks"]]
    assert ids == ["ruff-check", "ruff-format", "nbstripout"]
    assert all(repo["repo"] == "local" for repo in hooks["repos"])  # the locked tools, no downloads
    workflow = (root / ".github/workflows/ci.yml").read_text()
    assert "pre-commit run --all-files" in workflow
