"""The publishing parts of a generated project that need no Docker: the image question, both
devcontainer configurations, the publish script's tags and environment hash, the CI workflow
(checked against GitHub's workflow schema)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mlcluster.settings import ClusterError, job_image, load_settings

from resolver.extension import load_module
from resolver.images import image_error, published_image, registry_host
from scripts.derived import published
from tests.utils.project import REPO, render
from tests.utils.tools import tool


def config(root: Path, name: str = "devcontainer.json") -> dict:
    return json.loads((root / ".devcontainer" / name).read_text())


# --- the question --------------------------------------------------------------------------------

@pytest.mark.parametrize("answer", ["ghcr", "none", "ghcr.io/acme/vision-lab", "registry.example.com:5000/team/lab",
                                    "localhost:5000/a/b", "docker.io/acme/lab"])
def test_image_answers_accepted(answer):
    assert image_error(answer) == ""


@pytest.mark.parametrize("answer, message", [
    ("ghcr.io/acme/lab:v1", "without a tag"),
    ("ghcr.io/acme/lab@sha256:00", "without a tag"),
    ("Acme/Lab", "not an image name"),
    ("lab", "not an image name"),
    ("ghcr.io/acme/lab/", "not an image name"),
])
def test_image_answers_refused_with_the_reason(answer, message):
    assert message in image_error(answer)


def test_published_image_and_registry():
    assert published_image("ghcr", "Acme/Vision-Lab") == "ghcr.io/acme/vision-lab"
    assert published_image("ghcr", "") == ""  # resolved in CI only
    assert published_image("none", "acme/x") == ""
    assert published_image("registry.example.com/t/lab") == "registry.example.com/t/lab"
    assert registry_host("ghcr") == "ghcr.io"
    assert registry_host("registry.example.com:5000/t/lab") == "registry.example.com:5000"
    assert registry_host("acme/lab") == "docker.io"


def test_refused_image_answer_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="without a tag"):
        render(tmp_path / "p", image="ghcr.io/acme/lab:latest")
    assert not (tmp_path / "p").exists()


# --- the two configurations ----------------------------------------------------------------------

def test_both_configurations_use_the_published_image(tmp_path):
    root = render(tmp_path / "p", project_name="Vision Lab", github_repository="Acme/Vision-Lab")
    main, prebuilt = config(root), config(root, "prebuilt/devcontainer.json")
    assert main["build"]["cacheFrom"] == "ghcr.io/acme/vision-lab:latest"
    assert main["build"]["args"]["BUILDKIT_INLINE_CACHE"] == "1"  # the pushed image can serve as cache
    assert prebuilt["image"] == "ghcr.io/acme/vision-lab:latest" and "build" not in prebuilt
    # what the image's metadata label does not carry is repeated; lifecycle commands are not (they would run twice)
    assert prebuilt["runArgs"] == main["runArgs"] and "--shm-size=8g" in main["runArgs"]
    assert prebuilt["mounts"] == main["mounts"] and prebuilt["containerEnv"] == main["containerEnv"]
    assert prebuilt["hostRequirements"] == main["hostRequirements"]
    assert prebuilt["remoteUser"] == "dev" and prebuilt["updateRemoteUserUID"] is True
    assert not {"features", "onCreateCommand", "updateContentCommand", "postCreateCommand"} & set(prebuilt)


def test_lock_install_runs_where_codespaces_prebuilds_run_it(tmp_path):
    main = config(render(tmp_path / "p", image="none"))
    assert main["updateContentCommand"] == "uv sync --locked"
    assert "pre-commit install" in main["postCreateCommand"] and "uv sync" not in main["postCreateCommand"]


def test_env_doctor_reference_is_baked_at_build(tmp_path):
    root = render(tmp_path / "p", image="none")
    assert config(root)["features"]["./features/env-doctor"] == {
        "projectPython": "/opt/venv/bin/python", "referenceSnapshot": True, "referenceProject": "/usr/local/share/image-lock"}
    assert "install -D -m 0644 uv.lock /usr/local/share/image-lock/uv.lock" in (root / ".devcontainer/Dockerfile").read_text()


@pytest.mark.parametrize("answers", [{"image": "none"}, {"image": "ghcr"}])
def test_no_published_name_no_cache_and_no_prebuilt_configuration(tmp_path, answers):
    root = render(tmp_path / "p", **answers)
    assert "cacheFrom" not in config(root)["build"]
    assert not (root / ".devcontainer/prebuilt").exists()


# --- the workflow --------------------------------------------------------------------------------

def workflow(root: Path) -> dict:
    return yaml.safe_load((root / ".github/workflows/ci.yml").read_text())


@pytest.mark.parametrize("answers", [
    {"image": "ghcr", "github_repository": "acme/lab"},
    {"image": "registry.example.com/team/lab", "jupyterlab": False},
    {"image": "none", "framework": "none", "accelerator": "cpu"},
])
def test_workflow_matches_githubs_schema(tmp_path, answers):
    root = render(tmp_path / "p", **answers)
    result = subprocess.run([tool("check-jsonschema"), "--builtin-schema",
                             "vendor.github-workflows", str(root / ".github/workflows/ci.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_builds_with_the_script_and_pushes_from_the_default_branch_only(tmp_path):
    root = render(tmp_path / "p", github_repository="acme/lab")
    flow = workflow(root)
    assert flow["permissions"] == {"contents": "read", "packages": "write"}
    assert flow["env"]["IMAGE"] == "ghcr.io/${{ github.repository }}"
    steps = flow["jobs"]["devcontainer"]["steps"]
    runs = [step.get("run", "") for step in steps]
    build = next(i for i, r in enumerate(runs) if "publish.py build" in r)
    tests = next(i for i, r in enumerate(runs) if "python -m pytest" in r)
    push = next(i for i, r in enumerate(runs) if "publish.py push" in r)
    assert build < tests < push  # nothing is published before the tests pass in the built container
    assert flow["env"]["IMAGE_COMPRESSION"] == "zstd"  # gzip is the documented way back
    assert "apt-get install -y -q skopeo" in runs[push]  # zstd is pushed by skopeo
    assert steps[push]["if"] == "github.event_name == 'push' && github.ref_name == github.event.repository.default_branch"
    login = next(step for step in steps if step.get("uses", "").startswith("docker/login-action"))
    assert login["with"] == {"registry": "ghcr.io", "username": "${{ github.actor }}",
                             "password": "${{ secrets.GITHUB_TOKEN }}"}
    assert "devcontainer exec" in runs[tests] and "pre-commit run --all-files" in runs[tests]
    assert "uv lock --check" in runs


def test_workflow_for_another_registry_uses_its_secrets(tmp_path):
    flow = workflow(render(tmp_path / "p", image="registry.example.com/team/lab"))
    assert flow["env"]["IMAGE"] == "registry.example.com/team/lab" and "permissions" in flow
    login = next(step for step in flow["jobs"]["devcontainer"]["steps"] if "login" in step.get("uses", ""))
    assert login["with"]["registry"] == "registry.example.com"
    assert login["with"]["password"] == "${{ secrets.REGISTRY_PASSWORD }}"


def test_workflow_without_publishing_builds_and_tests_only(tmp_path):
    text = (render(tmp_path / "p", image="none") / ".github/workflows/ci.yml").read_text()
    assert "publish.py build" in text and "publish.py push" not in text
    assert "login" not in text and "packages: write" not in text


# --- the publish script --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = render(tmp_path_factory.mktemp("pub") / "lab", image="registry.example.com/team/lab")
    (root / "uv.lock").write_text("version = 1\n")
    return root, load_module(root / ".devcontainer/publish.py", "generated_publish")


def test_publish_script_is_executable_and_documents_itself(project):
    root, _ = project
    script = root / ".devcontainer/publish.py"
    assert script.stat().st_mode & 0o111
    out = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True).stdout
    assert "build" in out and "push" in out and "IMAGE:env-<hash>" in out


def test_an_unknown_compression_is_refused_before_anything_runs(project):
    root, _ = project
    for args, env in ((["--compression", "lz4"], {}), ([], {"IMAGE_COMPRESSION": "xz"})):
        result = subprocess.run([sys.executable, str(root / ".devcontainer/publish.py"), "push", "--image", "r.example/x", *args],
                                capture_output=True, text=True, env={**os.environ, "DOCKER_PATH": "/nonexistent/docker", **env})
        assert result.returncode != 0 and "must be gzip or zstd" in result.stderr
        assert "$ " not in result.stdout  # no command ran


def test_environment_hash_follows_what_decides_the_environment(project, tmp_path):
    root, publish = project
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(root), str(copy)], check=True)
    before = publish.environment_hash(copy, "sha256:base1")
    assert before == publish.environment_hash(copy, "sha256:base1") and len(before) == 12
    for unrelated in ("src/lab/device.py", "notebooks/example.ipynb", "README.md", ".devcontainer/publish.py",
                      ".devcontainer/prebuilt/devcontainer.json", ".devcontainer/certs/README.md",
                      ".devcontainer/features/README.md"):
        path = copy / unrelated
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("edited\n")
    assert publish.environment_hash(copy, "sha256:base1") == before
    assert publish.environment_hash(copy, "sha256:base2") != before  # the base image moved
    for decisive in ("uv.lock", ".devcontainer/Dockerfile", ".devcontainer/features/env-doctor/install.sh",
                     ".devcontainer/certs/proxy.crt", "pyproject.toml"):
        path = copy / decisive
        original = path.read_bytes() if path.exists() else None
        path.write_bytes((original or b"") + b"\n# changed\n")
        assert publish.environment_hash(copy, "sha256:base1") != before, decisive
        path.write_bytes(original) if original is not None else path.unlink()
    assert publish.environment_hash(copy, "sha256:base1") == before


def test_a_feature_docs_change_gives_neither_a_new_image_tag_nor_a_new_feature_version(project, tmp_path):
    """One rule on both sides: the features' release digest (scripts/derived/published.py) and the project's
    environment hash skip the same documentation files, and both follow what the install runs.
    A project from an older template still has the features' READMEs and NOTES: they count for nothing."""
    root, publish = project
    assert set(publish.DOCUMENTATION) == published.DOCUMENTATION
    copy, feature = tmp_path / "project", tmp_path / "env-doctor"
    subprocess.run(["cp", "-r", str(root), str(copy)], check=True)
    shutil.copytree(REPO / "features/src/env-doctor", feature, ignore=shutil.ignore_patterns("__pycache__"))
    vendored = copy / ".devcontainer/features/env-doctor"
    env_hash, digest = publish.environment_hash(copy, "sha256:base"), published.content_digest(feature)

    for name in publish.DOCUMENTATION:
        for folder in (vendored, feature):
            (folder / name).write_text((folder / name).read_text() + "\nEdited.\n" if (folder / name).exists() else "New.\n")
    assert publish.environment_hash(copy, "sha256:base") == env_hash
    assert published.content_digest(feature) == digest

    for folder in (vendored, feature):
        (folder / "install.sh").write_text((folder / "install.sh").read_text() + "# changed\n")
    assert publish.environment_hash(copy, "sha256:base") != env_hash
    assert published.content_digest(feature) != digest


def test_tags(project):
    _, publish = project
    tags = publish.tags("reg.example/t/lab", "0123456789ab", "main", "main", "f" * 40)
    assert tags == {"devcontainer": ["reg.example/t/lab:env-0123456789ab", "reg.example/t/lab:main", "reg.example/t/lab:latest"],
                    "job": ["reg.example/t/lab:job-ffffffffffff", "reg.example/t/lab:job-main", "reg.example/t/lab:job-latest"]}
    branch = publish.tags("r/x", "0123456789ab", "feature/New thing", "main", "")
    assert branch == {"devcontainer": ["r/x:env-0123456789ab", "r/x:feature-New-thing"], "job": ["r/x:job-feature-New-thing"]}
    assert publish.tag_part("-.weird") == "weird" and len(publish.tag_part("x" * 300)) == 128


def test_image_name_resolution(project):
    _, publish = project
    assert publish.image_name(None, {}) == "registry.example.com/team/lab"
    assert publish.image_name(None, {"IMAGE": "Other/Name"}) == "other/name"
    assert publish.image_name("cli/name", {"IMAGE": "env/name"}) == "cli/name"
    publish.ANSWER, publish.CONFIGURED = "ghcr", ""
    assert publish.image_name(None, {"GITHUB_REPOSITORY": "Acme/Lab"}) == "ghcr.io/acme/lab"
    assert publish.image_name(None, {}) == ""


def test_pin_writes_the_job_digest_where_the_cluster_command_reads_it(tmp_path):
    root = render(tmp_path / "lab", project_name="Lab", image="registry.example.com/team/lab")
    publish = load_module(root / ".devcontainer/publish.py", "pin_publish")
    settings = root / "cluster/settings.toml"
    shipped = settings.read_text()
    assert 'image = "registry.example.com/team/lab@sha256:<digest>"' in shipped
    with pytest.raises(ClusterError, match="push --pin"):  # the placeholder is not an image
        job_image(load_settings(settings))
    reference = "registry.example.com/team/lab@sha256:" + "ab" * 32
    publish.pin_job_image(reference, settings)
    assert settings.read_text() == shipped.replace("registry.example.com/team/lab@sha256:<digest>", reference)
    assert job_image(load_settings(settings)) == reference
    settings.write_text("[slurm]\n")
    with pytest.raises(SystemExit, match="no `image"):
        publish.pin_job_image(reference, settings)
