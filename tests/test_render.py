"""Rendering the template: what a generated project contains for each answer, and what is refused."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import tomllib
import zipfile
from itertools import product
from pathlib import Path

import copier
import pytest
import yaml

from tests.utils.answers import REFUSED_ANSWERS
from tests.utils.project import LOCK_PYTHON, REPO, render
from tests.utils.tools import tool

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
                 ".devcontainer/features/env-doctor/pyproject.toml",
                 ".devcontainer/features/env-doctor/env_doctor/data/versions.yml",
                 ".devcontainer/features/env-doctor/env_doctor/__main__.py", "pyproject.toml", ".python-version",
                 "src/vision_lab/__init__.py", "src/vision_lab/device.py", "notebooks/example.ipynb",
                 "tests/test_device.py", "README.md", ".gitignore", ".dockerignore", ".copier-answers.yml"]:
        assert (root / path).is_file(), path
    assert not list(root.rglob("*.jinja"))
    assert (root / ".devcontainer/features/jupyterlab/install.sh").stat().st_mode & 0o111


def test_vendored_features_carry_what_runs_not_their_documentation(project):
    """The features' documentation (features/publish.json) stays in the template: a project gets
    one README pointing to it, and each feature folder keeps what its install runs, the shared
    shell library included (a local feature is built from its folder alone)."""
    root, _ = project
    features = root / ".devcontainer/features"
    documentation = set(json.loads((REPO / "features/publish.json").read_text())["documentation"])
    assert {"README.md", "NOTES.md", "report.schema.json"} <= documentation
    vendored = [path.relative_to(features).as_posix() for path in features.rglob("*") if path.is_file()]
    assert [name for name in vendored if Path(name).name in documentation] == ["README.md"]
    assert "copier update" in (features / "README.md").read_text()
    for folder in (path for path in features.iterdir() if path.is_dir()):
        source = REPO / "features/src" / folder.name
        shipped = {p.relative_to(source).as_posix() for p in source.rglob("*")
                   if p.is_file() and p.name not in documentation and "__pycache__" not in p.parts}
        assert {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} == shipped
        assert "common.sh" in shipped and ("nvidia.sh" in shipped) == (folder.name in ("cuda", "cudnn"))


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
    framework = answers["framework"] != "none"
    assert stages == ["base", "uv", "layer-pins", "venv", "jupyterlab", *(["framework"] if framework else []),
                      "tools", "env-doctor-environment", "env-doctor", "dev", "job"]
    env_base = "framework" if framework else "venv"
    # the dev group's tools in a layer of their own, before the lock's step (layer_pins.py's tools group)
    assert stage(dockerfile, "tools").startswith(f"FROM {env_base} AS tools")
    assert "from=layer-pins,source=/pins/pylock.tools.toml,target=/tmp/pylock.toml" in stage(dockerfile, "tools")
    assert "python3 /tmp/layer_pins.py --out /pins" in stage(dockerfile, "layer-pins")
    dev_stage, job_stage = stage(dockerfile, "dev"), stage(dockerfile, "job")
    for final in (dev_stage, job_stage):  # the lock's step last: a lock change rebuilds nothing before it
        assert final.startswith("FROM tools AS ")
        assert "uv sync --locked --no-install-project" in final
    assert "COPY . " not in dev_stage and "uv sync --locked" not in stage(dockerfile, "venv")
    assert dev_stage.index("sudo") < dev_stage.index("COPY --from=jupyterlab /opt/jupyterlab") \
        < dev_stage.index("COPY --from=env-doctor /opt/env-doctor") \
        < dev_stage.index("COPY --from=env-doctor /var/cache/env-doctor") \
        < dev_stage.index("uv sync --locked --no-install-project")
    # env-doctor's environment and the framework's facts, ahead and in parallel, by the feature's own
    # script: the environment from venv, beside the framework's layers, the snapshot once they are in
    environment, snapshot = stage(dockerfile, "env-doctor-environment"), stage(dockerfile, "env-doctor")
    assert environment.startswith("FROM venv AS env-doctor-environment")
    assert "sh /tmp/env-doctor-feature/install.sh" in environment and "REFERENCESNAPSHOT" not in environment
    assert snapshot.startswith(f"FROM {env_base} AS env-doctor")
    assert snapshot.index("COPY --from=env-doctor-environment /opt/env-doctor /opt/env-doctor") \
        < snapshot.index("REFERENCESNAPSHOT=true sh /tmp/env-doctor-feature/install.sh")
    assert job_stage.index("env-doctor-feature/install.sh") < job_stage.index("uv sync --locked --no-install-project") \
        < job_stage.index("COPY --chown=${USER_UID}:${USER_GID} . /app")
    assert "--require-hashes" in dockerfile
    assert dev_stage.rstrip().endswith('CMD ["jupyterlab-service", "status"]')
    assert "USER ${USERNAME}\nWORKDIR /home/${USERNAME}" in dev_stage
    assert "HEALTHCHECK" not in job_stage  # the job image is not the devcontainer
    # Bytecode where nobody can write it later: the job image, the framework's imports, not the rest
    assert "UV_COMPILE_BYTECODE" not in dockerfile
    assert "uv sync --locked --no-editable --no-cache --compile-bytecode" in job_stage
    module = {"pytorch": "torch", "tensorflow": "tensorflow", "jax": "jax"}.get(answers["framework"])
    assert (f'RUN python -c "import {module}"' in stage(dockerfile, "framework")) if framework else 'python -c "import' not in dockerfile


def stage(dockerfile: str, name: str) -> str:
    """The lines of one stage of the Dockerfile, its FROM line included."""
    return "FROM " + next(part for part in dockerfile.split("\nFROM ") if part.split("\n")[0].endswith(f" AS {name}"))


def test_devcontainer_has_passwordless_sudo_and_the_job_image_none(project):
    root, _ = project
    dockerfile = (root / ".devcontainer/Dockerfile").read_text()
    dev_stage = stage(dockerfile, "dev")
    assert "apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-unsafe-io sudo" in dev_stage
    # by user name (updateRemoteUserUID changes the UID), in a sudoers.d file sudo reads (no '.')
    assert 'echo "${USERNAME} ALL=(ALL:ALL) NOPASSWD: ALL" > /etc/sudoers.d/devcontainer-user' in dev_stage
    assert dev_stage.rstrip().splitlines()[-1] != "USER root"
    assert "sudo" not in stage(dockerfile, "venv") + stage(dockerfile, "job")


def test_without_sudo_the_dockerfile_has_none(tmp_path):
    root = render(tmp_path / "p", sudo=False)
    assert "sudo" not in (root / ".devcontainer/Dockerfile").read_text().lower()
    assert yaml.safe_load((root / ".copier-answers.yml").read_text())["sudo"] is False


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


def test_readme_shows_the_notebook_and_jobs_with_and_without_gpus(project):
    root, answers = project
    readme = (root / "README.md").read_text()
    notebook = readme.split("## The example notebook")[1].split("\n## ")[0]
    assert "`notebooks/example.ipynb`" in notebook and "Select Kernel" in notebook
    assert "jupyterlab-service url" in notebook  # JupyterLab is on in these projects
    job = readme.split("## Run a job outside VS Code")[1].split("\n## ")[0]
    runs = [line for line in job.splitlines() if line.startswith("docker run")]
    assert "--gpus" not in runs[0]  # runs on any host
    if answers["accelerator"] == "cuda":
        assert "--gpus all" in runs[1] and "NVIDIA Container Toolkit" in job
    else:
        assert len(runs) == 1 and "--gpus" not in job


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
    assert 'install -d -o "${USER_UID}" -g venv -m 2775 /cache /data' in stage(dockerfile, "venv")
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
    assert 'DATA_PATH = "/datasets/vision"' in (root / "cluster/hooks.py").read_text()
    assert '"/datasets/vision")' in (root / "src/vision_lab/data.py").read_text()
    assert ":/datasets/vision:ro" in (root / "cluster/local/compose.yml").read_text()


def test_lock_written_with_hashes_at_copy_time(tmp_path):
    root = render(tmp_path / "p", lock=True, framework="none", accelerator="cpu", python_version=LOCK_PYTHON)
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


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow", "jax", "none"])
def test_default_project_passes_its_own_lint(framework, tmp_path):
    """A new project with the default name passes the checks its pre-commit hook runs (the project's
    ruff settings): the package name in the generated prose keeps its lines within the limit. What
    comes from the template (build helpers, features, the cluster runtime) is linted with the
    project's rules too, and left out of formatting only."""
    root = render(tmp_path / "p", framework=framework)
    for command in (["check", "--output-format", "concise", "."], ["format", "--check", "."]):
        result = subprocess.run([tool("ruff"), *command], cwd=root, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    checked = subprocess.run([tool("ruff"), "check", "--show-files", "."], cwd=root, capture_output=True, text=True).stdout
    for machinery in (".devcontainer/publish.py", ".devcontainer/features/env-doctor/env_doctor/__main__.py", "cluster/mlcluster/cli.py"):
        assert str(root / machinery) in checked
    assert "_vendor" not in checked  # tomli, vendored unchanged


# Text that TOML, the LICENSE and the answers file must each carry unchanged.
AUTHOR = 'Jane "JJ" O\'Neil Ñ'
DESCRIPTION = 'Vision models: "fast" \\ small, <b>not</b> bold # no comment'


@pytest.mark.parametrize("license, expression, first_line", [
    ("MIT", "MIT", "MIT License"),
    ("Apache-2.0", "Apache-2.0", "Apache License"),
    ("BSD-3-Clause", "BSD-3-Clause", "BSD 3-Clause License"),
    ("Proprietary", "LicenseRef-Proprietary", f"Copyright (c) {datetime.date.today().year} {AUTHOR}. All rights reserved."),
])
def test_license_file_and_project_metadata(tmp_path, license, expression, first_line):
    root = render(tmp_path / "p", framework="none", accelerator="cpu", license=license,
                  author_name=AUTHOR, author_email="jane@example.com", description=DESCRIPTION)
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["license"] == expression and project["license-files"] == ["LICENSE"]
    assert project["authors"] == [{"name": AUTHOR, "email": "jane@example.com"}]
    assert project["description"] == DESCRIPTION
    text = (root / "LICENSE").read_text()
    assert text.strip().splitlines()[0].strip() == first_line
    if license == "Apache-2.0":  # the full text, as published (its appendix keeps its placeholders)
        assert text == (REPO / "data/licenses/Apache-2.0.txt").read_text()
        assert "END OF TERMS AND CONDITIONS" in text and text.count("\n") > 200
    else:
        year = datetime.date.today().year
        assert f"Copyright (c) {year}{',' if license == 'BSD-3-Clause' else ''} {AUTHOR}" in text
        assert "<year>" not in text and "<copyright holders>" not in text
    assert yaml.safe_load((root / ".copier-answers.yml").read_text())["description"] == DESCRIPTION


def test_default_license_names_the_project_authors(tmp_path):
    root = render(tmp_path / "p", project_name="Vision Lab", framework="none", accelerator="cpu")
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and "authors" not in project
    assert project["description"] == "A machine-learning project"
    assert f"Copyright (c) {datetime.date.today().year} The Vision Lab authors\n" in (root / "LICENSE").read_text()
    assert (root / "README.md").read_text().startswith("# Vision Lab\n\nA machine-learning project\n")


def test_email_alone_is_an_author(tmp_path):
    root = render(tmp_path / "p", framework="none", accelerator="cpu", author_email="lab@example.org")
    assert tomllib.loads((root / "pyproject.toml").read_text())["project"]["authors"] == [{"email": "lab@example.org"}]


def test_build_backend_takes_the_license_and_authors(tmp_path):
    """uv_build (the project's backend, PEP 639) builds the wheel: the license expression, the
    LICENSE file and the authors reach its metadata. Needs the network for uv_build itself."""
    root = render(tmp_path / "p", framework="none", accelerator="cpu", license="Proprietary", python_version=LOCK_PYTHON,
                  author_name=AUTHOR, author_email="jane@example.com", description=DESCRIPTION)
    uv = tool("uv")  # builds with the Python running the tests: uv downloads none
    subprocess.run([uv, "build", "--wheel", "--quiet", "--out-dir", str(tmp_path / "dist")], cwd=root,
                   check=True, capture_output=True, timeout=300)
    with zipfile.ZipFile(next((tmp_path / "dist").glob("*.whl"))) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: LicenseRef-Proprietary" in metadata.splitlines()
    assert f"Summary: {DESCRIPTION}" in metadata.splitlines()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_success_message_commands_make_a_committed_repository(tmp_path, capfd, monkeypatch):
    """The message after copy says how to start the git repository `copier update` and the
    pre-commit hook need; its command line, pasted into a shell, does that (a path with a space)."""
    monkeypatch.chdir(tmp_path)
    copier.run_copy(str(REPO), "my work/vision lab", data={"lock_dependencies": False}, defaults=True,
                    unsafe=True, vcs_ref="HEAD")
    message = capfd.readouterr().err
    command = next(line.strip() for line in message.splitlines() if line.strip().startswith("cd "))
    assert "git init && git add -A && git commit -m" in command
    assert "Dev Containers: Reopen in Container" in message
    identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True, capture_output=True,
                   env={**os.environ, **identity})
    status = subprocess.run(["git", "status", "--porcelain"], cwd=tmp_path / "my work" / "vision lab",
                            capture_output=True, text=True, check=True)
    assert status.stdout == ""  # everything committed
