"""`copier update` across real template versions: new framework versions roll in, the lock is
redone, and every user edit survives (conflicts are shown inline, never resolved by dropping them).

The module builds one template history in a temporary git repository, as Copier's own tests do:
1.0.0 is today's template without its newest PyTorch release (and the CUDA release only it uses)
and one VS Code setting; 2.0.0 gets that release the way the release loop does, from
scripts/discover_releases.py's data writer fed with the index metadata recorded when the release
was found (tests/data/), plus the template change. 2.0.0 is then today's template.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import copier
import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from resolver.versions import version_key
from scripts.releases.data import write_releases
from scripts.releases.facts import discover
from scripts.releases.index import RecordedIndex
from tests.test_discover_releases import DRIVERS, RECORDING
from tests.utils.project import LOCK_PYTHON, REPO
from tests.utils.tools import tool

TEMPLATE_PARTS = ["copier.yml", "template", "includes", "hooks", "resolver", "data", "features", "runtime"]
UV = tool("uv")
NEW_SETTING = '        "python.testing.pytestEnabled": true,\n'
FEATURE_DOCUMENTATION_PATTERN = '- ".devcontainer/features/*/'  # copier.yml's _exclude entries
NEW_NOTEBOOK_LINE = '    "print(f\\"interpreter: {sys.executable}\\")\\n",\n'


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


def versions_yml(text: str) -> dict:
    return yaml.safe_load(text)


def newest_torch() -> str:
    releases = yaml.safe_load((REPO / "data/versions.yml").read_text())["frameworks"]["pytorch"]["releases"]
    return max(releases, key=version_key)


@pytest.fixture(scope="module")
def template_history(tmp_path_factory) -> Path:
    """Read-only for the tests: each generates its own project from it."""
    repo = tmp_path_factory.mktemp("template")
    for part in TEMPLATE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, repo / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, repo / part)
    git(repo, "init", "-q")
    # 1.0.0: the newest PyTorch release and one VS Code setting are not there yet.
    data, devcontainer = repo / "data/versions.yml", repo / "template/.devcontainer/devcontainer.json.jinja"
    notebook, config = repo / "template/notebooks/example.ipynb.jinja", repo / "copier.yml"
    current_data, current_devcontainer, current_notebook = data.read_text(), devcontainer.read_text(), notebook.read_text()
    current_config = config.read_text()
    assert NEW_SETTING in current_devcontainer and NEW_NOTEBOOK_LINE in current_notebook
    # ... and, as in older template versions, the features' documentation is vendored too.
    config.write_text("".join(line for line in current_config.splitlines(keepends=True)
                              if FEATURE_DOCUMENTATION_PATTERN not in line))
    new_cuda = versions_yml(current_data)["frameworks"]["pytorch"]["releases"][newest_torch()]["cuda"]
    data.write_text("".join(line for line in current_data.splitlines(keepends=True)
                            if not line.strip().startswith((f'"{newest_torch()}"', *(f'"{c}"' for c in new_cuda)))))
    devcontainer.write_text(current_devcontainer.replace(NEW_SETTING, ""))
    notebook.write_text(current_notebook.replace(NEW_NOTEBOOK_LINE, ""))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "1.0.0")
    git(repo, "tag", "1.0.0")
    # 2.0.0: the release found on the index written by the discovery (the CUDA driver is the one
    # fact a maintainer gives it, from NVIDIA's release notes), and a template change.
    releases, cudas = discover(versions_yml(data.read_text()), RecordedIndex(RECORDING), DRIVERS)
    assert [(r.framework, r.version) for r in releases] == [("pytorch", newest_torch())]
    data.write_text(write_releases(data.read_text(), releases, {c: DRIVERS[c] for c in cudas}))
    assert data.read_text() == current_data  # no hand edit: the writer gives today's data
    devcontainer.write_text(current_devcontainer)
    notebook.write_text(current_notebook)
    config.write_text(current_config)
    git(repo, "commit", "-qam", "2.0.0")
    git(repo, "tag", "2.0.0")
    return repo


def generate(template: Path, dst: Path, lock: bool = True) -> Path:
    copier.run_copy(str(template), dst, vcs_ref="1.0.0", defaults=True, unsafe=True, quiet=True,
                    data={"project_name": "Update Demo", "python_version": LOCK_PYTHON, "lock_dependencies": lock})
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "commit", "-qm", "generated")
    return dst


def update(project: Path) -> None:
    copier.run_update(project, vcs_ref="2.0.0", defaults=True, unsafe=True, quiet=True,
                      overwrite=True, conflict="inline")


def locked(project: Path) -> dict[str, str]:
    lock = tomllib.loads((project / "uv.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"]}


def conflict_files(project: Path) -> list[str]:
    return [str(p.relative_to(project)) for p in project.rglob("*")
            if p.is_file() and ".git" not in p.parts and "<<<<<<< before updating" in p.read_text(errors="ignore")]


def make_user_edits(project: Path) -> None:
    subprocess.run([UV, "add", "--no-sync", "rich"], cwd=project, check=True, capture_output=True)
    config_path = project / ".devcontainer/devcontainer.json"
    config = config_path.read_text()
    config = config.replace('"ms-toolsai.jupyter"', '"ms-toolsai.jupyter",\n        "charliermarsh.ruff"')
    config = config.replace('"python.defaultInterpreterPath"', '"editor.rulers": [100],\n        "python.defaultInterpreterPath"')
    config_path.write_text(config)
    notebook = project / "notebooks/example.ipynb"
    notebook.write_text(notebook.read_text().replace("Runs in the project kernel", "Our team's baseline runs in the project kernel"))
    (project / "notebooks/experiment.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    device = project / "src/update_demo/device.py"
    device.write_text(device.read_text() + "\n\ndef batch_size() -> int:\n    return 64\n")
    (project / "src/update_demo/train.py").write_text("EPOCHS = 3\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "user edits")


def test_update_rolls_in_new_framework_and_keeps_every_edit(template_history, tmp_path):
    project = generate(template_history, tmp_path / "project")
    old_torch = locked(project)["torch"]
    assert old_torch != newest_torch()
    make_user_edits(project)

    update(project)

    # the template's changes are in
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert f"torch=={newest_torch()}" in pyproject["project"]["dependencies"]
    config = json.loads((project / ".devcontainer/devcontainer.json").read_text())
    assert config["customizations"]["vscode"]["settings"]["python.testing.pytestEnabled"] is True
    # every user edit survived
    assert any(dep.startswith("rich") for dep in pyproject["project"]["dependencies"])
    assert "charliermarsh.ruff" in config["customizations"]["vscode"]["extensions"]
    assert config["customizations"]["vscode"]["settings"]["editor.rulers"] == [100]
    assert "Our team's baseline" in (project / "notebooks/example.ipynb").read_text()
    assert (project / "notebooks/experiment.ipynb").exists()
    assert "def batch_size()" in (project / "src/update_demo/device.py").read_text()
    assert (project / "src/update_demo/train.py").read_text() == "EPOCHS = 3\n"
    assert conflict_files(project) == []
    # re-locked after the merge: the lock matches pyproject.toml, new torch and the user's package
    packages = locked(project)
    assert packages["torch"] == newest_torch() and "rich" in packages
    subprocess.run([UV, "lock", "--check"], cwd=project, check=True, capture_output=True)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "2.0.0" and answers["framework_version"] == "latest"


def test_pinned_framework_version_stays_pinned(template_history, tmp_path):
    project = tmp_path / "project"
    copier.run_copy(str(template_history), project, vcs_ref="1.0.0", defaults=True, unsafe=True, quiet=True,
                    data={"project_name": "Update Demo", "python_version": "3.12", "framework_version": "2.10.0",
                          "lock_dependencies": False})
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "generated")
    copier.run_update(project, vcs_ref="2.0.0", defaults=True, unsafe=True, quiet=True, overwrite=True)
    assert "torch==2.10.0" in (project / "pyproject.toml").read_text()


def update_command(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`copier update` as users run it: the CLI, its exit status and what it prints."""
    return subprocess.run([sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--vcs-ref", "2.0.0", *args],
                          cwd=project, capture_output=True, text=True)


def conflicting_edit(project: Path) -> Path:
    config_path = project / ".devcontainer/devcontainer.json"
    # the user changes the very line next to which the template adds its new setting
    config_path.write_text(config_path.read_text().replace(
        '"python.terminal.activateEnvironment": false,', '"python.terminal.activateEnvironment": true,'))
    git(project, "commit", "-qam", "user edit")
    return config_path


def test_conflicting_edit_is_shown_inline_not_dropped_and_reported(template_history, tmp_path):
    project = generate(template_history, tmp_path / "project")
    config_path = conflicting_edit(project)

    result = update_command(project)

    # the update fails visibly, names the file and the command that finds conflicts again
    assert result.returncode != 0
    assert "your decision" in result.stderr
    assert "    .devcontainer/devcontainer.json" in result.stderr
    assert "git diff --name-only --diff-filter=U" in result.stderr
    assert git(project, "diff", "--name-only", "--diff-filter=U").split() == [".devcontainer/devcontainer.json"]
    # both sides are kept inline
    text = config_path.read_text()
    assert conflict_files(project) == [".devcontainer/devcontainer.json"]
    ours, theirs = text.split("<<<<<<< before updating")[1].split(">>>>>>> after updating")[0].split("=======")
    assert '"python.terminal.activateEnvironment": true' in ours
    assert '"python.testing.pytestEnabled": true' in theirs
    # the rest of the update is applied: the new release is in and locked (pyproject.toml merged cleanly)
    assert f"torch=={newest_torch()}" in (project / "pyproject.toml").read_text()
    assert locked(project)["torch"] == newest_torch()
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "2.0.0"


def test_rejected_hunks_are_reported(template_history, tmp_path):
    project = generate(template_history, tmp_path / "project", lock=False)
    conflicting_edit(project)

    result = update_command(project, "--conflict", "rej")

    assert result.returncode != 0
    assert "    .devcontainer/devcontainer.json.rej" in result.stderr
    assert (project / ".devcontainer/devcontainer.json.rej").is_file()


def test_clean_update_exits_zero(template_history, tmp_path):
    project = generate(template_history, tmp_path / "project", lock=False)
    result = update_command(project)
    assert result.returncode == 0, result.stderr
    assert "your decision" not in result.stderr


def test_user_owned_examples_are_kept_not_merged(template_history, tmp_path):
    """copier.yml's _skip_if_exists: the example notebook and tests are the user's after the first
    copy. An edited one is kept byte for byte while the template's own change to it (2.0.0 adds a
    line to the notebook) is not merged in; a deleted one comes back as the template's newest."""
    project = generate(template_history, tmp_path / "project", lock=False)
    notebook = project / "notebooks/example.ipynb"
    assert "interpreter: {sys.executable}" not in notebook.read_text()  # 1.0.0's
    edited = notebook.read_bytes().replace(b"Runs in the project kernel", b"Our baseline runs in the project kernel")
    notebook.write_bytes(edited.replace(b"\n", b"\r\n"))  # another editor's line endings too
    (project / "tests/test_device.py").unlink()
    git(project, "add", "-A")
    git(project, "commit", "-qm", "user edits")

    result = update_command(project)

    assert result.returncode == 0, result.stderr
    assert notebook.read_bytes() == edited.replace(b"\n", b"\r\n")
    assert "describe_device" in (project / "tests/test_device.py").read_text()
    assert not list(project.rglob("*.rej")) and conflict_files(project) == []
    config = json.loads((project / ".devcontainer/devcontainer.json").read_text())
    assert config["customizations"]["vscode"]["settings"]["python.testing.pytestEnabled"] is True
    git(project, "add", "-A")
    git(project, "commit", "-qm", "updated")
    notebook.unlink()
    git(project, "commit", "-qam", "the template's newest notebook, please")
    assert update_command(project).returncode == 0
    assert "interpreter: {sys.executable}" in notebook.read_text()


def test_update_removes_the_features_documentation_older_versions_vendored(template_history, tmp_path):
    """Copier keeps a file that the new version excludes: the after-update migration removes the
    features' documentation an older version copied, and nothing of a feature of the user's own."""
    project = generate(template_history, tmp_path / "project", lock=False)
    features = project / ".devcontainer/features"
    assert (features / "env-doctor/report.schema.json").is_file() and (features / "cuda/NOTES.md").is_file()
    own = features / "my-feature/README.md"
    own.parent.mkdir()
    own.write_text("# My feature\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "my own feature")

    result = update_command(project)

    assert result.returncode == 0, result.stderr
    assert "Removed the features' documentation" in result.stderr
    left = sorted(p.relative_to(features).as_posix() for p in features.rglob("*")
                  if p.name in ("README.md", "NOTES.md", "report.schema.json"))
    assert left == ["README.md", "my-feature/README.md"]
    assert (features / "env-doctor/install.sh").is_file() and (features / "cuda/common.sh").is_file()


def test_exclude_patterns_render_without_any_function_or_answer():
    """`copier update` renders the NEW copier.yml's `_exclude` with the OLD template version's Jinja
    extension and answers (https://github.com/orgs/copier-org/discussions/2345): a pattern that calls a function an
    older version lacks breaks every update from it. Each must render with nothing defined."""
    environment = SandboxedEnvironment(undefined=StrictUndefined)
    for pattern in yaml.safe_load((REPO / "copier.yml").read_text())["_exclude"]:
        environment.from_string(pattern).render()


def test_answers_recorded_by_older_templates_still_accepted(template_history, tmp_path):
    """Older projects recorded jupyter_port as a number (the question was an int) and a pinned
    framework_version: `copier update` keeps both without asking again."""
    project = tmp_path / "project"
    copier.run_copy(str(template_history), project, vcs_ref="1.0.0", defaults=True, unsafe=True, quiet=True,
                    data={"python_version": "3.10", "framework_version": "2.10.0", "jupyter_port": "9999",
                          "lock_dependencies": False})
    answers_file = project / ".copier-answers.yml"
    recorded = answers_file.read_text()
    assert "jupyter_port: '9999'\n" in recorded
    answers_file.write_text(recorded.replace("jupyter_port: '9999'", "jupyter_port: 9999"))
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "generated")
    copier.run_update(project, vcs_ref="2.0.0", defaults=True, unsafe=True, quiet=True, overwrite=True)
    config = json.loads((project / ".devcontainer/devcontainer.json").read_text())
    assert config["forwardPorts"] == [9999]
    assert "torch==2.10.0" in (project / "pyproject.toml").read_text()
    assert yaml.safe_load(answers_file.read_text())["framework_version"] == "2.10.0"
