"""The repository's own workflows (.github/workflows): valid for GitHub (its workflow schema, as
check-jsonschema vendors it), the release loop they run (discover -> pull request -> CI -> tag), and
the features' release workflow publishing what the tests publish, with the CLI version that writes
the READMEs."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from scripts import release_tag
from tests.utils.project import REPO

WORKFLOWS = sorted((REPO / ".github/workflows").glob("*.yml"))


def test_workflows_match_githubs_schema():
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(WORKFLOWS) >= 2


def steps(workflow: dict, job: str) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in workflow["jobs"][job]["steps"])


def test_scheduled_discovery_opens_a_pull_request():
    workflow = yaml.safe_load((REPO / ".github/workflows/framework-releases.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] and "workflow_dispatch" in triggers
    run = steps(workflow, "discover")
    assert "python scripts/discover_releases.py --write" in run and "set -o pipefail" in run
    assert "peter-evans/create-pull-request" in run
    pull_request = workflow["jobs"]["discover"]["steps"][-1]["with"]
    assert "framework-releases" in pull_request["title"]  # what CI's tag job recognises


def test_ci_builds_every_framework_and_tags_release_merges():
    workflow = yaml.safe_load((REPO / ".github/workflows/ci.yml").read_text())
    assert "pull_request" in workflow[True]
    assert workflow["jobs"]["build"]["strategy"]["matrix"]["framework"] == ["pytorch", "tensorflow", "jax"]
    assert "devcontainer build" in steps(workflow, "build")
    assert "framework-releases" in workflow["jobs"]["tag"]["if"]
    assert "python scripts/release_tag.py" in steps(workflow, "tag")


@pytest.mark.parametrize("tags, patch, expected", [
    ([], False, "1.0.0"),
    (["1.0.0", "1.2.0", "1.10.0", "latest", "2.0.0rc1"], False, "1.11.0"),
    (["1.3.0"], True, "1.3.1"),
    (["2"], False, "2.1.0"),
])
def test_next_release_tag(tags, patch, expected):
    assert release_tag.next_tag(tags, patch) == expected


def test_release_tag_reads_the_repositorys_tags(tmp_path, capsys, monkeypatch):
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)
    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "x")
    git("tag", "1.4.0")
    monkeypatch.chdir(tmp_path)
    assert release_tag.main([]) == 0
    assert capsys.readouterr().out.strip() == "1.5.0"


def test_release_workflow_checks_then_publishes_every_feature():
    workflow = yaml.safe_load((REPO / ".github/workflows/features.yml").read_text())
    check, publish = workflow["jobs"]["check"], workflow["jobs"]["publish"]
    assert any(step.get("run") == "python scripts/sync.py --check" for step in check["steps"])
    assert publish["needs"] == "check" and publish["permissions"]["packages"] == "write"
    command = publish["steps"][-1]["run"]
    assert command.startswith("devcontainer features publish --registry ghcr.io") and command.endswith(" ./features/src")
    prepare = (REPO / "testbed/prepare-test-machine.sh").read_text()
    pinned = re.search(r'DEVCONTAINER_CLI_VERSION="\$\{DEVCONTAINER_CLI_VERSION:-([\d.]+)\}"', prepare)[1]
    assert workflow["env"]["DEVCONTAINER_CLI_VERSION"] == pinned
