"""The README's generate commands, run as a new user on a stock Debian 12.

The lines are read from README.md (the fenced bash blocks after the `generate-commands` marker),
never copied here. They run in a fresh container of debian:bookworm that has only what a new
user has: python3 and pipx from apt, git, CA certificates (tests/utils/stock_debian.py), as a
non-root user, against a clone of this repository's committed HEAD.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.utils.docker import docker_cli, run
from tests.utils.project import REPO
from tests.utils.stock_debian import build_image, repo_bundle

pytestmark = pytest.mark.integration

IMAGE = "mltemplate-first-command:bookworm"
MARKER = "<!-- generate-commands:"
CLONE_PLACEHOLDER = "/path/to/clone"
CLONE = "~/ml-devcontainer-template"  # where the new user's clone lives in the container
MISSING_EXTENSION = "No module named 'copier_template_extensions'"


def readme_lines() -> list[str]:
    """The pipx and uvx command lines of the fenced bash blocks after the marker."""
    text = (REPO / "README.md").read_text()
    assert MARKER in text, "README.md lost the generate-commands marker"
    blocks = re.findall(r"```bash\n(.*?)```", text.split(MARKER, 1)[1], re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.startswith(("pipx ", "uvx "))]


def clone_line(tool: str) -> str:
    """The README's from-a-clone line for tool ("pipx" or "uvx"), pointed at the container's clone."""
    [line] = [line for line in readme_lines() if line.startswith(tool + " ") and CLONE_PLACEHOLDER in line]
    return line.replace(CLONE_PLACEHOLDER, CLONE)


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> str:
    return build_image(IMAGE, ["python3", "pipx", "git", "ca-certificates"], tmp_path_factory.mktemp("first-command-image"))


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The folder holding this repository's committed HEAD as a git bundle."""
    return repo_bundle(tmp_path_factory.mktemp("first-command-src")).parent


@pytest.fixture
def work(tmp_path) -> Path:
    """The new user's working folder, shared with this machine to inspect what was written."""
    tmp_path.chmod(0o777)
    return tmp_path


def in_container(image: str, clone: Path, work: Path, script: str) -> subprocess.CompletedProcess:
    """Run script in a login shell of the new user, after cloning the repository into ~."""
    setup = f"git clone -q /src/repo.bundle {CLONE} && cd /home/newuser/work && "
    return run([docker_cli(), "run", "--rm", "-v", f"{clone}:/src:ro", "-v", f"{work}:/home/newuser/work",
                image, "bash", "-lc", setup + script], check=False, timeout=900)


def assert_project(result: subprocess.CompletedProcess, project: Path) -> None:
    output = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, output
    assert (project / ".copier-answers.yml").is_file(), output
    assert "torch" in (project / "uv.lock").read_text(), output
    assert (project / ".devcontainer" / "Dockerfile").is_file(), output


def test_readme_lines_cover_url_and_clone_for_both_tools():
    lines = readme_lines()
    clone_lines = [line for line in lines if CLONE_PLACEHOLDER in line]
    url_lines = [line for line in lines if CLONE_PLACEHOLDER not in line]
    assert [line.split()[0] for line in clone_lines] == ["pipx", "uvx"]
    # The git-URL lines are the same commands with the template named by URL.
    assert [line.replace("gh:OWNER/REPO", CLONE_PLACEHOLDER) for line in url_lines] == clone_lines
    for line in lines:
        assert "pip install" not in line.replace("pipx install", "")  # never pip into the system Python


# Locking needs an interpreter of the project's Python. Debian 12 has 3.11; for the default 3.12
# the lock hook lets uv download its own CPython, from outside the package index, which this test
# machine cannot reach. So the tests answer Debian's own version.
ANSWERS = " --defaults --data python_version=3.11"


def test_pipx_line_generates_and_locks_a_project_and_its_readme_line_updates_it(image, clone, work):
    # Then a colleague runs the update line of the generated README (pipx) in the committed project.
    update = (
        "cd my-project && git init -q && git add -A && git -c user.name=New -c user.email=new@example.invalid "
        "commit -qm generated && line=$(sed -n '/^## Template updates/,$p' README.md | grep '^pipx ') && "
        'echo "== update: $line" && eval "$line --defaults" && test -z "$(git status --porcelain)"'
    )
    result = in_container(image, clone, work, f"{clone_line('pipx')}{ANSWERS} && {update}")
    assert_project(result, work / "my-project")
    output = result.stdout + result.stderr
    assert "== update: pipx install " in output and "copier update --trust" in output, output
    assert output.count("Locking dependencies with uv") == 2, output  # at copy, and after the update


def test_uvx_line_generates_and_locks_a_project(image, clone, work):
    # A stock Debian user gets uvx as the README says: `pipx install uv`, then a new login shell
    # (Debian's ~/.profile puts ~/.local/bin on PATH once it exists).
    result = in_container(image, clone, work,
                          f"pipx install uv >/dev/null && exec bash -lc {shlex.quote(clone_line('uvx') + ANSWERS)}")
    assert_project(result, work / "my-project")


def test_copier_without_extension_or_uv_says_what_to_add_and_writes_nothing(image, clone, work):
    pipx_line = clone_line("pipx")
    install, inject, copy = (part.strip() for part in pipx_line.split("&&"))
    assert inject.startswith("pipx inject copier ")
    copy += ANSWERS
    # `pipx install copier` alone (the common case), then the extension without uv.
    script = (f"{install} >/dev/null 2>&1 && {{ {copy}; echo \"== rc $?\"; ls -A my-project; }} 2>&1; "
              f"pipx inject copier copier-template-extensions >/dev/null 2>&1 && {{ {copy}; echo \"== rc $?\"; "
              "ls -A my-project; } 2>&1")
    result = in_container(image, clone, work, script)
    output = result.stdout + result.stderr
    without_extension, without_uv = output.split("== rc ", 2)[:2]
    assert MISSING_EXTENSION in without_extension, output
    readme = " ".join((REPO / "README.md").read_text().split())
    # The README names that very error and the command that adds the extension.
    assert f"`{MISSING_EXTENSION}`: add it with `pipx inject copier copier-template-extensions uv`" in readme
    assert "pipx inject copier uv" in without_uv and "--with uv" in without_uv, output
    assert output.count("== rc 1") == 2, output
    assert not (work / "my-project").exists() or not any((work / "my-project").iterdir()), output

