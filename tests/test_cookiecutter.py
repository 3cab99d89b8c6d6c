"""cookiecutter's front door: the same project as `copier copy`, byte for byte, for the same answers,
and the same refusals with the same messages, leaving nothing behind.

Both sides render this working tree at HEAD (uncommitted edits included: Copier commits them in a
scratch clone, so the commit dates are pinned to give both the same `_commit`).
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import copier
import plumbum
import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from resolver import extension, versions
from resolver.answers import slug as project_slug
from resolver.questions import computed, questions
from tests.utils.answers import REFUSED_ANSWERS
from tests.utils.project import LOCK_PYTHON, REPO, render

QUESTIONS = questions()
FRAMEWORKS = [value for _, value in extension.choice_pairs(QUESTIONS["framework"]["choices"])]
ACCELERATORS = list(QUESTIONS["accelerator"]["choices"].values())
PYTORCH_OLDEST = versions.releases("pytorch")[-1]
PYTORCH_OLDEST_CUDA = min(versions.release("pytorch", PYTORCH_OLDEST)["cuda"], key=versions.version_key)
NEWEST_CUDA = versions.cuda_versions("pytorch")[0]

# Every framework with every accelerator; the other answers off their defaults along the way.
# lock_dependencies is false unless given (locking is slow and needs the network).
EXTRA = {
    ("pytorch", "cuda"): {"framework_version": PYTORCH_OLDEST, "cuda_version": PYTORCH_OLDEST_CUDA},
    ("jax", "cpu"): {"project_name": "Vision Lab 2.0_beta", "python_version": "3.10", "base_image": "ubuntu:24.04",
                     "description": 'Vision models: "fast" \\ small', "license": "BSD-3-Clause"},
    ("tensorflow", "cuda"): {"python_version": "3.13", "base_image": "debian:trixie", "jupyterlab": False,
                             "license": "Proprietary", "sudo": False},
    ("none", "cpu"): {"jupyter_port": 9999, "package_name": "lab_core", "base_image": "ubuntu:22.04",
                      "author_name": 'Jane "JJ" Doe', "author_email": "jane@example.com", "license": "Apache-2.0"},
}
MATRIX = [{"framework": f, "accelerator": a, **EXTRA.get((f, a), {})} for f in FRAMEWORKS for a in ACCELERATORS]
# cookiecutter takes these as free text where Copier offers a menu: Copier still decides.
REFUSED_FREE_TEXT = [
    ({"framework_version": "0.1"}, "Invalid choice for 'framework_version'"),
    ({"framework": "pytorch", "framework_version": PYTORCH_OLDEST, "cuda_version": NEWEST_CUDA},
     f"pytorch {PYTORCH_OLDEST} is built for CUDA {PYTORCH_OLDEST_CUDA}, not {NEWEST_CUDA}"),
    ({"jupyter_port": "eighty"}, "Use a port number from 1024 to 65535"),
]


@pytest.fixture(autouse=True)
def same_draft_commit(monkeypatch):
    """Copier commits a dirty template in its clone: the same dates give both runs the same `_commit`
    (Copier runs git through plumbum, whose environment is a copy taken when it was imported)."""
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(variable, "2025-01-01T00:00:00+00:00")
        monkeypatch.setitem(plumbum.local.env, variable, "2025-01-01T00:00:00+00:00")


@pytest.fixture
def config_file(tmp_path) -> str:
    """Keeps cookiecutter's replay files and clones out of the home folder."""
    config = tmp_path / "cookiecutter.yaml"
    config.write_text(f"cookiecutters_dir: {tmp_path / 'cookiecutters'}\nreplay_dir: {tmp_path / 'replay'}\n")
    return str(config)


def cookiecutter_text(value) -> str:
    """An answer as `cookiecutter --no-input key=value` passes it."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def run_cookiecutter(output_dir: Path, config_file: str, answers: dict, template: str = str(REPO)) -> Path:
    """`cookiecutter TEMPLATE --directory cookiecutter --no-input key=value...`"""
    extra = {"lock_dependencies": False, **answers}
    return Path(cookiecutter(template, checkout="HEAD", no_input=True, output_dir=str(output_dir),
                             config_file=config_file, directory="cookiecutter",
                             extra_context={key: cookiecutter_text(value) for key, value in extra.items()}))


def tree(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under root: its mode and, for a file, its bytes."""
    return {str(path.relative_to(root)): (stat.S_IMODE(path.stat().st_mode),
                                          path.read_bytes() if path.is_file() else None)
            for path in sorted(root.rglob("*"))}


def assert_same_tree(left: Path, right: Path) -> None:
    ours, theirs = tree(left), tree(right)
    assert sorted(ours) == sorted(theirs)
    different = [path for path in ours if ours[path] != theirs[path]]
    assert not different, f"differ: {different}"


@pytest.mark.parametrize("answers", MATRIX, ids=lambda a: ",".join(f"{k}={v}" for k, v in a.items()))
def test_cookiecutter_project_is_copier_project(tmp_path, config_file, answers):
    made = run_cookiecutter(tmp_path / "cookiecutter", config_file, answers)
    slug = project_slug(answers.get("project_name", QUESTIONS["project_name"]["default"]))
    assert made == tmp_path / "cookiecutter" / slug  # the folder is named like the project
    copied = render(tmp_path / "copier" / slug, **answers)
    assert_same_tree(made, copied)
    assert "_commit" in (made / ".copier-answers.yml").read_text()  # ready for `copier update`


def test_relative_template_path_recorded_as_given(tmp_path, config_file, monkeypatch):
    """`cookiecutter .` records `_src_path: .`, as `copier copy .` does."""
    monkeypatch.chdir(REPO)
    made = run_cookiecutter(tmp_path / "cookiecutter", config_file, {"framework": "none"}, template=".")
    copier.run_copy(".", tmp_path / "copier/my-ml-project", data={"framework": "none", "lock_dependencies": False},
                    defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")
    assert "\n_src_path: .\n" in (made / ".copier-answers.yml").read_text()
    assert_same_tree(made, tmp_path / "copier/my-ml-project")


def test_locked_project_is_copier_project(tmp_path, config_file):
    """Both lock at copy time (uv, over the network): the same uv.lock, byte for byte."""
    answers = {"framework": "none", "accelerator": "cpu", "python_version": LOCK_PYTHON, "lock_dependencies": True}
    made = run_cookiecutter(tmp_path / "cookiecutter", config_file, answers)
    copied = render(tmp_path / "copier/my-ml-project", lock=True, **answers)
    assert (made / "uv.lock").is_file()
    assert_same_tree(made, copied)


@pytest.mark.parametrize("answers, message", REFUSED_ANSWERS + REFUSED_FREE_TEXT)
def test_refused_answer_same_message_nothing_written(tmp_path, config_file, capfd, answers, message):
    with pytest.raises(ValueError) as refused:  # Copier's own refusal, for its message
        render(tmp_path / "copier", **answers)
    assert re.search(message, str(refused.value))
    capfd.readouterr()
    out = tmp_path / "cookiecutter"
    with pytest.raises(FailedHookException):
        run_cookiecutter(out, config_file, answers)
    assert f"error: {refused.value}" in capfd.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_cookiecutter_json_asks_copier_questions():
    """The same questions and defaults (scripts/sync.py keeps the file current; this says what it holds)."""
    context = json.loads((REPO / "cookiecutter/cookiecutter.json").read_text())
    asked = [key for key in context if not key.startswith("_")]
    assert asked == [key for key, q in QUESTIONS.items() if not computed(q)]
    for key in asked:
        default = QUESTIONS[key]["default"]
        if "{{" not in str(default):
            assert context[key] == default, key
        assert context["__prompts__"][key].startswith(QUESTIONS[key]["help"].split("{{")[0].strip()), key
    for value in FRAMEWORKS:
        assert value in context["__prompts__"]["framework"]
    for python in versions.project_pythons():
        assert python in context["__prompts__"]["python_version"]
