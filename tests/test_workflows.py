"""This repository's GitHub workflows: valid against the workflow schema, and the features' release
workflow publishes what the tests publish, with the CLI version that writes the READMEs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github/workflows").glob("*.yml"))


def test_workflows_match_the_github_workflow_schema():
    assert WORKFLOWS
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    assert checker, "check-jsonschema missing: install the test extra (pip install -e .[test])"
    result = subprocess.run([checker, "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_release_workflow_checks_then_publishes_every_feature():
    workflow = yaml.safe_load((REPO / ".github/workflows/features.yml").read_text())
    check, publish = workflow["jobs"]["check"], workflow["jobs"]["publish"]
    assert any(step.get("run") == "python scripts/sync.py --check" for step in check["steps"])
    assert publish["needs"] == "check" and publish["permissions"]["packages"] == "write"
    command = publish["steps"][-1]["run"]
    assert command.startswith("devcontainer features publish --registry ghcr.io") and command.endswith(" ./features/src")
    prepare = (REPO / "scripts/prepare-test-machine.sh").read_text()
    pinned = re.search(r'DEVCONTAINER_CLI_VERSION="\$\{DEVCONTAINER_CLI_VERSION:-([\d.]+)\}"', prepare)[1]
    assert workflow["env"]["DEVCONTAINER_CLI_VERSION"] == pinned
