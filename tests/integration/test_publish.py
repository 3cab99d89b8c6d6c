"""The environment shipped as an image: the generated project's publish script (what its CI runs)
builds and pushes to a real registry (testbed/testbed.py), then a colleague's fresh machine
starts from it: the image-based configuration (no build at all), and the normal one with
build.cacheFrom (the published layers reused). The published env-doctor reference travels inside.

"A fresh machine": this project's images removed and BuildKit's cache emptied (`docker builder
prune -af`: the suite runs its builds one at a time), the base image kept (a colleague pulls it).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid

import pytest

from testbed.testbed import REGISTRY, containerd_socket, delete, image_config, layers, manifest, require_registry
from tests.integration.test_image_build import fresh_layers
from tests.utils import kube
from tests.utils.docker import DevContainer, engine, run
from tests.utils.figures import record
from tests.utils.project import render, trust_host_ca

pytestmark = pytest.mark.integration

ANSWERS = {"project_name": "Ship Lab", "framework": "none", "accelerator": "cpu", "python_version": "3.11",
           "base_image": "debian:bookworm"}


def publish(root, docker, *args, env: dict | None = None) -> subprocess.CompletedProcess:
    """The project's own script, as its CI workflow runs it."""
    return run(["python3", ".devcontainer/publish.py", *args, "--branch", "main", "--default-branch", "main"],
               cwd=root, timeout=1800, env={"DOCKER_PATH": docker, **(env or {})})


def empty_engine(docker, image: str) -> None:
    """A colleague's machine: none of this project's images, no build cache."""
    client = engine()
    for container in client.containers.list(all=True):
        if container.attrs["Config"]["Image"].startswith(image):
            container.remove(force=True)
    for found in client.images.list():
        if any(tag.startswith(f"{image}:") for tag in found.tags):
            client.images.remove(found.id, force=True)
    run([docker, "builder", "prune", "-af"], timeout=600)


def runs_on_top(image: dict, layers: list[str]) -> bool:
    """The image is the published layers, plus at most the one the devcontainer CLI adds on Linux to
    give `dev` the host user's UID (updateRemoteUserUID): nothing of the environment was rebuilt."""
    own = image["RootFS"]["Layers"]
    return own[:len(layers)] == layers and len(own) - len(layers) <= 1


def build_commands(output: str) -> list[str]:
    """The image builds the devcontainer CLI ran (it logs each command it starts)."""
    return [line for line in output.splitlines() if re.search(r"Start: Run: \S*docker (buildx )?build", line)]


@pytest.fixture(scope="module")
def published(docker, tmp_path_factory):
    require_registry()
    image = f"{REGISTRY}/mltemplate-test/ship-{uuid.uuid4().hex[:8]}"
    root = render(tmp_path_factory.mktemp("publish") / "ship-lab", lock=True, image=image, **ANSWERS)
    trust_host_ca(root)
    fresh_layers(root)
    run(["git", "init", "-q"], cwd=root)
    run(["git", "add", "-A"], cwd=root)
    run(["git", "-c", "user.name=CI", "-c", "user.email=ci@example.invalid", "commit", "-qm", "init"], cwd=root)

    started = time.monotonic()
    built = publish(root, docker, "build")
    pushed = publish(root, docker, "push", "--pin")
    record(f"publish.py build + push: {time.monotonic() - started:.0f}s")
    tags = publish(root, docker, "tags").stdout.split()
    local = engine().images.get(f"{image}:latest").attrs
    info = {"root": root, "image": image, "tags": tags, "output": built.stdout + pushed.stdout, "pushed": pushed.stdout,
            "digest": manifest(f"{image}:latest")[0], "config": manifest(f"{image}:latest")[1]["config"]["digest"],
            "layers": local["RootFS"]["Layers"]}
    empty_engine(docker, image)
    yield info
    empty_engine(docker, image)
    for tag in tags:
        delete(tag)


def test_publish_pushes_immutable_moving_and_job_tags(published):
    image, tags = published["image"], published["tags"]
    env_tag = next(t for t in tags if t.startswith(f"{image}:env-"))
    assert re.fullmatch(rf"{re.escape(image)}:env-[0-9a-f]{{12}}", env_tag)
    assert {f"{image}:main", f"{image}:latest", f"{image}:job-main", f"{image}:job-latest"} <= set(tags)
    assert any(re.fullmatch(rf"{re.escape(image)}:job-[0-9a-f]{{12}}", t) for t in tags)
    # the immutable tag and the moving ones name the same image
    assert manifest(env_tag)[0] == manifest(f"{image}:main")[0] == published["digest"]
    assert manifest(f"{image}:job-latest")[1]["config"]["digest"] != published["config"]
    # built with the devcontainer CLI: the features' entrypoints and lifecycle commands travel in the label
    metadata = json.loads(image_config(f"{image}:latest")["config"]["Labels"]["devcontainer.metadata"])
    assert {"uv sync --locked", "env-doctor --on-start"} <= {entry.get(key) for entry in metadata
                                                             for key in ("updateContentCommand", "postStartCommand")}
    assert any("entrypoint" in entry for entry in metadata)  # JupyterLab starts with the container


def test_the_cluster_runs_the_pushed_job_image_by_digest(docker, published, tmp_path):
    """`push --pin` wrote the job image's digest into cluster/settings.toml; on a machine without the
    image, the Kubernetes trial pod the cluster command renders pulls exactly that digest and runs
    its trial (the pod run with Docker as the kubelet would: tests/utils/kube.py)."""
    image, root = published["image"], published["root"]
    job_digest = manifest(f"{image}:job-latest")[0]
    reference = f"{image}@{job_digest}"
    assert f"job image: {reference}" in published["pushed"]
    assert f'image = "{reference}"' in (root / "cluster/settings.toml").read_text()

    rendered = run(["python3", "cluster", "sweep", "kubernetes", "--output", "by-digest", "--dry-run"], cwd=root).stdout
    manifests = json.loads(rendered)["items"]  # one JSON List: saved with > sweep.json, kubectl creates it as is
    kube.validate(manifests)
    config_map, job = manifests
    pod = job["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == reference
    assert run([docker, "image", "inspect", reference], check=False).returncode != 0  # not on this machine
    claim = tmp_path / "claim"
    claim.mkdir()
    claim.chmod(0o2777)  # writable for the pod's user, whatever the umask
    name = f"by-digest-{uuid.uuid4().hex[:6]}"
    args = kube.docker_run_args(pod, name=name, claims=claims_of(pod, claim),
                                config_maps={config_map["metadata"]["name"]:
                                             kube.config_map_folder(config_map, tmp_path / "configmaps")},
                                env={"JOB_COMPLETION_INDEX": "0"})
    try:
        ran = run([docker, "run", *args], timeout=600, check=False)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        running = engine().images.get(reference).attrs
        assert reference in running["RepoDigests"]
    finally:
        run([docker, "rm", "-f", name], check=False)
        run([docker, "rmi", "-f", reference], check=False)
    result = json.loads((claim / "by-digest/trials/0000/result.json").read_text())
    assert result["params"] and (claim / "by-digest/trials/0000/env-doctor.json").is_file()


ZSTD_LAYER = "application/vnd.oci.image.layer.v1.tar+zstd"


def test_zstd_publishing_pushes_layers_that_containerd_pulls_and_runs(docker, published):
    """IMAGE_COMPRESSION=zstd, the generated CI's setting: skopeo pushes both images with zstd layers
    under OCI manifests, the digests printed and pinned are the registry's, and containerd (what
    Kubernetes nodes and Docker 23+ pull with; Docker 20.10 here cannot) pulls and runs the job image."""
    root, image = published["root"], f"{published['image']}-zstd"
    settings = root / "cluster/settings.toml"
    settings_before = settings.read_text()
    tags = publish(root, docker, "tags", "--image", image).stdout.split()
    socket = containerd_socket()
    ctr = ["ctr", "--address", socket, "--namespace", "mltemplate-test"]
    try:
        publish(root, docker, "build", "--image", image)
        pushed = publish(root, docker, "push", "--pin", "--image", image, env={"IMAGE_COMPRESSION": "zstd"}).stdout
        gzip_blobs = {layer["digest"] for tag in (published["image"] + ":latest", published["image"] + ":job-latest")
                      for layer in manifest(tag)[1]["layers"]}
        for kind, tag in (("devcontainer image", f"{image}:latest"), ("job image", f"{image}:job-latest")):
            digest, body = manifest(tag)
            assert body["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
            assert f"{kind}: {image}@{digest}" in pushed
            # every layer is zstd, but for blobs the registry already held (skopeo before 1.14 reuses them)
            assert all(layer["mediaType"] == ZSTD_LAYER or layer["digest"] in gzip_blobs for layer in body["layers"])
            assert sum(layer["mediaType"] == ZSTD_LAYER for layer in body["layers"]) >= len(body["layers"]) // 2
        assert manifest(f"{image}:main")[0] == manifest(f"{image}:latest")[0]  # the other tags: the same manifest
        job = f"{image}@{manifest(f'{image}:job-latest')[0]}"
        assert f'image = "{job}"' in settings.read_text()
        run([*ctr, "images", "pull", "--plain-http", job], timeout=900)
        ran = run([*ctr, "run", "--rm", job, f"zstd-{uuid.uuid4().hex[:6]}", "python", "-c", "import ship_lab; print('ran')"],
                  timeout=300)
        assert ran.stdout.strip() == "ran"
    finally:
        settings.write_text(settings_before)
        for found in run([*ctr, "images", "ls", "-q"], check=False).stdout.split():
            run([*ctr, "images", "rm", "--sync", found], check=False)
        empty_engine(docker, image)
        for tag in tags:
            delete(tag)


def claims_of(pod: dict, folder) -> dict:
    """Every PersistentVolumeClaim of the pod -> the one host folder standing in for it."""
    return {v["persistentVolumeClaim"]["claimName"]: folder for v in pod["volumes"] if "persistentVolumeClaim" in v}


@pytest.fixture(scope="module")
def prebuilt(docker, published):
    """A colleague's fresh machine opens the image-based configuration."""
    root = published["root"]
    container = DevContainer(root, docker, root.parent / "prebuilt.log", config=root / ".devcontainer/prebuilt/devcontainer.json")
    started = time.monotonic()
    container.up()
    record(f"prebuilt configuration up in {time.monotonic() - started:.0f}s")
    yield container
    container.remove()
    empty_engine(docker, published["image"])


def test_prebuilt_start_builds_nothing_and_runs_the_published_image(prebuilt, published):
    """Nothing of the environment is built: the container runs the pushed image. (On Linux the CLI,
    like VS Code, derives a one-step image that gives `dev` the host user's UID, updateRemoteUserUID.)"""
    assert build_commands(prebuilt.up_output) == [] and "--target" not in prebuilt.up_output
    pushed = image_config(f"{published['image']}:latest")
    assert pushed["rootfs"]["diff_ids"] == published["layers"]
    running = engine().images.get(prebuilt.inspect()["Image"]).attrs
    assert running["Id"] == published["config"] or runs_on_top(running, published["layers"])
    assert running["Config"]["Labels"]["devcontainer.metadata"] == pushed["config"]["Labels"]["devcontainer.metadata"]


def test_prebuilt_runs_as_non_root_with_the_configured_shared_memory(prebuilt):
    assert prebuilt.exec("id -un; id -u").stdout.split() == ["dev", "1000"]
    assert prebuilt.inspect()["HostConfig"]["ShmSize"] == 8 * 1024**3
    assert int(prebuilt.exec("df -B1 --output=size /dev/shm | tail -n1").stdout) == 8 * 1024**3


def test_prebuilt_installs_the_project_and_runs_jupyterlab_with_the_project_kernel(prebuilt):
    # the lifecycle commands come from the image's devcontainer.metadata label
    out = prebuilt.exec("python -c 'import sys, ship_lab; print(sys.prefix)'").stdout
    assert out.strip() == "/opt/venv"
    deadline = time.monotonic() + 90
    while prebuilt.exec("jupyterlab-service status", check=False).stdout.strip() != "healthy":
        assert time.monotonic() < deadline, "JupyterLab did not answer"
        time.sleep(3)
    specs = json.loads(prebuilt.exec("jupyter kernelspec list --json").stdout)["kernelspecs"]
    assert specs["ship-lab"]["spec"]["argv"][0] == "/opt/venv/bin/python"
    notebook = json.loads(prebuilt.exec("jupyter nbconvert --to notebook --execute --stdout notebooks/example.ipynb"
                                        " 2>/dev/null").stdout)
    printed = "".join("".join(o.get("text", "")) for c in notebook["cells"] if c["cell_type"] == "code"
                      for o in c["outputs"])
    assert "interpreter: /opt/venv/bin/python" in printed


def test_env_doctor_matches_the_published_reference_and_names_a_change(prebuilt):
    same = prebuilt.exec("env-doctor diff --reference", check=False)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no differences" in same.stdout
    prebuilt.exec("uv pip install --quiet six")
    try:
        changed = prebuilt.exec("env-doctor diff --reference --json", check=False)
    finally:
        prebuilt.exec("uv pip uninstall --quiet six")
    assert changed.returncode == 1
    differences = json.loads(changed.stdout)["differences"]
    assert [d["group"] for d in differences] == ["packages added", "lockfile"]
    assert differences[0]["what"].startswith("six ")


def test_cache_from_reuses_the_published_layers(docker, published, prebuilt):
    """The normal configuration on a fresh machine: every layer of the environment comes from the
    registry, none is built again (no locked package downloaded)."""
    prebuilt.remove()
    empty_engine(docker, published["image"])
    root = published["root"]
    container = DevContainer(root, docker, root.parent / "cache-from.log")
    try:
        started = time.monotonic()
        container.up()
        record(f"build with cacheFrom + up in {time.monotonic() - started:.0f}s")
        output = container.up_output
        assert "uv sync --locked --no-install-project" in output
        sync = next(line for line in output.splitlines() if "uv sync --locked --no-install-project" in line)
        step = re.search(r"#\d+", sync).group(0)
        assert f"{step} CACHED" in output, "the locked environment was installed again"
        built = engine().images.get(container.inspect()["Image"]).attrs
        assert runs_on_top(built, published["layers"]), "a layer differs from the published image"
    finally:
        container.remove()


# --- layers: a framework upgrade that keeps the CUDA libraries --------------------------------------

NVIDIA_WHEELS = ["nvidia-cuda-runtime-cu12==12.9.79", "nvidia-cuda-nvrtc-cu12==12.9.86",
                 "nvidia-nvjitlink-cu12==12.9.86", "nvidia-cuda-cupti-cu12==12.9.79"]


def pulled_layers(output: str) -> set[str]:
    """Short layer ids `docker pull` downloaded (not 'Already exists')."""
    return {line.split(":")[0] for line in output.splitlines() if line.endswith(": Pull complete")}


@pytest.fixture(scope="module")
def upgrade(docker, tmp_path_factory):
    """JAX 0.6.2 -> 0.8.1 with the same NVIDIA wheels, both images pushed. (A small stand-in for a
    CUDA framework upgrade: JAX's CPU wheels, and four of NVIDIA's smaller CUDA wheels in the lock,
    which layer_pins.py layers like a framework's. bench/shipping.py measures jax[cuda12] itself.)"""
    require_registry()
    image = f"{REGISTRY}/mltemplate-test/layers-{uuid.uuid4().hex[:8]}"
    root = render(tmp_path_factory.mktemp("layers") / "layer-lab", lock=True, project_name="Layer Lab",
                  framework="jax", framework_version="0.6.2", accelerator="cpu", python_version="3.11", image="none")
    trust_host_ca(root)
    fresh_layers(root)
    run(["uv", "add", "--no-sync", *NVIDIA_WHEELS], cwd=root)
    pins = {}
    for version, tag in (("0.6.2", "old"), ("0.8.1", "new")):
        pyproject = root / "pyproject.toml"
        pyproject.write_text(re.sub(r'"jax==[0-9.]+"', f'"jax=={version}"', pyproject.read_text()))
        run(["uv", "lock"], cwd=root)
        pins[tag] = {line.split("==")[0]: line for line in run(
            ["uv", "export", "--frozen", "--no-hashes", "--no-emit-project"], cwd=root).stdout.splitlines()
            if "==" in line and not line.startswith("#")}
        run([docker, "build", "-f", ".devcontainer/Dockerfile", "--target", "dev", "-t", f"{image}:{tag}", "."],
            cwd=root, timeout=1800)
        run([docker, "push", f"{image}:{tag}"], timeout=1200)
    empty_engine(docker, image)
    yield {"image": image, "pins": pins}
    empty_engine(docker, image)
    for tag in ("old", "new"):
        delete(f"{image}:{tag}")


def test_framework_upgrade_pulls_only_the_changed_layers(docker, upgrade):
    image, pins = upgrade["image"], upgrade["pins"]
    changed = {name for name in pins["new"] if pins["new"][name] != pins["old"].get(name)}
    assert {"jax", "jaxlib"} <= changed and not any(name.startswith("nvidia-") for name in changed)

    old, new = layers(f"{image}:old"), layers(f"{image}:new")
    shared = {digest for digest, _ in old} & {digest for digest, _ in new}
    # the NVIDIA layer is the largest the two share: everything up to it is reused as is
    reused = [size for digest, size in new if digest in shared]
    not_reused = {digest: size for digest, size in new if digest not in shared}
    run([docker, "pull", f"{image}:old"], timeout=1200)
    pulled = run([docker, "pull", f"{image}:new"], timeout=1200).stdout
    short = {digest.removeprefix("sha256:")[:12]: size for digest, size in new}
    downloaded = pulled_layers(pulled)
    assert {digest.removeprefix("sha256:")[:12] for digest in not_reused} <= downloaded, pulled
    # Docker reuses a layer only with the same layers below it: an empty layer (32 bytes) above a
    # changed one is fetched again; nothing else is.
    pulled_bytes, total = sum(short[layer] for layer in downloaded), sum(size for _, size in new)
    assert pulled_bytes - sum(not_reused.values()) < 1024, pulled
    record(f"after the upgrade a pull fetches {pulled_bytes / 1e6:.0f} MB of {total / 1e6:.0f} MB "
           f"({len(not_reused)} of {len(new)} layers); largest reused layer {max(reused) / 1e6:.0f} MB")
    assert max(reused) > max(not_reused.values())  # the NVIDIA wheels' layer is not fetched again
    assert pulled_bytes < 0.6 * total
