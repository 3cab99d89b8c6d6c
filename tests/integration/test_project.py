"""Generated projects, built and started on a real Docker Engine with the devcontainer CLI
(the engine behind VS Code's "Reopen in Container"), then checked from inside.

Python 3.11/3.13 are used because they are the distro Pythons of bookworm/trixie: a machine
without access to uv's Python downloads can still build them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import jsonschema
import pytest

from tests.utils.docker import DevContainer, remove_volumes, run
from tests.utils.figures import record
from tests.utils.project import REPO, render, trust_host_ca

pytestmark = pytest.mark.integration

PROJECTS = {
    # The template's defaults (pytorch + cuda + jupyterlab): CUDA wheels, running on the CPU here.
    "pytorch-cuda": {"project_name": "Vision Lab", "python_version": "3.11"},
    "none-cpu": {"project_name": "Plain Lab", "framework": "none", "accelerator": "cpu",
                 "python_version": "3.13", "base_image": "debian:trixie"},
}
FRAMEWORK_MODULE = {"pytorch": "torch", "tensorflow": "tensorflow", "jax": "jax"}
TEST_CA_NAME = "Template Test Root CA"


def make_test_ca(certs: Path) -> None:
    """A throwaway CA, to prove that .devcontainer/certs/*.crt reaches the trust store."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={TEST_CA_NAME}", "-keyout", str(certs / "test-ca.key"),
                    "-out", str(certs / "test-ca.crt")], check=True, capture_output=True)
    (certs / "test-ca.key").unlink()


@pytest.fixture(scope="module", params=list(PROJECTS), ids=str)
def project(request, docker, tmp_path_factory):
    answers = PROJECTS[request.param]
    root = render(tmp_path_factory.mktemp(request.param) / "workspace", lock=True, **answers)
    certs = root / ".devcontainer/certs"
    trust_host_ca(root)  # this machine's TLS-intercepting proxy
    make_test_ca(certs)
    log = root.parent / "devcontainer.log"
    # A colleague's dataset folder on the host, named by ML_DATA_DIR; the example data set in it,
    # written by the project's own data.py (standard library only: it runs on the host).
    datasets = root.parent / "datasets"
    package = next(p.parent.name for p in (root / "src").glob("*/__init__.py"))
    run(["python3", str(root / f"src/{package}/data.py"), "make", str(datasets)])
    slug = answers["project_name"].lower().replace(" ", "-")
    volumes = (f"{slug}-cache", f"{slug}-data")
    remove_volumes(*volumes)  # a cache left by an earlier run would prove nothing
    container = DevContainer(root, docker, log, env={"ML_DATA_DIR": str(datasets)})
    container.volumes = volumes
    started = time.monotonic()
    container.up()
    record(f"{request.param}: devcontainer up in {time.monotonic() - started:.0f}s (log: {log})")
    yield container, {**{"framework": "pytorch", "accelerator": "cuda"}, **answers}
    container.remove()
    remove_volumes(*volumes)


def locked_version(root: Path, package: str) -> str:
    lock = tomllib.loads((root / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def test_runs_as_non_root_user(project):
    container, _ = project
    assert container.exec("id -un; id -u").stdout.split() == ["dev", "1000"]


def test_container_user_has_passwordless_sudo(project):
    container, _ = project
    assert container.exec("sudo -n true && sudo -n id -u").stdout.split() == ["0"]


def test_framework_comes_from_the_locked_environment(project):
    container, answers = project
    module = FRAMEWORK_MODULE.get(answers["framework"])
    if module is None:
        out = container.exec("python -c 'import sys, plain_lab; print(sys.prefix)'").stdout
        assert out.strip() == "/opt/venv"
        return
    out = container.exec(f"python -c 'import {module}; print({module}.__version__)'").stdout
    assert out.strip().split("+")[0] == locked_version(container.folder, module)


def test_the_user_owns_every_file_of_the_environment_so_python_caches_its_bytecode(project):
    # The image compiles only what importing the framework compiles; Python writes the rest on first
    # use. That needs no root-owned file or __pycache__ in /opt/venv, which the build's root steps
    # (env-doctor's snapshot, the kernel registration) could leave.
    container, _ = project
    assert container.exec("find /opt/venv ! -user dev -print -quit").stdout == ""
    cached = container.exec("python -c 'import _pytest.python' && ls /opt/venv/lib/python3*/site-packages/_pytest/__pycache__")
    assert "python.cpython-" in cached.stdout


def test_jupyterlab_environment_built_ahead_is_kept_by_the_feature(project):
    # The Dockerfile's jupyterlab stage builds /opt/jupyterlab in parallel with the project's
    # packages; the feature, run on top by the devcontainer CLI, must keep it, not reinstall it.
    container, _ = project
    assert "jupyterlab feature: keeping /opt/jupyterlab: installed from this feature's lock" in container.log.read_text()
    assert container.exec("jupyter lab --version").stdout.strip()


def test_env_doctor_built_ahead_is_kept_and_the_framework_not_imported_twice(project):
    # The Dockerfile's env-doctor stage installs env-doctor and snapshots the framework alone; the
    # feature's reference snapshot after the lock's step must keep that environment and take the
    # framework's facts from there, or every lock change would import the framework again.
    container, answers = project
    log = container.log.read_text()
    assert "env-doctor feature: keeping /opt/env-doctor: installed from this feature's files" in log
    module = FRAMEWORK_MODULE.get(answers["framework"])
    if module:
        assert f"env-doctor: {module}: unchanged since this build's earlier snapshot" in log
        reference = json.loads(container.exec("cat /usr/local/share/env-doctor/reference.json").stdout)
        [framework] = reference["frameworks"]
        assert framework["name"] == module
        assert framework["version"].split("+")[0] == locked_version(container.folder, module)
    assert container.exec("env-doctor --help").stdout.startswith("usage: env-doctor")


def test_project_kernel_is_registered(project):
    container, answers = project
    specs = json.loads(container.exec("jupyter kernelspec list --json").stdout)["kernelspecs"]
    slug = answers["project_name"].lower().replace(" ", "-")
    assert specs[slug]["spec"]["argv"][0] == "/opt/venv/bin/python"
    assert specs[slug]["spec"]["display_name"].startswith(answers["project_name"])


def test_example_notebook_runs_in_project_kernel(project):
    container, answers = project
    out = container.exec("jupyter nbconvert --to notebook --execute --stdout notebooks/example.ipynb"
                         " 2>/dev/null").stdout
    notebook = json.loads(out)
    printed = "".join("".join(o.get("text", "")) for c in notebook["cells"] if c["cell_type"] == "code"
                      for o in c["outputs"])
    assert "interpreter: /opt/venv/bin/python" in printed
    assert " on cpu" in printed  # no GPU on this machine: the CUDA build falls back to the CPU
    assert ("matmul on cpu" if answers["framework"] == "pytorch" else "mean of squares") in printed
    assert "example data set: 4096 rows from /data/example-regression.csv" in printed


def test_jupyter_refuses_requests_without_token(project):
    container, _ = project
    probe = ("import sys, urllib.request as u, urllib.error as e\n"
             "def status(headers):\n"
             "    try: return u.urlopen(u.Request('http://127.0.0.1:8888/api/contents', headers=headers), timeout=5).status\n"
             "    except e.HTTPError as err: return err.code\n"
             "token = sys.argv[1].split('token=')[1]\n"
             "print(status({}), status({'Authorization': 'token wrong'}), status({'Authorization': 'token ' + token}))\n")
    out = container.exec(f"python3 -c \"$(cat <<'EOF'\n{probe}EOF\n)\" \"$(jupyterlab-service url)\"").stdout
    assert out.split() == ["403", "403", "200"]


def test_healthcheck_turns_healthy(project):
    container, _ = project
    deadline = time.monotonic() + 90
    while (health := container.inspect()["State"]["Health"]["Status"]) != "healthy":
        assert health != "unhealthy" and time.monotonic() < deadline, health
        time.sleep(3)


def test_gpu_optional_and_shared_memory(project):
    container, answers = project
    config = container.inspect()["HostConfig"]
    assert not config.get("DeviceRequests")  # no GPU forced on a host without one: it still starts
    assert config["ShmSize"] >= 8 * 1024**3  # PyTorch DataLoader workers need more than 64 MB
    env = container.exec("echo $NVIDIA_VISIBLE_DEVICES/$NVIDIA_DRIVER_CAPABILITIES").stdout.strip()
    assert env == ("all/compute,utility" if answers["accelerator"] == "cuda" else "/")


def test_extra_ca_certificates_are_trusted(project):
    container, _ = project
    out = container.exec("python -c 'import ssl; print([c[\"subject\"] for c in "
                         "ssl.create_default_context().get_ca_certs()])'").stdout
    assert TEST_CA_NAME in out


def test_project_tests_pass_inside(project):
    container, _ = project
    result = container.exec("python -m pytest -q -p no:cacheprovider tests", check=False)
    summary = result.stdout.strip().splitlines()[-1]
    # the device test and the cluster command's tests (sweep, trial, summary), all passing
    assert result.returncode == 0 and re.fullmatch(r"\d+ passed in [\d.]+s", summary), result.stdout
    assert int(summary.split()[0]) >= 4


def test_vscode_settings_point_at_existing_interpreter(project):
    container, _ = project
    config = json.loads((container.folder / ".devcontainer/devcontainer.json").read_text())
    interpreter = config["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"]
    assert container.exec(f"{interpreter} -c 'import ipykernel, sys; print(sys.prefix)'").stdout.strip() == "/opt/venv"


def test_env_doctor_reports_this_environment(project):
    container, answers = project
    result = container.exec("env-doctor --json", check=False)
    report = json.loads(result.stdout)
    assert result.returncode == report["exit_code"] == 0, report["checks"]  # no GPU here is not a problem
    assert report["driver"]["available"] is False and report["gpus"] == []
    assert report["project_python"]["path"] == "/opt/venv/bin/python"
    assert report["shm"]["bytes"] >= 8 * 1024**3
    assert report["lockfile"]["path"].endswith("uv.lock")
    if answers["framework"] == "pytorch":
        torch = next(f for f in report["frameworks"] if f["name"] == "torch")
        assert torch["version"].split("+")[0] == locked_version(container.folder, "torch")
        assert torch["cuda"] and torch["cuda_available"] is False
        assert report["cuda_libraries"]["cudart"]["version"].startswith(torch["cuda"].split(".")[0])


def test_env_doctor_diff_shows_a_changed_package(project):
    container, _ = project
    container.exec("env-doctor snapshot -o /tmp/before.json && uv pip install --quiet six "
                   "&& env-doctor snapshot -o /tmp/after.json")
    result = container.exec("env-doctor diff /tmp/before.json /tmp/after.json", check=False)
    container.exec("uv pip uninstall --quiet six")
    assert result.returncode == 1
    assert "packages added" in result.stdout and "six" in result.stdout


def test_cuda_libraries_exist_once_and_load_system_wide(project):
    container, answers = project
    copies = container.exec("find / -xdev \\( -name 'libcudart.so*' -o -name 'libcudnn.so*' \\) -type f "
                            "2>/dev/null | xargs -r -n1 basename | sort | uniq -c").stdout.split("\n")
    copies = {line.split()[1]: int(line.split()[0]) for line in copies if line.strip()}
    if answers["accelerator"] == "cpu":
        assert copies == {}  # a CPU project carries no CUDA at all
        return
    major = container.exec("echo $PROJECT_CUDA_VERSION").stdout.strip().split(".")[0]
    assert copies.get(f"libcudart.so.{major}") == 1 and copies.get("libcudnn.so.9") == 1, copies
    probe = ("import ctypes\n"
             f"rt = ctypes.CDLL('libcudart.so.{major}'); v = ctypes.c_int(); rt.cudaRuntimeGetVersion(ctypes.byref(v))\n"
             "dnn = ctypes.CDLL('libcudnn.so.9'); dnn.cudnnGetVersion.restype = ctypes.c_size_t\n"
             "print(v.value, dnn.cudnnGetVersion())\n")
    # loaded by the system loader (ldconfig), not through torch's own search path
    runtime, cudnn = container.exec(f"cd /tmp && /usr/bin/env -i /usr/bin/python3 -c \"{probe}\" 2>/dev/null "
                                    f"|| /opt/venv/bin/python -I -c \"{probe}\"").stdout.split()
    assert runtime.startswith(major) and int(runtime) // 1000 == int(major)
    assert int(cudnn) // 10000 == 9
    assert container.exec("echo $CUDA_HOME; test -d $CUDA_HOME && echo exists").stdout.split() == ["/usr/local/cuda", "exists"]


def test_pre_commit_passes_on_a_new_project_and_strips_notebook_outputs(project):
    container, _ = project
    # A copy in /tmp: the bind-mounted workspace belongs to this machine's root, not the container user.
    setup = "rm -rf /tmp/repo && cp -r . /tmp/repo && cd /tmp/repo && git init -q && git add -A"
    fresh = container.exec(f"{setup} && pre-commit run --all-files", check=False)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "strip notebook outputs" in fresh.stdout and "Passed" in fresh.stdout
    executed = container.exec(
        "cd /tmp/repo && jupyter nbconvert --to notebook --execute --inplace notebooks/example.ipynb 2>/dev/null"
        " && git add -A && pre-commit run nbstripout --all-files", check=False)
    assert executed.returncode == 1 and "files were modified by this hook" in executed.stdout
    notebook = json.loads(container.exec("cat /tmp/repo/notebooks/example.ipynb").stdout)
    assert all(cell.get("outputs", []) == [] for cell in notebook["cells"])


# What the GPU checks (tests/gpu) need from this repository, copied into the container with its layout.
GPU_CHECK_FILES = ["tests/gpu", "tests/utils/__init__.py", "tests/utils/gpu_check.py", "tests/data/gpu-check-cpu-snapshot.json",
                   "features/src/env-doctor", "features/lib/test-checks.sh", "pyproject.toml"]


@pytest.mark.parametrize("project", ["pytorch-cuda"], indirect=True)  # torch with its CUDA wheels
def test_gpu_check_says_no_gpu_and_passes_the_rest_on_the_cpu(project, tmp_path):
    """The GPU checks (tests/gpu, docs/gpu-check.md) against the container's own project, on a machine
    without a GPU (GPU_CHECK_ON_CPU=1): what the GPU machine will run, minus the GPU."""
    container, _ = project
    staging = tmp_path / "gpu-check"
    for name in GPU_CHECK_FILES:
        source, target = REPO / name, staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    for path in [staging, *staging.rglob("*")]:  # readable by the container's user (tmp_path is 0700)
        path.chmod(0o755 if path.is_dir() else 0o644)
    run([container.docker, "cp", f"{staging}/.", f"{container.container_id}:/tmp/gpu-check"])
    workspace = container.exec("pwd").stdout.strip()
    result = container.exec(f"cd /tmp/gpu-check && GPU_CHECK_ON_CPU=1 GPU_CHECK_OUT=/tmp/gpu-check-out "
                            f"GPU_CHECK_PROJECTS={workspace} /opt/venv/bin/python -m pytest tests/gpu -m gpu -p no:cacheprovider",
                            check=False)
    run([container.docker, "cp", f"{container.container_id}:/tmp/gpu-check-out", str(tmp_path / "out")])
    print(f"\nGPU checks' output: {tmp_path / 'out'}\n{result.stdout[-3000:]}")
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    checks = {c["check"]: c for c in summary["checks"]}
    name = f"project {Path(workspace).name} (pytorch)"

    assert result.returncode == 0 == summary["exit_code"], result.stdout[-4000:] + result.stderr[-2000:]
    assert "no GPU: this machine has no NVIDIA driver/GPU" in result.stdout
    assert "no GPU on this machine;" in result.stdout and summary["failed"] == 0
    assert checks["gpu"]["status"] == "SKIP" and checks["gpu"]["detail"].startswith("no GPU")
    assert checks["env-doctor exit code"]["status"] == "PASS"
    schema_check = checks["env-doctor check JSON schema"]  # jsonschema validates it below where the project lacks it
    assert schema_check["status"] == "PASS" or "jsonschema is not importable" in schema_check["detail"], schema_check
    assert checks["env-doctor facts"]["detail"].startswith("no GPU reported consistently")
    probes = checks["CUDA/cuDNN probes"]
    major = container.exec("echo $PROJECT_CUDA_VERSION").stdout.strip().split(".")[0]
    assert probes["status"] == "PASS", probes
    assert f"cudart_version {major}" in probes["detail"] and "cudnn_version 9" in probes["detail"]
    assert checks[f"{name}: device code"]["status"] == "PASS" and " on cpu " in checks[f"{name}: device code"]["detail"]
    assert checks[f"{name}: notebook"] == {"check": f"{name}: notebook", "status": "PASS",
                                           "detail": "3/3 code cells ran, printed 'matmul on cpu'"}
    assert checks["torchrun DDP"]["status"] == "PASS" and checks["torchrun DDP"]["detail"].startswith("gloo, 2/2 rank(s)")
    assert (out / "gpu-check.log").read_text().count("all_reduce sum 3 (expected 3) OK") == 2
    assert checks["JAX project"]["status"] == "SKIP" and "jax is not importable" in checks["JAX project"]["detail"]
    assert checks["snapshot diff"]["status"] == "PASS"
    assert checks["env-doctor watch"]["status"] == "PASS" and "CPU" in checks["env-doctor watch"]["detail"]
    assert checks["env-doctor bench"]["status"] == "PASS" and "matmul_fp32 (cpu)" in checks["env-doctor bench"]["detail"]
    # The JSON it kept, checked here with jsonschema (inside, only where the project's Python has it).
    schema = json.loads((REPO / "features/src/env-doctor/report.schema.json").read_text())
    for file, kind in [("env-doctor.json", "check"), ("snapshot.json", "snapshot"), ("watch.json", "watch"),
                       ("bench.json", "bench")]:
        document = json.loads((out / file).read_text())
        jsonschema.validate(document, {"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]})
    assert sorted(p.name for p in out.iterdir()) == ["bench.json", "diff.txt", "env-doctor.json", "gpu-check.log",
                                                     "snapshot.json", "summary.json", "watch.json"]


def test_host_data_folder_is_read_only_at_the_data_path(project):
    container, _ = project
    out = container.exec("wc -l < /data/example-regression.csv; touch /data/new 2>&1 || true; "
                         "echo $PROJECT_DATA_DIR").stdout.splitlines()
    assert out[0] == "4097" and "Read-only file system" in out[1] and out[2] == "/data"
    report = json.loads(container.exec("env-doctor --json", check=False).stdout)
    (data,) = [c for c in report["checks"] if c["name"] == "data"]
    assert data["status"] == "ok" and "read-only (host folder " in data["message"], data
    assert report["storage"]["data"]["host_folder"].endswith("/datasets")


def test_example_training_reads_its_data_from_the_data_path(project):
    container, answers = project
    package = next(p.parent.name for p in (container.folder / "src").glob("*/__init__.py"))
    shown = container.exec(f"python -m {package}.data show").stdout
    assert shown.strip() == "data path /data: /data/example-regression.csv, 4096 rows"
    if answers["framework"] != "pytorch":
        return
    container.exec(f"python -m {package}.train --epochs=2 --output=/tmp/data-check")
    result = json.loads(container.exec("cat /tmp/data-check/result.json").stdout)
    assert result["data"] == "/data/example-regression.csv"
    assert result["metrics"]["val_loss"] < result["metrics"]["initial_val_loss"]


# Last in the module: it replaces the container.
def test_cache_filled_by_a_library_survives_a_rebuild(project, tmp_path):
    """A file the library's own cache mechanism wrote (torch hub's checkpoint cache; uv's package
    cache without a framework) is still there in the new container after `devcontainer up
    --remove-existing-container`, and served from it."""
    container, answers = project
    cache_report = json.loads(container.exec("env-doctor --json", check=False).stdout)
    (cache,) = [c for c in cache_report["checks"] if c["name"] == "cache"]
    assert cache["status"] == "ok" and f"volume {container.volumes[0]}" in cache["message"], cache
    if answers["framework"] == "pytorch":
        # A checkpoint "downloaded" by torch hub: served from a file URL (no network needed).
        fill = ("python -c 'import torch; torch.save({\"w\": torch.ones(256, 1024)}, \"/tmp/w.pt\"); "
                "torch.hub.load_state_dict_from_url(\"file:///tmp/w.pt\", progress=False)'")
        cached, reuse = "/cache/torch/hub/checkpoints/w.pt", ("python -c 'import torch; "
                         "torch.hub.load_state_dict_from_url(\"file:///nonexistent/w.pt\")'")
    else:
        fill = "uv venv -q /tmp/probe && uv pip install -q --python /tmp/probe idna"
        cached = "$(find /cache/uv -path '*idna*' -name '__init__.py' | head -n 1)"
        reuse = "uv venv -q /tmp/probe && uv pip install -q --offline --python /tmp/probe idna"
    container.exec(fill)
    before = container.exec(f"stat -c '%s %U' {cached}").stdout.split()
    old_id = container.container_id
    container.up("--remove-existing-container")
    assert container.container_id != old_id
    assert container.exec(f"stat -c '%s %U' {cached}").stdout.split() == before == [before[0], "dev"]
    assert container.exec(reuse, check=False).returncode == 0  # from the cache: the source is gone
