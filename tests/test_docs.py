"""The documentation site: `mkdocs build --strict` succeeds, the reference pages are generated from
their sources and hold every question, feature option, framework release and exit code, and a
broken link, a page left out of the nav or a source that disagrees with the docs fails the build.
The publishing workflow is valid GitHub Actions."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from resolver import extension
from tests.utils.project import REPO, copy_repo_parts
from tests.utils.tools import tool

# What the build reads: a copy of these is a complete playground.
TREE = ["mkdocs.yml", "docs", "scripts", "hooks", "resolver", "copier.yml", "data", "features"]
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
    (lambda root: (root / "docs/env-doctor.md").write_text(  # env_doctor/common.py defines 0 to 3
        (root / "docs/env-doctor.md").read_text().replace("| 3 | usage error", "| 4 | usage error")),
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
# the tools of the place the repository was written in. Those names are kept here as SHA-256
# digests of lowercase phrases (one word, or two words joined by a space): written out, this file
# would name them itself.
BARE_ISSUE = re.compile(r"\bissues?[ -]#?\d+(?!\]\()", re.IGNORECASE)  # a number that ends a Markdown link's text is linked
OUTSIDE_TOOL_NAMES = {
    "a0b57447f767e0306d41c95f2468fd536e8212b105da00c852b5a0ffc8cacf30",
    "fcd25b6d406dd2f8610ff9655dc9b3ec5dcfd3c9bd76fbbdf1cece36f57bac8c",
    "b0295b31f9cfb4c2afc17bc13fefd78a657f0b1d25b28c431da37946be75b92f",
    "3ca4186da4fe3b282dbc621ccf47379e515f81f237ef7fea8ae6b8328aa7b524",
    "4ea91362a144349937a5d55aa0a9fa470e69a3f5ccedd7961867fdb35c8ae563",
    "bbb7e4fdad15d6f059066da6afa561c0dcfb1685f0f08538f92aac4d0308762c",
    "33ec8d9d589c9ec5ec4d60abd65a39f42555796f44b7471527c1cfebbc3e42a2",
    "8ba480221acb7f4975840aed7d24b6c00aaaff0e2a8dc900fbb712637d37eb72",
    "eac63b1560254fcef861d07daff7f810468924b8d27ec0df9d38ded1ada4d149",
    "8b11bd7484f692ec1da889c8afaa7e6ec911b81fd5810e359483c32afb980976",
    "328fb4fc7b744f5689d3ebc6cbe83c653af5c0f87de32e7256f304645313933c",
}
WORD = re.compile(r"\.?[a-z_]+")


def names_outside_tool(line: str, digests: set[str] = OUTSIDE_TOOL_NAMES) -> bool:
    words = WORD.findall(line.lower())
    phrases = [*words, *(f"{first} {second}" for first, second in itertools.pairwise(words))]
    return any(hashlib.sha256(phrase.encode()).hexdigest() in digests for phrase in phrases)


def test_no_file_cites_a_bare_issue_number_or_names_outside_tools():
    names = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, text=True, check=True).stdout
    offending = []
    for name in filter(None, names.split("\0")):
        path = REPO / name
        if not path.is_file():
            continue
        try:
            lines = path.read_text().splitlines()
        except UnicodeDecodeError:
            continue  # not text
        offending += [f"{name}:{number}: {line.strip()}" for number, line in enumerate(lines, 1)
                      if BARE_ISSUE.search(line) or names_outside_tool(line)]
    assert not offending, ("link the issue, or say what it is about, instead of its number; say it for "
                           "someone with only a clone of this repository:\n" + "\n".join(offending))


# (the numbers are interpolated, so that this line is no bare citation itself)
@pytest.mark.parametrize("line", [f"see issue {16}", f"(issue {11})", f"#shipping-issue-{11}", f"Issues {3} and 4"])
def test_the_docs_check_finds_bare_issues(line):
    assert BARE_ISSUE.search(line)


@pytest.mark.parametrize("line", ["pytorch#73656", "https://github.com/pytorch/pytorch/issues/73656", f"[uv issue {3}](https://x/3)",
                                  "Issue Tracker", "excellent", "issues/1234"])
def test_the_docs_check_allows(line):
    assert not BARE_ISSUE.search(line) and not names_outside_tool(line)


@pytest.mark.parametrize("line, found", [("run it with the Widget Maker", True), ("the widget, then a maker", False),
                                         ("see /srv/.widgets/x", True), ("see widgets", False)])
def test_the_docs_check_finds_phrases_by_digest(line, found):
    digests = {hashlib.sha256(phrase.encode()).hexdigest() for phrase in ["widget maker", ".widgets"]}
    assert names_outside_tool(line, digests) is found
