"""The features_registry answer: a project takes our devcontainer features from a registry (by
major version, locked with devcontainer-lock.json) instead of vendored copies. Real renders; the
build from a registry is tests/integration/test_feature_registry.py's."""

from __future__ import annotations

import json
import re

import pytest

from resolver import extension
from resolver.features import features_registry_error, project_features, published_features_namespace
from tests.utils.project import REPO, render

NAMESPACE = "ghcr.io/acme/ml-features"
RELEASES = json.loads((REPO / "features/releases.json").read_text())["features"]


def major(feature: str) -> str:
    return RELEASES[feature]["version"].split(".")[0]


def devcontainer_json(root):
    return json.loads((root / ".devcontainer/devcontainer.json").read_text())


@pytest.mark.parametrize("accelerator, framework, jupyterlab",
                         [("cuda", "pytorch", True), ("cpu", "none", False)])
def test_registry_answer_references_published_majors_in_the_same_order_with_the_same_options(
        tmp_path, accelerator, framework, jupyterlab):
    answers = {"framework": framework, "accelerator": accelerator, "jupyterlab": jupyterlab}
    vendored = devcontainer_json(render(tmp_path / "vendored", **answers))
    root = render(tmp_path / "registry", features_registry=NAMESPACE, **answers)
    config = devcontainer_json(root)

    features = project_features(framework, accelerator, jupyterlab)
    expected = [f"{NAMESPACE}/{feature}:{major(feature)}" for feature in features]
    assert list(config["features"]) == expected
    assert config["overrideFeatureInstallOrder"] == expected
    assert list(config["features"].values()) == list(vendored["features"].values())
    assert vendored["overrideFeatureInstallOrder"] == [f"./features/{feature}" for feature in features]

    assert not (root / ".devcontainer/features").exists()
    dockerfile = (root / ".devcontainer/Dockerfile").read_text()
    assert "source=.devcontainer/registry-features/env-doctor," in dockerfile
    assert "source=.devcontainer/features/" not in dockerfile  # no stage runs a vendored copy
    assert ".devcontainer/registry-features/" in (root / ".gitignore").read_text().splitlines()
    publish = (root / ".devcontainer/publish.py").read_text()
    assert '".devcontainer/devcontainer-lock.json"' in publish and '".devcontainer/features"' not in publish
    assert "devcontainer up --workspace-folder . --frozen-lockfile" in (root / ".github/workflows/ci.yml").read_text()
    readme = (root / "README.md").read_text()
    assert "## The devcontainer features, locked" in readme and "devcontainer upgrade --workspace-folder ." in readme


def test_vendored_answer_keeps_the_copies(tmp_path):
    root = render(tmp_path / "p", framework="none", accelerator="cpu")
    assert (root / ".devcontainer/features/env-doctor/install.sh").is_file()
    assert "source=.devcontainer/features/env-doctor," in (root / ".devcontainer/Dockerfile").read_text()
    assert "registry-features" not in (root / ".gitignore").read_text()
    assert "fetch_locked_feature" not in (root / ".devcontainer/publish.py").read_text()
    assert "--frozen-lockfile" not in (root / ".github/workflows/ci.yml").read_text()
    assert "## The devcontainer features, locked" not in (root / "README.md").read_text()


@pytest.mark.parametrize("answer", ["", "ghcr.io/acme/ml-features", "localhost:5000/test-1/features",
                                    "registry.example.com:8443/team/devcontainer-features"])
def test_namespaces_accepted(answer):
    assert features_registry_error(answer) == ""


@pytest.mark.parametrize("answer, message", [
    ("ghcr.io/acme/features/env-doctor:1", "without a feature id, tag or digest"),
    ("ghcr.io/acme/features@sha256:" + "0" * 64, "without a feature id, tag or digest"),
    ("ghcr.io/acme/features/", "without a feature id, tag or digest"),
    ("https://ghcr.io/acme/features", "without a scheme"),
    ("./features", "is a path: leave the answer empty for the vendored copies"),
    ("acme/features", "not a registry namespace"),
    ("ghcr.io", "not a registry namespace"),
    ("ghcr.io/Acme/Features", "not a registry namespace"),
])
def test_namespaces_refused_with_what_would_work(answer, message):
    error = features_registry_error(answer)
    assert message in error
    assert re.search(r"e\.g\. ghcr\.io/\S+", error), error  # the suggestion from features/publish.json


def test_suggestion_is_the_publishing_namespace():
    namespace = json.loads((REPO / "features/publish.json").read_text())["namespace"]
    assert published_features_namespace() == f"ghcr.io/{namespace.lower()}"


def test_publish_script_refuses_a_registry_project_without_an_env_doctor_lock_entry(tmp_path):
    root = render(tmp_path / "p", framework="none", accelerator="cpu", features_registry=NAMESPACE)
    publish = extension.load_module(root / ".devcontainer/publish.py", "registry_publish")
    lock = root / ".devcontainer/devcontainer-lock.json"
    with pytest.raises(SystemExit) as refused:
        publish.locked_feature("env-doctor", lock)
    assert "pins no env-doctor feature: run `devcontainer upgrade --workspace-folder .`" in str(refused.value)

    resolved = f"{NAMESPACE}/env-doctor@sha256:{'1' * 64}"
    lock.write_text(json.dumps({"features": {
        f"{NAMESPACE}/jupyterlab:1": {"version": "1.0.0", "resolved": f"{NAMESPACE}/jupyterlab@sha256:{'2' * 64}"},
        f"{NAMESPACE}/env-doctor:1": {"version": "1.5.1", "resolved": resolved},
    }}))
    assert publish.locked_feature("env-doctor", lock) == resolved
    with pytest.raises(SystemExit, match="does not match its pinned digest"):
        publish.checked(b"not the artifact", f"sha256:{'1' * 64}")
