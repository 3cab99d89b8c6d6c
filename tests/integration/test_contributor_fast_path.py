"""The README's contributor commands (the unit tests, no Docker, no root) on a stock Debian 12.

The lines are read from README.md (the fenced bash block after the `unit-test-commands` marker),
never copied here. They run in a fresh debian:bookworm container with only python3, python3-venv
and git from apt (tests/utils/stock_debian.py), as a non-root user without a Docker socket, in a
clone of this repository holding this working tree's files: every unit test passes there, so none
needs Docker, root or anything testbed/prepare-test-machine.sh sets up.
"""

from __future__ import annotations

import re
import shlex

import pytest

from tests.utils.docker import docker_cli, run
from tests.utils.figures import record
from tests.utils.project import REPO
from tests.utils.stock_debian import CHECKOUT_WORKING_TREE, build_image, repo_bundle, working_tree_archive

pytestmark = pytest.mark.integration

IMAGE = "mltemplate-contributor:bookworm"
MARKER = "<!-- unit-test-commands:"
# pytest's closing line, e.g. "===== 413 passed, 1 skipped, 89 deselected in 85.07s (0:01:25) ====="
PYTEST_SUMMARY = re.compile(r"^=+ (\d+ passed.*|.*(?:failed|error).*) in ([\d.]+)s.*=+$", re.MULTILINE)


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    assert MARKER in text, "README.md lost the unit-test-commands marker"
    block = re.search(r"```bash\n(.*?)```", text.split(MARKER, 1)[1], re.DOTALL)
    assert block, "no bash block after the unit-test-commands marker"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_commands_use_only_a_virtual_environment():
    commands = readme_commands()
    assert commands[0] == "python3 -m venv .venv"
    assert '-m "not integration"' in commands[-1]
    for command in commands:
        assert not any(word in command.split() for word in ("sudo", "docker", "./testbed/test.sh")), command


def test_unit_tests_pass_on_stock_debian_as_a_user_without_docker(tmp_path_factory):
    image = build_image(IMAGE, ["python3", "python3-venv", "git"], tmp_path_factory.mktemp("contributor-image"))
    src = tmp_path_factory.mktemp("contributor-src")
    repo_bundle(src)
    working_tree_archive(src)
    # Each README line, timed; then nothing of this machine: not root, no Docker client or socket.
    steps = " && ".join(f"echo {shlex.quote('== ' + command)} && start=$SECONDS && {command}"
                        " && echo \"== took $((SECONDS - start)) s\"" for command in readme_commands())
    script = ('test "$(id -u)" != 0 && test ! -e /var/run/docker.sock && ! command -v docker'
              f" && {CHECKOUT_WORKING_TREE} && cd ~/repo && {steps}")
    result = run([docker_cli(), "run", "--rm", "-v", f"{src}:/src:ro", image, "bash", "-lc", script],
                 check=False, timeout=1800)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    summaries = PYTEST_SUMMARY.findall(output)
    assert summaries, output[-8000:]
    outcome, seconds = summaries[-1]
    assert re.match(r"\d+ passed", outcome) and "failed" not in outcome and "error" not in outcome, outcome
    took = [int(s) for s in re.findall(r"^== took (\d+) s$", output, re.MULTILINE)]
    record(f"contributor's unit tests on debian:bookworm (python3, python3-venv, git; non-root, no Docker): "
           f"venv + pip install {sum(took[:-1])} s, unit tests {float(seconds):.0f} s ({outcome})")
