"""The documentation site: `mkdocs build --strict` succeeds, the reference pages are generated from
their sources and hold every question, feature option, framework release and exit code, and a
broken link, a page left out of the nav or a source that disagrees with the docs fails the build.
The publishing workflow is valid GitHub Actions."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hooks import extension
from tests.utils.project import REPO, copy_repo_parts
from tests.utils.tools import tool

# What the build reads: a copy of these is a complete playground.
TREE = ["mkdocs.yml", "docs", "scripts", "hooks", "copier.yml", "data", "features"]
REFERENCE = ["questions", "features", "support-matrix", "env-doctor"]


def build(root: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=root, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = build(REPO, site)
    assert result.returncode == 0, result.stderr
    return site


@pytest.fixture
def playground(tmp_path) -> Path:
    return copy_repo_parts(TREE, tmp_path)


def page(site: Path, name: str) -> str:
    return (site / "reference" / name / "index.html").read_text()


def test_every_nav_page_is_built(site):
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())

    def pages(nav):
        for entry in nav:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            yield from pages(value) if isinstance(value, list) else [value]

    for path in pages(config["nav"]):
        built = "index.html" if path == "index.md" else path.removesuffix(".md") + "/index.html"
        assert (site / built).is_file(), path


def test_questions_page_has_every_question(site):
    html = page(site, "questions")
    questions = {k: v for k, v in yaml.safe_load((REPO / "copier.yml").read_text()).items() if not k.startswith("_")}
    for key, question in questions.items():
        assert f"<code>{key}</code>" in html, key
        for _, choice in extension.choice_pairs(question["choices"]) if isinstance(question.get("choices"), dict) else []:
            assert f"<code>{choice}</code>" in html, choice
    assert "<code>3.10</code>" in html  # choices rendered from data/versions.yml, as Copier does


def test_questions_page_shows_placeholders_and_computed_defaults(site):
    """Help texts' <placeholders> show as text (not swallowed as HTML tags); a default computed by
    the template's code shows as its value, as Copier offers it."""
    html = page(site, "questions")
    assert "ghcr.io/&lt;owner&gt;/&lt;repo&gt;" in html  # the image question's help
    assert "&lt;framework&gt; release" in html  # {{ framework }} in framework_version's help
    assert "<owner>" not in html and "<framework>" not in html
    cpu_index = yaml.safe_load((REPO / "data/versions.yml").read_text())["frameworks"]["pytorch"]["cpu_index"]
    row = next(row for row in html.split("<tr>") if "<code>torch_cpu_index</code>" in row)
    assert f"<code>{cpu_index}</code>" in row
    assert "{{" not in html and "torch_cpu_index_default" not in html


def test_features_page_has_every_option(site):
    html = page(site, "features")
    for path in sorted((REPO / "features/src").glob("*/devcontainer-feature.json")):
        spec = json.loads(path.read_text())
        assert f"<code>{spec['id']}</code>" in html
        for option, values in spec["options"].items():
            assert f"<code>{option}</code>" in html, (spec["id"], option)
            if "default" in values and values["default"] not in ("", None):
                assert str(values["default"]).lower() in html


def test_support_matrix_has_every_release(site):
    html = page(site, "support-matrix")
    data = yaml.safe_load((REPO / "data/versions.yml").read_text())
    for framework, spec in data["frameworks"].items():
        assert f">{framework}<" in html
        for release in spec["releases"]:
            assert f"<td>{release}</td>" in html, (framework, release)
    for cuda, facts in data["cuda"]["releases"].items():
        assert facts["min_driver"] in html, cuda


def test_env_doctor_reference_has_exit_codes_and_schema(site):
    html = page(site, "env-doctor")
    for constant in ("EXIT_OK", "EXIT_PROBLEMS", "EXIT_NO_GPU", "EXIT_USAGE"):
        assert constant in html
    for key in ("schema_version", "gpus", "cuda_libraries", "checks", "exit_code"):
        assert f"<code>{key}</code>" in html


@pytest.mark.parametrize("breakage, message", [
    (lambda root: (root / "docs/tutorial.md").write_text("[gone](no-such-page.md)\n"), "no-such-page.md"),
    (lambda root: (root / "docs/stray.md").write_text("# Not in the nav\n"), "stray.md"),
    (lambda root: (root / "docs/guide.md").write_text("[gone](env-doctor.md#no-such-heading)\n"), "no-such-heading"),
    (lambda root: (root / "features/src/env-doctor/env_doctor/common.py").write_text(
        (root / "features/src/env-doctor/env_doctor/common.py").read_text().replace("EXIT_USAGE = 0, 1, 2, 3",
                                                                                     "EXIT_USAGE = 0, 1, 2, 4")),
     "documents exit codes"),
], ids=["broken link", "page not in nav", "broken anchor", "exit codes drifted"])
def test_strict_build_fails(playground, tmp_path, breakage, message):
    breakage(playground)
    result = build(playground, tmp_path / "site")
    assert result.returncode != 0
    assert message in result.stderr + result.stdout


def test_workflows_are_valid_github_actions():
    workflows = sorted((REPO / ".github/workflows").glob("*.yml"))
    assert workflows
    result = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, workflows)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_publishing_workflow_deploys_the_strict_build():
    workflow = yaml.safe_load((REPO / ".github/workflows/docs.yml").read_text())
    build_steps = workflow["jobs"]["build"]["steps"]
    assert any("mkdocs build --strict" in step.get("run", "") for step in build_steps)
    assert any(step.get("uses", "").startswith("actions/upload-pages-artifact") for step in build_steps)
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(step.get("uses", "").startswith("actions/deploy-pages") for step in deploy["steps"])
    assert "pull_request" in workflow[True]  # YAML reads the key `on` as true


# Every tracked file speaks to someone with a clone of this repository and nothing else: an issue is
# cited by its link (upstream ones like pytorch#73656 or a full URL are links), and nothing names
# the tools of the place the repository was written in.
BARE_ISSUE = re.compile(r"\bissues?[ -]#?\d+(?!\]\()", re.IGNORECASE)  # "[issue 3](url)" is a link
FOREIGN_TOOLS = re.compile(r"\bdevice tool|\bcarry: ?\[|`carry`|\blent\b|\blending\b|\.library\b|\bfiles_at\b", re.IGNORECASE)
THIS_FILE = "tests/test_docs.py"  # holds the patterns


def test_no_file_cites_a_bare_issue_number_or_names_outside_tools():
    names = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, text=True, check=True).stdout
    offending = []
    for name in filter(None, names.split("\0")):
        path = REPO / name
        if name == THIS_FILE or not path.is_file():
            continue
        try:
            lines = path.read_text().splitlines()
        except UnicodeDecodeError:
            continue  # not text
        offending += [f"{name}:{number}: {line.strip()}" for number, line in enumerate(lines, 1)
                      if BARE_ISSUE.search(line) or FOREIGN_TOOLS.search(line)]
    assert not offending, ("link the issue, or say what it is about, instead of its number; say it for "
                           "someone with only a clone of this repository:\n" + "\n".join(offending))


@pytest.mark.parametrize("line", ["see issue 16", "(issue 11)", "#shipping-issue-11", "Issues 3 and 4", "via the device tool",
                                  "with carry: [x]", "a lent machine", "/work/.library/x", "under `files_at`"])
def test_the_docs_check_finds(line):
    assert BARE_ISSUE.search(line) or FOREIGN_TOOLS.search(line)


@pytest.mark.parametrize("line", ["pytorch#73656", "https://github.com/pytorch/pytorch/issues/73656", "[uv issue 3](https://x/3)",
                                  "Issue Tracker", "the libraries carry the pins", "does not carry: `runArgs`",
                                  "Call the library's own version function", "excellent", "issues/1234"])
def test_the_docs_check_allows(line):
    assert not BARE_ISSUE.search(line) and not FOREIGN_TOOLS.search(line)
