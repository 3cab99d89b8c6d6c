"""The questions as a person answers them: the real `copier copy` in a pseudo-terminal, driven with
keys. Each menu offers only what fits the earlier answers, and a bad answer is refused at its own
question, with a message, and can be corrected there.

Questions a test does not care about get their default (Enter), so a new question in copier.yml
does not break these tests unless its default is refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tomllib
from pathlib import Path

import copier
import pexpect
import pytest
import yaml

from resolver import answers, extension, versions
from tests.utils.project import REPO, render

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROMPT_STARTS = "\x1b[?2004h"  # prompt_toolkit turns bracketed paste on when a question starts
RENDERED = "\x1b[?7h"  # ... and line wrapping back on at the end of each screen update
DOWN, UP, ENTER, CLEAR_LINE = "\x1b[B", "\x1b[A", "\r", "\x15"
POINTER = "» "  # questionary's mark of the selected menu entry; a disabled one starts with "- "


class Session:
    """`copier copy` of this working tree in a terminal of 200 columns (no wrapped help lines)."""

    def __init__(self, dst: Path, template: Path = REPO, **data):
        data = {"lock_dependencies": "false", **data}  # locking needs the network
        args = ["-m", "copier", "copy", "--trust", str(template), str(dst)]
        args += ["--vcs-ref", "HEAD"] if (template / ".git").exists() else []  # uncommitted edits included
        args += [option for key, value in data.items() for option in ("--data", f"{key}={value}")]
        # No cursor position requests: prompt_toolkit would wait a second for answers this terminal never gives.
        env = {**os.environ, "TERM": "xterm", "COLUMNS": "200", "LINES": "50", "LC_ALL": "C.UTF-8",
               "PROMPT_TOOLKIT_NO_CPR": "1"}
        self.child = pexpect.spawn(sys.executable, args, env=env, dimensions=(50, 200), encoding="utf-8",
                                   timeout=30)
        self.menu: list[str] = []
        self.unanswered = False  # a question shown by ask() waits for its answer

    def _next_screen(self) -> str | None:
        """The first screen of the next question (escape codes removed), or None when Copier is done."""
        if self.child.expect_exact([PROMPT_STARTS, pexpect.EOF]) == 1:
            return None
        self.child.expect_exact(RENDERED)
        return ESCAPE.sub("", self.child.before).replace("\r", "")

    def ask(self, question: str) -> list[str]:
        """Answer the questions before `question` with their defaults; the lines `question` shows
        under its help text (a menu's entries, or the default answer)."""
        while (screen := self._next_screen()) is not None:
            if question in screen:
                lines = [line.strip() for line in screen.splitlines()[1:] if line.strip()]
                self.menu = [line for line in lines if line != "(Use arrow keys)"]
                self.unanswered = True
                return self.menu
            self.child.send(ENTER)
        raise AssertionError(f"Copier ended without asking {question!r}")

    def offered(self) -> list[str]:
        """The labels of the menu's entries a user can pick."""
        return [entry.removeprefix(POINTER) for entry in self.menu if not entry.startswith("- ")]

    def choose(self, label: str) -> None:
        """Pick a menu entry with the arrow keys (they skip disabled entries)."""
        offered = self.offered()
        selected = next(i for i, entry in enumerate(e for e in self.menu if not e.startswith("- "))
                        if entry.startswith(POINTER))
        steps = offered.index(label) - selected
        self.child.send((DOWN if steps > 0 else UP) * abs(steps) + ENTER)
        self.unanswered = False

    def type(self, text: str) -> None:
        """Replace a text answer's default with `text` and submit it."""
        self.child.send(CLEAR_LINE + text + ENTER)
        self.unanswered = False

    def refused(self, message: str) -> None:
        """The answer just given is refused at its question, with `message` (prompt_toolkit redraws
        only what changed: a second refusal with the same words would not show them again)."""
        self.child.expect_exact(message)

    def finish(self) -> None:
        """Every remaining question gets its default; Copier writes the project and exits 0."""
        if self.unanswered:
            self.child.send(ENTER)
        while self._next_screen() is not None:
            self.child.send(ENTER)
        self.child.close()
        assert self.child.exitstatus == 0, self.child.before


def releases_without(framework: str, python: str) -> list[str]:
    return [v for v in versions.releases(framework) if python not in versions.release(framework, v)["python"]]


def dependencies(root: Path) -> list[str]:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]


def test_python_310_pytorch_menus_follow_the_answers(tmp_path):
    session = Session(tmp_path / "p")
    session.ask("Python version")
    session.choose("3.10")
    session.ask("Deep-learning framework")
    session.choose("PyTorch")
    session.ask("pytorch release")
    fitting = versions.releases_for_python("pytorch", "3.10")
    assert session.offered() == [f"latest ({fitting[0]})", *fitting]
    assert releases_without("pytorch", "3.10"), "the data has no release needing Python 3.11+"
    assert not set(releases_without("pytorch", "3.10")) & set(" ".join(session.menu).split())
    pinned = next(v for v in fitting if versions.built_cudas("pytorch", v) != versions.built_cudas("pytorch", fitting[0]))
    session.choose(pinned)
    session.ask("CUDA version")
    built = versions.built_cudas("pytorch", pinned)
    assert session.offered() == [f"auto ({built[0]})", *built]
    session.choose(built[0])
    session.finish()
    root = tmp_path / "p"
    assert dependencies(root)[0] == f"torch=={pinned}"
    assert f"PROJECT_CUDA_VERSION={built[0]}" in (root / ".devcontainer/Dockerfile").read_text()
    assert (root / ".python-version").read_text().strip() == "3.10"


def test_bad_answers_refused_at_their_question_then_corrected(tmp_path):
    session = Session(tmp_path / "p")
    session.ask("Project name")
    session.type("-lab")
    session.refused("starting with a letter")
    session.type("Vision Lab")
    assert session.ask("package name") == ["vision_lab"]
    session.type("import")
    session.refused("is a Python keyword")
    session.type("vision")
    session.ask("Port JupyterLab listens on")
    session.type("abc")
    session.refused("Use a port number from 1024 to 65535")
    session.type("9999")
    session.finish()
    config = json.loads((tmp_path / "p/.devcontainer/devcontainer.json").read_text())
    assert config["forwardPorts"] == [9999]
    assert (tmp_path / "p/src/vision/__init__.py").is_file()


@pytest.mark.parametrize("framework, label, python", [("jax", "JAX", "3.10"), ("tensorflow", "TensorFlow", "3.13")])
def test_other_framework_with_python_some_releases_lack(tmp_path, framework, label, python):
    fitting, lacking = versions.releases_for_python(framework, python), releases_without(framework, python)
    assert lacking, f"every {framework} release supports Python {python}: choose another Python"
    session = Session(tmp_path / "p")
    session.ask("Python version")
    session.choose(python)
    session.ask("Deep-learning framework")
    session.choose(label)
    session.ask(f"{framework} release")
    assert session.offered() == [f"latest ({fitting[0]})", *fitting]
    assert not set(lacking) & set(" ".join(session.menu).split())
    oldest = fitting[-1]
    session.choose(oldest)
    session.ask("CUDA version")
    built = versions.built_cudas(framework, oldest)
    assert session.offered() == [f"auto ({built[0]})", *built]
    session.finish()  # auto: the newest CUDA of that release
    requirement = versions.requirement(framework, oldest, "cuda", built[0])
    assert dependencies(tmp_path / "p")[0] == requirement


def test_unicode_project_name(tmp_path):
    session = Session(tmp_path / "p")
    session.ask("Project name")
    session.type("Mön Lab")
    assert session.ask("package name") == ["mon_lab"]
    session.finish()
    root = tmp_path / "p"
    config = json.loads((root / ".devcontainer/devcontainer.json").read_text())
    assert config["name"] == "Mön Lab"
    assert config["features"]["./features/jupyterlab"]["kernelName"] == "mon-lab"
    assert tomllib.loads((root / "pyproject.toml").read_text())["project"]["name"] == "mon-lab"
    assert "The Mön Lab authors" in (root / "LICENSE").read_text()
    assert yaml.safe_load((root / ".copier-answers.yml").read_text())["project_name"] == "Mön Lab"
    assert (root / "src/mon_lab/__init__.py").is_file()


def test_framework_without_a_release_for_the_python_is_disabled(tmp_path):
    """A Python the data offers that a framework has no release for yet (3.14 for TensorFlow here):
    the framework menu disables it with the reason, and --data is refused with the same reason."""
    template = tmp_path / "template"
    template.mkdir()
    for part in ["copier.yml", "template", "hooks", "resolver", "data"]:
        copy = shutil.copytree if (REPO / part).is_dir() else shutil.copy
        copy(REPO / part, template / part)
    data = template / "data/versions.yml"
    data.write_text(data.read_text().replace('project: ["3.10", "3.11", "3.12", "3.13"]',
                                             'project: ["3.10", "3.11", "3.12", "3.13", "3.14"]'))
    reason = "No tensorflow release in the template supports Python 3.14. Choose Python 3.10, 3.11, 3.12, 3.13"
    session = Session(tmp_path / "p", template=template)
    session.ask("Python version")
    session.choose("3.14")
    session.ask("Deep-learning framework")
    assert "TensorFlow" not in session.offered()
    assert any(entry.startswith(f"- TensorFlow ({reason}") for entry in session.menu)
    session.child.terminate(force=True)
    with pytest.raises(ValueError, match=f"Invalid choice for 'framework': {re.escape(reason)}"):
        copier_copy(template, tmp_path / "q", python_version="3.14", framework="tensorflow")


def copier_copy(template: Path, dst: Path, **answers) -> None:
    copier.run_copy(str(template), dst, data={"lock_dependencies": False, **answers}, defaults=True,
                    unsafe=True, quiet=True)


# --- the pieces behind the questions --------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("Vision Lab 2", "vision-lab-2"),
    ("Mön Lab", "mon-lab"),
    ("Crème Brûlée", "creme-brulee"),
    ("Mo\u0308n", "mon"),  # typed decomposed: o and a combining diaeresis
    ("机器学习", "project"),  # no ASCII letter at all: a name that still makes a package
    ("机器学习 2 Lab", "lab"),  # the slug starts with a letter, as a package name must
    ("Ärzte_2.0", "arzte-2-0"),
    ("Straße Øst", "strasse-ost"),  # letters NFKD does not decompose
])
def test_slug(name, expected):
    assert answers.slug(name) == expected
    assert not answers.project_name_error(name)
    assert not answers.package_name_error(expected.replace("-", "_"))


@pytest.mark.parametrize("name", ["-lab", "!!!", "2 Lab", "Lab\x07", "Lab\u2028x", "Lab/x", 'Lab "x"', "\u0308Lab", ""])
def test_project_name_refused(name):
    assert "starting with a letter" in answers.project_name_error(name)


def test_unicode_name_renders_valid_files(tmp_path):
    root = render(tmp_path / "p", project_name="机器学习")
    config = json.loads((root / ".devcontainer/devcontainer.json").read_text())
    assert config["features"]["./features/jupyterlab"]["kernelDisplayName"] == "机器学习 (Python 3.12)"
    assert json.loads((root / "notebooks/example.ipynb").read_text())["metadata"]["kernelspec"]["name"] == "project"
    assert tomllib.loads((root / "pyproject.toml").read_text())["project"]["name"] == "project"
    assert yaml.safe_load((root / ".copier-answers.yml").read_text())["package_name"] == "project"
    assert (root / "src/project/__init__.py").is_file()


@pytest.mark.parametrize("port, accepted", [("8888", True), (8888, True), ("1024", True), ("65535", True),
                                            ("80", False), ("65536", False), ("abc", False), ("", False),
                                            ("８８８８", False), ("-1", False)])
def test_port(port, accepted):
    assert (answers.port_error(port) == "") is accepted


def test_advice_names_only_pythons_the_question_offers():
    offered = versions.project_pythons()
    newest = versions.releases("pytorch")[0]
    beyond = set(versions.release("pytorch", newest)["python"]) - set(offered)
    assert beyond, "the newest PyTorch release supports no Python newer than the template offers"
    with pytest.raises(versions.Incompatible) as refused:
        versions.resolve_framework_version("pytorch", newest, "3.10")
    message = str(refused.value)
    assert not any(python in message for python in beyond), message
    assert all(python in message for python in offered if python != "3.10" and
               python in versions.release("pytorch", newest)["python"]), message


def test_cuda_advice_names_releases_for_the_python():
    """JAX 0.6.2 is the one release for Python 3.10: CUDA 13 is not advised through releases 3.10 lacks."""
    with pytest.raises(versions.Incompatible) as refused:
        versions.resolve_cuda("jax", "0.6.2", "13", "3.10")
    assert str(refused.value) == "jax 0.6.2 is built for CUDA 12, not 13. Use cuda_version=12 (or 'auto')."


def test_answer_given_up_front_is_listed_disabled_with_the_reason():
    choices = dict(extension.release_choices("pytorch", "3.10", given="2.15.0"))
    assert choices["2.15.0"]["validator"].startswith("pytorch 2.15.0 does not support Python 3.10")
    assert all(not choice["validator"] for label, choice in choices.items() if label != "2.15.0")
    assert "2.15.0" not in dict(extension.release_choices("pytorch", "3.10"))
