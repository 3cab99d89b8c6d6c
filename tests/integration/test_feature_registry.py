"""Our features as OCI artifacts, the way anyone outside the template uses them: published with
`devcontainer features publish` to a real registry (Debian's docker-registry on 127.0.0.1:5000,
started by testbed/prepare-test-machine.sh), referenced by id from a devcontainer.json, pinned by
digest in devcontainer-lock.json.

Each session publishes under its own namespace, so runs never see each other's tags. The CLI speaks
plain HTTP only to "localhost", hence localhost:5000 for the CLI and 127.0.0.1 for the API calls.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from testbed.testbed import REGISTRY, manifest, require_registry, tags
from tests.utils.docker import DevContainer, run
from tests.utils.project import REPO, render, trust_host_ca

pytestmark = pytest.mark.integration

FEATURES = sorted(p.parent.name for p in (REPO / "features/src").glob("*/devcontainer-feature.json"))
MARKER = "/usr/local/share/env-doctor/published-newer"  # only the newer test release writes it


def version_of(folder: Path) -> str:
    return json.loads((folder / "devcontainer-feature.json").read_text())["version"]


def publish(src: Path, namespace: str, log: Path) -> tuple[dict, str]:
    """Publish every feature under src; the CLI's summary (last stdout line) and its whole output."""
    result = run(["devcontainer", "features", "publish", "--registry", REGISTRY, "--namespace", namespace,
                  "--log-level", "info", str(src)], log=log, timeout=300)
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stdout + result.stderr


@pytest.fixture(scope="module")
def namespace() -> str:
    """A namespace on the registry the prepare script runs; fails (never skips) when it is down."""
    require_registry()
    return f"test-{uuid.uuid4().hex[:12]}/features"


@pytest.fixture(scope="module")
def published(namespace, tmp_path_factory) -> dict:
    """Every feature of this checkout, published once for the module: {id: {publishedTags, digest, version}}."""
    folder = tmp_path_factory.mktemp("publish")
    shutil.copytree(REPO / "features/src", folder / "src", ignore=shutil.ignore_patterns("__pycache__"))
    outcome, _ = publish(folder / "src", namespace, folder / "publish.log")
    return outcome


def test_publish_pushes_semver_tags_and_skips_a_published_version(namespace, published, tmp_path):
    assert set(published) == set(FEATURES)
    for feature in FEATURES:
        major, minor, _ = version = version_of(REPO / "features/src" / feature).split(".")
        expected = {major, f"{major}.{minor}", ".".join(version), "latest"}
        assert set(published[feature]["publishedTags"]) == expected, feature
        assert tags(f"{REGISTRY}/{namespace}/{feature}") == expected, feature
        assert manifest(f"{REGISTRY}/{namespace}/{feature}:{major}")[0] == published[feature]["digest"]

    outcome, output = publish(REPO / "features/src", namespace, tmp_path / "publish.log")
    assert outcome == {feature: {} for feature in FEATURES}  # nothing pushed
    for feature in FEATURES:
        version = version_of(REPO / "features/src" / feature)
        assert f"Version {version} already exists, skipping {version}" in output
        assert manifest(f"{REGISTRY}/{namespace}/{feature}:latest")[0] == published[feature]["digest"]


def test_a_project_uses_the_published_feature_pinned_by_its_lockfile(docker, test_base_image, namespace, published,
                                                                     tmp_path):
    log = tmp_path / "devcontainer.log"
    reference = f"{REGISTRY}/{namespace}/env-doctor:1"
    first = published["env-doctor"]
    project = tmp_path / "project"
    (project / ".devcontainer").mkdir(parents=True)
    config = project / ".devcontainer/devcontainer.json"
    config.write_text(json.dumps({"image": test_base_image, "features": {reference: {}}}, indent=4))
    lock_file = project / ".devcontainer/devcontainer-lock.json"

    # `devcontainer upgrade` writes the lock: the feature pinned by digest.
    run(["devcontainer", "upgrade", "--workspace-folder", str(project), "--docker-path", docker], log=log)
    lock = json.loads(lock_file.read_text())
    assert lock["features"][reference] == {
        "version": first["version"],
        "resolved": f"{REGISTRY}/{namespace}/env-doctor@{first['digest']}",
        "integrity": first["digest"],
    }
    locked = lock_file.read_text()

    # It builds and starts from the registry, and the feature works inside.
    container = DevContainer(project, docker, log)
    image = f"mltemplate-locked-{uuid.uuid4().hex[:12]}"
    unlocked = image.replace("locked", "unlocked")
    try:
        container.up()
        report = container.exec("env-doctor --json", check=False)
        assert report.returncode in (0, 1), report.stderr  # 1: findings (no GPU here), not a failure
        assert {check["name"] for check in json.loads(report.stdout)["checks"]} >= {"python", "gpu", "shm"}
        assert lock_file.read_text() == locked

        # A newer release is published: `1` and `latest` move to it...
        newer = tmp_path / "newer/src"
        shutil.copytree(REPO / "features/src/env-doctor", newer / "env-doctor",
                        ignore=shutil.ignore_patterns("__pycache__"))
        spec = newer / "env-doctor/devcontainer-feature.json"
        major, minor, patch = first["version"].split(".")
        newer_version = f"{major}.{minor}.{int(patch) + 1}"
        spec.write_text(spec.read_text().replace(f'"version": "{first["version"]}"', f'"version": "{newer_version}"', 1))
        install = newer / "env-doctor/install.sh"
        install.write_text(install.read_text() + f"\ntouch {MARKER}\n")
        outcome, _ = publish(newer, namespace, log)
        assert set(outcome["env-doctor"]["publishedTags"]) == {major, f"{major}.{minor}", newer_version, "latest"}
        second = outcome["env-doctor"]["digest"]
        assert second != first["digest"] and manifest(f"{REGISTRY}/{namespace}/env-doctor:1")[0] == second
        upgrade = run(["devcontainer", "upgrade", "--workspace-folder", str(project), "--docker-path", docker,
                       "--dry-run"], log=log)
        assert f"env-doctor@{second}" in upgrade.stdout  # what an unlocked build would take now

        # ...but the locked project still builds the digest it pinned.
        run(["devcontainer", "build", "--workspace-folder", str(project), "--docker-path", docker,
             "--image-name", image], log=log, timeout=1800)
        assert lock_file.read_text() == locked
        probe = run([docker, "run", "--rm", image, "sh", "-c", f"test -e {MARKER} && echo NEWER || echo PINNED"], log=log)
        assert probe.stdout.strip() == "PINNED"

        # An edited configuration with a frozen lock stops with the CLI's message, before building.
        edited = reference.replace(f":{major}", f":{major}.{minor}")  # another tag of the same release
        config.write_text(config.read_text().replace(reference, edited))
        frozen = run(["devcontainer", "build", "--workspace-folder", str(project), "--docker-path", docker,
                      "--frozen-lockfile"], log=log, check=False, timeout=1800)
        assert frozen.returncode != 0
        assert "Lockfile does not match" in frozen.stdout + frozen.stderr
        assert lock_file.read_text() == locked

        # Control: without the lock, the same configuration builds the newer release.
        config.write_text(config.read_text().replace(edited, reference))
        run(["devcontainer", "build", "--workspace-folder", str(project), "--docker-path", docker,
             "--image-name", unlocked, "--no-lockfile"], log=log, timeout=1800)
        probe = run([docker, "run", "--rm", unlocked, "sh", "-c", f"test -e {MARKER} && echo NEWER || echo PINNED"], log=log)
        assert probe.stdout.strip() == "NEWER"
    finally:
        container.remove()
        run([docker, "image", "rm", "-f", image, unlocked], check=False)


def test_a_registry_project_builds_both_images_from_the_locked_features(docker, namespace, published, tmp_path):
    """features_registry answered: no vendored copies; `devcontainer upgrade` locks the published
    releases, and the project's publish.py builds the devcontainer image (devcontainer CLI,
    --frozen-lockfile) and the job image, whose env-doctor is the locked artifact, fetched by digest."""
    log = tmp_path / "build.log"
    root = render(tmp_path / "registry-lab", lock=True, project_name="Registry Lab", framework="none",
                  accelerator="cpu", jupyterlab=False, python_version="3.11", base_image="debian:bookworm",
                  image="none", features_registry=f"{REGISTRY}/{namespace}")
    trust_host_ca(root)
    assert not (root / ".devcontainer/features").exists()

    def publish(*args: str, check: bool = True):
        return run(["python3", ".devcontainer/publish.py", *args, "--branch", "main", "--default-branch", "main"],
                   cwd=root, log=log, check=check, timeout=1800, env={"DOCKER_PATH": docker})

    refused = publish("build", check=False)
    assert refused.returncode != 0
    assert "pins no env-doctor feature: run `devcontainer upgrade --workspace-folder .`" in refused.stderr

    run(["devcontainer", "upgrade", "--workspace-folder", str(root), "--docker-path", docker], log=log)
    lock = json.loads((root / ".devcontainer/devcontainer-lock.json").read_text())["features"]
    reference = f"{REGISTRY}/{namespace}/env-doctor:{published['env-doctor']['version'].split('.')[0]}"
    # What the major tag points at now (the test above may have published a newer patch release).
    assert lock[reference]["resolved"] == f"{REGISTRY}/{namespace}/env-doctor@{manifest(reference)[0]}"
    locked = (root / ".devcontainer/devcontainer-lock.json").read_text()

    image_tags = publish("tags").stdout.split()
    try:
        built = publish("build")
        assert "--frozen-lockfile" in built.stdout
        assert f"env-doctor feature for the job image: {lock[reference]['resolved']}" in built.stdout
        assert (root / ".devcontainer/devcontainer-lock.json").read_text() == locked
        fetched = json.loads((root / ".devcontainer/registry-features/env-doctor/devcontainer-feature.json").read_text())
        assert fetched["version"] == lock[reference]["version"]

        dev = next(tag for tag in image_tags if ":env-" in tag)
        job = next(tag for tag in image_tags if ":job-" in tag)
        for image in (dev, job):
            result = run([docker, "run", "--rm", image, "env-doctor", "--help"], log=log)
            assert "usage" in result.stdout.lower(), image
        # The same release in both (the newer test release, when the test above ran, leaves its marker).
        probes = [run([docker, "run", "--rm", image, "sh", "-c", f"test -e {MARKER} && echo NEWER || echo FIRST"],
                      log=log).stdout.strip() for image in (dev, job)]
        assert probes[0] == probes[1], probes
        report = run([docker, "run", "--rm", job, "env-doctor", "--json"], log=log, check=False)
        assert report.returncode in (0, 1), report.stderr  # 1: findings (no GPU here), not a failure
        assert {check["name"] for check in json.loads(report.stdout)["checks"]} >= {"python", "shm"}
    finally:
        run([docker, "image", "rm", "-f", *image_tags], check=False)
