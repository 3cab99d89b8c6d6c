"""`copier update` from earlier versions of this template to this working tree.

A project is generated at each release tag of this repository and at older commits whose
copier.yml brought other functions or questions (an update renders parts of the new copier.yml
with the old version's Jinja extension), committed with a user's edits, and updated with the
`copier update` command: it succeeds, keeps every edit, leaves the lock current, and gives the
same files a fresh copy of this version gives.

The template repository is a clone of this one (its history), with this working tree committed
on top and tagged above every release. Needs the full git history (not a shallow clone) and the
package index (the projects are locked, as users' are).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import copier
import pytest
import yaml
from packaging.version import InvalidVersion, Version

from tests.test_update import git
from tests.utils.project import REPO, working_tree_files
from tests.utils.tools import tool

pytestmark = pytest.mark.integration

UV = tool("uv")
# Older template versions worth updating from, each with a copier.yml unlike today's, and the
# answers the project there is generated with. (Before the framework pin was fenced off with
# comments, a dependency added to a JAX or TensorFlow project sat next to the pin: its first
# update conflicts there, as it should, so those frameworks start from today's version.)
OLDER_COMMITS = {
    "3c76552": {"framework": "pytorch"},  # question logic still in copier.yml; features composed
    "65cb145": {"framework": "none", "python_version": "3.11"},  # question logic in the Jinja extension (functions in _exclude)
    "593032f": {"framework": "pytorch", "python_version": "3.10"},  # cluster/ and its framework-dependent exclude
    "270699b": {"framework": "pytorch", "jupyterlab": False},  # the last version before image publishing (unused_prebuilt_dir)
    "142b45c": {"framework": "pytorch"},  # the last version with the cluster launcher in the project's package
}
LAUNCHER_IN_PACKAGE = "142b45c"
USER_NOTES = "# Our team's notes\n\nDatasets live on the shared drive.\n"
USER_MODULE = "def batch_size() -> int:\n    return 64\n"


def release_tags() -> list[str]:
    tags = git(REPO, "tag", "--list").split()
    releases = []
    for tag in tags:
        try:
            Version(tag)
        except InvalidVersion:
            continue
        releases.append(tag)
    return releases


VERSIONS = [*release_tags(), *OLDER_COMMITS]


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory) -> tuple[Path, str]:
    """(a clone of this repository with this working tree committed on top, the tag of that commit)."""
    if git(REPO, "rev-parse", "--is-shallow-repository").strip() == "true":
        pytest.fail("the template's history is missing (shallow clone): run `git fetch --unshallow`")
    repo = tmp_path_factory.mktemp("history") / "template"
    subprocess.run(["git", "clone", "--quiet", "--no-local", str(REPO), str(repo)], check=True)
    for index, commit in enumerate(OLDER_COMMITS, start=1):
        git(repo, "tag", f"0.0.{index}", commit)  # Copier runs migrations between PEP 440 versions
    # this working tree, uncommitted edits included, as the newest release
    git(repo, "rm", "-rq", "--cached", ".")
    for name in git(repo, "ls-files", "--others").splitlines():
        (repo / name).unlink()
    for name in working_tree_files():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, repo / name, follow_symlinks=False)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "this working tree", "--allow-empty")
    newest = max([Version(tag) for tag in release_tags()], default=Version("0"))
    tag = f"{newest.major + 1}.0.0"
    git(repo, "tag", tag)
    return repo, tag


def tag_of(version: str) -> str:
    return f"0.0.{list(OLDER_COMMITS).index(version) + 1}" if version in OLDER_COMMITS else version


def answers_for(version: str) -> dict:
    return {"project_name": "History Demo", **OLDER_COMMITS.get(version, {})}


def make_user_edits(project: Path) -> None:
    subprocess.run([UV, "add", "--no-sync", "rich"], cwd=project, check=True, capture_output=True)
    (project / "src/history_demo/settings.py").write_text(USER_MODULE)
    (project / "docs").mkdir()
    (project / "docs/notes.md").write_text(USER_NOTES)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "user edits")


def generated_at(repo: Path, version: str, project: Path) -> Path:
    """A project generated from the template at version, committed as its user would."""
    copier.run_copy(str(repo), project, vcs_ref=tag_of(version), data=answers_for(version),
                    defaults=True, unsafe=True, quiet=True)
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "generated")
    return project


def files_of(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*")
            if path.is_file() and ".git" not in path.relative_to(root).parts}


@pytest.mark.parametrize("version", VERSIONS)
def test_update_from_an_earlier_version(template_repo, version, tmp_path):
    repo, newest = template_repo
    project = generated_at(repo, version, tmp_path / "project")
    generated = files_of(project)
    make_user_edits(project)

    result = subprocess.run([sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--vcs-ref", newest],
                            cwd=project, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr[-4000:]
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == newest
    # every edit kept
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert any(dependency.startswith("rich") for dependency in pyproject["project"]["dependencies"])
    assert (project / "src/history_demo/settings.py").read_text() == USER_MODULE
    assert (project / "docs/notes.md").read_text() == USER_NOTES
    # the lock is current: it matches pyproject.toml, the user's package included
    subprocess.run([UV, "lock", "--check"], cwd=project, check=True, capture_output=True)
    assert "rich" in {package["name"] for package in tomllib.loads((project / "uv.lock").read_text())["package"]}
    # the same files as a fresh copy of the newest version, apart from what the user changed
    fresh = tmp_path / "fresh"
    copier.run_copy(str(repo), fresh, vcs_ref=newest, data={**answers_for(version), "lock_dependencies": False},
                    defaults=True, unsafe=True, quiet=True)
    updated, expected = files_of(project), files_of(fresh)
    user_files = {"pyproject.toml", "uv.lock", "src/history_demo/settings.py", "docs/notes.md", ".copier-answers.yml"}
    # Files the user owns after the first copy (_skip_if_exists): left exactly as generated.
    kept = set(yaml.safe_load((REPO / "copier.yml").read_text())["_skip_if_exists"])
    assert [name for name in kept if name in updated and updated[name] != generated[name]] == []
    user_files |= kept
    assert set(updated) - user_files == set(expected) - user_files
    assert [name for name in expected if name not in user_files and updated[name] != expected[name]] == []


def test_update_moves_the_launcher_out_and_keeps_the_users_cluster_edits(template_repo, tmp_path):
    """A project made when the launcher lived in its package (src/<package>/cluster.py), with the
    user's own training option and cluster settings, updates to the runtime in cluster/mlcluster:
    no conflict, the edits kept, the runtime exactly this version's, the old launcher gone."""
    repo, newest = template_repo
    project = generated_at(repo, LAUNCHER_IN_PACKAGE, tmp_path / "project")
    train, settings = project / "src/history_demo/train.py", project / "cluster/settings.toml"
    train.write_text(train.read_text().replace('"--hidden", type=int, default=32', '"--hidden", type=int, default=48'))
    settings.write_text(settings.read_text().replace('namespace = ""  ', 'namespace = "ml"'))
    assert "default=48" in train.read_text() and 'namespace = "ml"' in settings.read_text()
    git(project, "commit", "-qam", "our training and cluster settings")

    result = subprocess.run([sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--vcs-ref", newest],
                            cwd=project, capture_output=True, text=True)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "default=48" in train.read_text() and 'namespace = "ml"' in settings.read_text()
    assert not (project / "src/history_demo/cluster.py").exists()
    runtime = project / "cluster/mlcluster"
    shipped = REPO / "runtime/mlcluster"
    for path in shipped.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert (runtime / path.relative_to(shipped)).read_bytes() == path.read_bytes(), path
    conflicted = [str(p) for p in project.rglob("*") if p.is_file() and ".git" not in p.parts
                  and p.suffix != ".lock" and "<<<<<<<" in p.read_text(errors="replace")]
    assert conflicted == []
