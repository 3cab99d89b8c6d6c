"""The generated project's cluster command (src/<package>/cluster.py), without a cluster: sweep
expansion, index -> parameters, trials and the summary (the `none` project's training runs on this
machine's Python), the sbatch command lines, and the Kubernetes manifests validated offline
(kubernetes-validate --strict for core kinds, JobSet's own fields and its Job templates)."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.utils import kube
from tests.utils.project import render
from tests.utils.tools import tool

DIGEST_IMAGE = "ghcr.io/acme/cluster-lab-job@sha256:" + "ab" * 32


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["pytorch", "none"])
def project(request, tmp_path_factory):
    root = render(tmp_path_factory.mktemp(request.param) / "cluster-lab", project_name="Cluster Lab",
                  framework=request.param, accelerator="cpu", python_version="3.11")
    return root, load_module(root / "src/cluster_lab/cluster.py", f"cluster_{request.param}"), request.param


@pytest.fixture(scope="module")
def none_project(tmp_path_factory):
    root = render(tmp_path_factory.mktemp("none") / "cluster-lab", project_name="Cluster Lab",
                  framework="none", accelerator="cpu", python_version="3.11")
    return root, load_module(root / "src/cluster_lab/cluster.py", "cluster_none_run")


def settings(module, **kubernetes) -> dict:
    base = module.load_settings(module.CLUSTER_DIR / "settings.toml")
    base["image"] = DIGEST_IMAGE
    base["kubernetes"].update(kubernetes)
    return base


# --- The sweep file ------------------------------------------------------------------------------

def test_shipped_sweep_expands_to_its_grid_in_file_order(project):
    root, cluster, _ = project
    sweep = tomllib.loads((root / "cluster/sweep.toml").read_text())
    trials = cluster.expand_sweep(sweep)
    grid = sweep["grid"]
    assert trials == [{**sweep["fixed"], **dict(zip(grid, values, strict=True))}
                      for values in itertools.product(*grid.values())]
    assert len(trials) == 6


def test_grid_and_listed_trials_with_fixed_parameters(none_project):
    _, cluster = none_project
    sweep = {"fixed": {"steps": 10, "lr": 1.0}, "grid": {"lr": [0.1, 0.2], "momentum": [0.0, 0.5]},
             "trials": [{"lr": 0.7}, {"momentum": 0.9, "tag": "x"}]}
    assert cluster.expand_sweep(sweep) == [
        {"steps": 10, "lr": 0.1, "momentum": 0.0}, {"steps": 10, "lr": 0.1, "momentum": 0.5},
        {"steps": 10, "lr": 0.2, "momentum": 0.0}, {"steps": 10, "lr": 0.2, "momentum": 0.5},
        {"steps": 10, "lr": 0.7}, {"steps": 10, "lr": 1.0, "momentum": 0.9, "tag": "x"},
    ]


@pytest.mark.parametrize("sweep, message", [
    ({}, "no trials"),
    ({"fixed": {"lr": 1}}, "no trials"),
    ({"grid": {"lr": 0.1}}, "non-empty list"),
    ({"grid": {"lr": []}}, "non-empty list"),
    ({"grid": {"lr": [[0.1]]}}, "string, number or bool"),
    ({"trials": [{"lr": {"a": 1}}]}, "string, number or bool"),
    ({"trials": [{"bad-name": 1}]}, "letters, digits"),
    ({"search": {"lr": [1]}}, "unknown sweep section"),
])
def test_bad_sweeps_are_refused_with_the_reason(none_project, sweep, message):
    _, cluster = none_project
    with pytest.raises(cluster.ClusterError, match=message):
        cluster.expand_sweep(sweep)


def test_index_comes_from_the_engine(none_project, monkeypatch):
    _, cluster = none_project
    for variable in ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(cluster.ClusterError, match="no trial index"):
        cluster.engine_index()
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "4")
    assert cluster.engine_index() == 4
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "2")
    assert cluster.engine_index() == 2
    assert cluster.engine_index(7) == 7


def test_parameters_become_options(none_project):
    _, cluster = none_project
    assert cluster.trial_arguments({"lr": 0.1, "batch_size": 32, "amp": True, "name": "a b"}) == [
        "--lr=0.1", "--batch-size=32", "--amp=true", "--name=a b"]


# --- Trials and the summary, for real (the `none` project's training is plain Python) -------------

@pytest.fixture
def fake_env_doctor(tmp_path, monkeypatch):
    """An env-doctor on PATH that writes a snapshot as the real one does (-o FILE)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "env-doctor"
    script.write_text("#!/bin/sh\n[ \"$1\" = snapshot ] && [ \"$2\" = -o ] || exit 3\n"
                      "echo '{\"kind\": \"snapshot\", \"schema_version\": 1}' > \"$3\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def run_cli(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cluster_lab.cluster", *args], cwd=root, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(root / "src"), **(env or {})})


def test_readmes_submit_with_the_script_a_login_node_runs(project):
    """One form of the cluster command in every instruction: the script, which needs no project environment."""
    root, _, _ = project
    for readme in ("README.md", "cluster/README.md"):
        commands = [line.strip() for line in (root / readme).read_text().splitlines()
                    if line.strip().startswith("python") and ("cluster_lab.cluster" in line or "cluster.py" in line)]
        assert commands, readme
        assert all(line.startswith("python3 src/cluster_lab/cluster.py ") for line in commands), (readme, commands)


def test_script_runs_on_a_login_node_without_the_project(none_project, tmp_path):
    """`python3 src/<package>/cluster.py sweep slurm` from the project's folder, with a Python that
    has not the project installed (a login node's): it only needs the standard library."""
    root, _ = none_project
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([sys.executable, "src/cluster_lab/cluster.py", "sweep", "slurm", "--output",
                             str(tmp_path / "sweep"), "--dry-run"], cwd=root, capture_output=True, text=True,
                            env={**env, "JOB_IMAGE": DIGEST_IMAGE})
    assert result.returncode == 0, result.stderr
    assert "sbatch" in result.stdout and "--array=0-5" in result.stdout
    assert subprocess.run([sys.executable, "-c", "import cluster_lab"], capture_output=True, env=env).returncode != 0


def test_trials_and_summary(none_project, tmp_path, fake_env_doctor):
    root, cluster = none_project
    output = tmp_path / "sweep"
    trials = cluster.expand_sweep(cluster.load_toml(root / "cluster/sweep.toml"))
    cluster.keep_sweep(root / "cluster/sweep.toml", trials, output)
    for index in range(len(trials)):
        result = run_cli(root, "trial", "--output", str(output), env={"SLURM_ARRAY_TASK_ID": str(index)})
        assert result.returncode == 0, result.stderr
    for index, params in enumerate(trials):
        folder = output / "trials" / f"{index:04d}"
        assert json.loads((folder / "params.json").read_text())["params"] == params
        assert json.loads((folder / "env-doctor.json").read_text())["kind"] == "snapshot"
        outcome = json.loads((folder / "result.json").read_text())
        assert {k: outcome["params"][k] for k in params} == params

    result = run_cli(root, "summary", str(output))
    assert result.returncode == 0 and "6/6 trials done" in result.stdout
    summary = json.loads((output / "summary.json").read_text())
    losses = [row["metrics"]["loss"] for row in summary["rows"]]
    assert losses == sorted(losses) and summary["metric"] == "loss" and summary["best"] == summary["rows"][0]
    csv_lines = (output / "summary.csv").read_text().splitlines()
    assert csv_lines[0].startswith("index,lr,momentum,seed,steps,") and len(csv_lines) == 7


def test_summary_names_failed_and_missing_trials(none_project, tmp_path, fake_env_doctor):
    root, cluster = none_project
    output = tmp_path / "sweep"
    trials = [{"lr": 0.1}, {"lr": 0.1, "no_such_option": 1}, {"lr": 0.2}]
    cluster.keep_sweep(root / "cluster/sweep.toml", trials, output)
    assert run_cli(root, "trial", "--output", str(output), "--index", "0").returncode == 0
    failed = run_cli(root, "trial", "--output", str(output), "--index", "1")
    assert failed.returncode == 2 and "unrecognized arguments: --no-such-option=1" in failed.stderr
    assert json.loads((output / "trials/0001/error.json").read_text())["returncode"] == 2
    result = run_cli(root, "summary", str(output))
    assert result.returncode == 1
    assert "failed (see trials/NNNN/error.json and the logs): [1]" in result.stdout
    assert "missing (not run yet, or lost): [2]" in result.stdout
    outside = run_cli(root, "trial", "--output", str(output), "--index", "3")
    assert outside.returncode == 2 and "outside the sweep's 3 trials" in outside.stderr


@pytest.fixture
def checkout_env_doctor(tmp_path, monkeypatch):
    """This checkout's env-doctor on PATH; like the feature's, it leaves the environment of what it
    runs alone (no PYTHONPATH)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "env-doctor"
    source = Path(__file__).resolve().parent.parent / "features/src/env-doctor"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import sys; sys.path.insert(0, \"{source}\"); "
                      "from env_doctor.cli import main; sys.exit(main(sys.argv[1:]))' \"$@\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_trial_leaves_its_watch_summary_beside_its_result(none_project, tmp_path, checkout_env_doctor):
    """With env-doctor 1.4+, the training runs under `env-doctor watch`: watch.json beside
    result.json, and the training's exit code still decides the trial's."""
    root, cluster = none_project
    output = tmp_path / "sweep"
    cluster.keep_sweep(root / "cluster/sweep.toml", [{"lr": 0.1}, {"lr": 0.1, "no_such_option": 1}], output)
    assert run_cli(root, "trial", "--output", str(output), "--index", "0").returncode == 0
    watch = json.loads((output / "trials/0000/watch.json").read_text())
    assert watch["kind"] == "watch" and watch["exit_code"] == 0 and "-m" in watch["command"]
    assert (output / "trials/0000/result.json").is_file()
    failed = run_cli(root, "trial", "--output", str(output), "--index", "1")
    assert failed.returncode == 2 and json.loads((output / "trials/0001/watch.json").read_text())["exit_code"] == 2
    assert json.loads((output / "trials/0001/error.json").read_text())["returncode"] == 2


def test_trial_without_env_doctor_still_runs_and_says_so(none_project, tmp_path, monkeypatch):
    root, cluster = none_project
    output = tmp_path / "sweep"
    cluster.keep_sweep(root / "cluster/sweep.toml", [{"lr": 0.1}], output)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    result = run_cli(root, "trial", "--output", str(output), "--index", "0")
    assert result.returncode == 0 and "env-doctor not found" in result.stderr
    assert "error" in json.loads((output / "trials/0000/env-doctor.json").read_text())


# --- Slurm: the sbatch command lines ---------------------------------------------------------------

def test_sweep_sbatch_command(none_project, tmp_path, monkeypatch):
    root, cluster = none_project
    config = settings(cluster)
    config["slurm"].update(partition="gpu", account="ml", max_parallel=3, gpus_per_node=1,
                           mounts=["/data:/data"], extra_args=["--qos=high"])
    args = cluster.parser().parse_args(["sweep", "slurm", "--output", str(tmp_path / "s"), "--wait"])
    command = cluster_command(cluster, cluster.sweep_slurm, args, config, monkeypatch)
    assert command[:2] == ["sbatch", "--parsable"]
    assert "--array=0-5%3" in command and "--wait" in command and "--gpus-per-node=1" in command
    assert {"--partition=gpu", "--account=ml", "--qos=high", "--time=01:00:00"} <= set(command)
    assert command[-1] == str(root / "cluster/slurm/sweep.sbatch")
    exported = dict(item.split("=", 1) for item in next(c for c in command if c.startswith("--export="))
                    .removeprefix("--export=").split(",")[1:])
    assert exported["CLUSTER_RUNTIME"] == "pyxis"
    assert exported["CLUSTER_IMAGE"] == "ghcr.io#acme/cluster-lab-job@sha256:" + "ab" * 32  # enroot's form
    assert exported["CLUSTER_OUTPUT"] == str(tmp_path / "s") and exported["CLUSTER_MOUNTS"] == "/data:/data"
    assert json.loads((tmp_path / "s/trials.json").read_text())["trials"][0]["lr"] == 0.3


def test_slurm_jobs_get_the_data_path_and_the_cache_folder(none_project, tmp_path, monkeypatch):
    """settings data_dir -> the data path, read-only; cache_dir -> /cache with every library's
    variable under it; the same paths as in the devcontainer."""
    _, cluster = none_project
    config = settings(cluster)
    config["slurm"].update(data_dir="/lustre/datasets", cache_dir="/lustre/me/cache", mounts=["/scratch:/scratch"])
    args = cluster.parser().parse_args(["sweep", "slurm", "--output", str(tmp_path / "s")])
    command = cluster_command(cluster, cluster.sweep_slurm, args, config, monkeypatch)
    exported = dict(item.split("=", 1) for item in next(c for c in command if c.startswith("--export="))
                    .removeprefix("--export=").split(",")[1:])
    assert exported["CLUSTER_MOUNTS"] == "/scratch:/scratch;/lustre/datasets:/data:ro;/lustre/me/cache:/cache"
    assert exported["PROJECT_DATA_DIR"] == "/data" and exported["HF_HOME"] == "/cache/huggingface"
    assert exported["UV_CACHE_DIR"] == "/cache/uv" and exported["TORCH_HOME"] == "/cache/torch"
    config["slurm"].update(data_dir="", cache_dir="")
    command = cluster_command(cluster, cluster.sweep_slurm, args, config, monkeypatch)
    exported = next(c for c in command if c.startswith("--export="))
    assert "PROJECT_DATA_DIR=/data" in exported and "HF_HOME" not in exported  # caches in the job's /tmp


def test_kubernetes_pods_mount_the_data_read_only_and_a_cache(none_project):
    _, cluster = none_project
    (_, job) = cluster.sweep_manifests(settings(cluster), [{"lr": 0.1}], "s", "s")
    kube.validate([job])
    pod = job["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "cluster-lab-data", "readOnly": True}
    assert mounts["data"] == {"name": "data", "mountPath": "/data", "readOnly": True}
    assert volumes["cache"] == {"name": "cache", "emptyDir": {}} and mounts["cache"]["mountPath"] == "/cache"
    assert env["PROJECT_DATA_DIR"] == "/data" and env["HF_HOME"] == "/cache/huggingface"

    nfs = {"nfs": {"server": "nfs.example.com", "path": "/datasets", "readOnly": True}}
    (_, job) = cluster.sweep_manifests(settings(cluster, data_claim="", data_volume=nfs, cache_claim="ml-cache"),
                                       [{"lr": 0.1}], "s", "s")
    kube.validate([job])
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"] == {"name": "data", **nfs}
    assert volumes["cache"]["persistentVolumeClaim"] == {"claimName": "ml-cache"}

    (_, job) = cluster.sweep_manifests(settings(cluster, data_claim=""), [{"lr": 0.1}], "s", "s")
    assert "data" not in {v["name"] for v in job["spec"]["template"]["spec"]["volumes"]}
    with pytest.raises(cluster.ClusterError, match="not both"):
        cluster.sweep_manifests(settings(cluster, data_volume=nfs), [{"lr": 1}], "s", "s")
    with pytest.raises(cluster.ClusterError, match="one volume source"):
        cluster.sweep_manifests(settings(cluster, data_claim="", data_volume={"nfs": {}, "hostPath": {}}),
                                [{"lr": 1}], "s", "s")


def cluster_command(cluster, handler, args, config, monkeypatch) -> list[str]:
    seen = []
    monkeypatch.setattr(cluster, "submit", lambda command, dry_run, stdin=None: seen.append(command) or 0)
    assert handler(args, config) == 0
    return seen[0]


def test_apptainer_runs_a_sif_or_the_registry_image(none_project, tmp_path):
    _, cluster = none_project
    config = settings(cluster)
    config["slurm"]["runtime"] = "apptainer"
    command = cluster.slurm_command(config, "sweep.sbatch", tmp_path, "x", [], [])
    assert f"CLUSTER_IMAGE=docker://{DIGEST_IMAGE}" in command[-2]
    config["slurm"]["apptainer_image"] = "/shared/images/job.sif"
    assert "CLUSTER_IMAGE=/shared/images/job.sif" in cluster.slurm_command(config, "sweep.sbatch", tmp_path, "x", [], [])[-2]


def test_submitting_needs_a_published_image(none_project, tmp_path, capsys):
    _, cluster = none_project
    code = cluster.main(["sweep", "slurm", "--output", str(tmp_path / "s")])
    assert code == 2 and "no job image set" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
    config = settings(cluster)
    config["image"] = "ghcr.io/acme/job:latest"
    cluster.slurm_command(config, "sweep.sbatch", tmp_path, "x", [], [])
    assert "not pinned by digest" in capsys.readouterr().err
    config["slurm"]["runtime"] = "docker"
    with pytest.raises(cluster.ClusterError, match="pyxis, apptainer, none"):
        cluster.slurm_command(config, "sweep.sbatch", tmp_path, "x", [], [])


def test_dry_run_output_is_the_manifests_kubectl_would_get(none_project):
    """`--dry-run > sweep.yaml` (as the project's README shows) gives a file kubectl applies as is."""
    root, _ = none_project
    result = run_cli(root, "sweep", "kubernetes", "--output", "lr", "--dry-run", env={"JOB_IMAGE": DIGEST_IMAGE})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# kubectl create -f -\n")
    documents = [d for d in yaml.safe_load_all(result.stdout) if d is not None]
    assert [d["kind"] for d in documents] == ["ConfigMap", "Job"]
    kube.validate(documents)


def test_job_image_comes_from_job_image_variable(none_project, monkeypatch):
    _, cluster = none_project
    monkeypatch.setenv("JOB_IMAGE", DIGEST_IMAGE)
    assert cluster.job_image(cluster.load_settings()) == DIGEST_IMAGE


def test_two_node_training_sbatch_command(project, tmp_path, monkeypatch):
    root, cluster, framework = project
    if framework != "pytorch":
        assert not (root / "cluster/slurm/train.sbatch").exists()
        with pytest.raises(SystemExit):
            cluster.parser().parse_args(["train", "slurm", "--output", "x"])
        return
    config, commands = settings(cluster), []
    monkeypatch.setattr(cluster, "submit", lambda command, dry_run, stdin=None: commands.append(command) or 0)
    monkeypatch.setattr(cluster, "load_settings", lambda path=None: config)
    assert cluster.main(["train", "slurm", "--nodes", "4", "--output", str(tmp_path / "d"),
                         "--", "--epochs=3", "--lr=0.1"]) == 0
    (command,) = commands
    assert "--nodes=4" in command and "--ntasks-per-node=1" in command
    assert command[-4:] == [str(root / "cluster/slurm/train.sbatch"), "1", "--epochs=3", "--lr=0.1"]


def test_batch_scripts_are_shellcheck_clean(project):
    root, _, _ = project
    scripts = [str(p) for p in (root / "cluster").rglob("*") if p.suffix in (".sh", ".sbatch")]
    result = subprocess.run([tool("shellcheck"), "-x", "-S", "warning", *scripts], cwd=root / "cluster/slurm",
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# --- Kubernetes: manifests, validated offline ------------------------------------------------------

def parse(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


def test_sweep_manifests_validate_and_round_trip(none_project):
    _, cluster = none_project
    trials = [{"lr": 0.1}, {"lr": 0.2}, {"lr": 0.3}]
    manifests = cluster.sweep_manifests(settings(cluster), trials, "sweeps/lr", "Cluster Lab LR!")
    assert parse(cluster.to_yaml(manifests)) == manifests  # the YAML kubectl gets says the same
    kube.validate(manifests)
    config, job = manifests
    assert json.loads(config["data"]["trials.json"])["trials"] == trials
    spec = job["spec"]
    assert job["metadata"]["name"] == "cluster-lab-lr"
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 3, 3)
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == DIGEST_IMAGE and "command" not in container  # the ENTRYPOINT stays
    assert container["args"][:4] == ["python", "-m", "cluster_lab.cluster", "trial"]
    assert "--output=/outputs/sweeps/lr" in container["args"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 1000
    assert container["securityContext"]["readOnlyRootFilesystem"]
    shm = next(v for v in pod["volumes"] if v["name"] == "shm")
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": "8Gi"}
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    assert "suspend" not in spec and "kueue.x-k8s.io/queue-name" not in job["metadata"]["labels"]


def test_gpus_and_kueue(project):
    _, cluster, framework = project
    config = settings(cluster, gpus=2, queue="team-a", namespace="ml")
    manifests = cluster.sweep_manifests(config, [{"lr": 0.1}], "s", "s")
    if framework == "pytorch":
        manifests += cluster.train_manifests(config, 2, 2, "d", "d", [])
    kube.validate(manifests)
    for resource in manifests[1:]:
        assert resource["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
        assert resource["metadata"]["namespace"] == "ml" and resource["spec"]["suspend"] is True
    job_pod = manifests[1]["spec"]["template"]["spec"]
    assert job_pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 2


def test_jobset_for_multi_node_training(project):
    _, cluster, framework = project
    if framework != "pytorch":
        assert not hasattr(cluster, "train_manifests")
        return
    (jobset,) = cluster.train_manifests(settings(cluster), 3, 1, "runs/ddp", "ddp", ["--epochs=2"])
    kube.validate([jobset])
    assert parse(cluster.to_yaml([jobset])) == [jobset]
    assert jobset["apiVersion"] == "jobset.x-k8s.io/v1alpha2"
    (rjob,) = jobset["spec"]["replicatedJobs"]
    job = rjob["template"]["spec"]
    assert (rjob["name"], rjob["replicas"], job["completions"], job["parallelism"]) == ("node", 1, 3, 3)
    assert job["completionMode"] == "Indexed" and jobset["spec"]["network"]["enableDNSHostnames"]
    args = job["template"]["spec"]["containers"][0]["args"]
    assert args[:3] == ["python", "-m", "torch.distributed.run"]
    assert {"--nnodes=3", "--rdzv-backend=c10d", "--rdzv-endpoint=ddp-node-0-0.ddp:29400"} <= set(args)
    assert args[-4:] == ["-m", "cluster_lab.train", "--output=/outputs/runs/ddp", "--epochs=2"]


@pytest.mark.parametrize("broken, message", [
    (lambda m: m[1]["spec"].update(completionMode="indexed"), "completionMode"),
    (lambda m: m[1]["spec"]["template"]["spec"]["containers"][0].update(imagePullPolcy="Always"), "imagePullPolcy"),
    (lambda m: m[1]["spec"]["template"]["spec"]["securityContext"].update(runAsUser="1000"), "runAsUser"),
])
def test_validation_catches_mistakes(none_project, broken, message):
    _, cluster = none_project
    manifests = cluster.sweep_manifests(settings(cluster), [{"lr": 0.1}], "s", "s")
    broken(manifests)
    with pytest.raises(Exception, match=message):
        kube.validate(manifests)


def test_jobset_validation_catches_mistakes(project):
    _, cluster, framework = project
    if framework != "pytorch":
        return
    (jobset,) = cluster.train_manifests(settings(cluster), 2, 1, "d", "d", [])
    jobset["spec"]["successPolicy"]["operator"] = "Every"
    with pytest.raises(Exception, match="Every"):
        kube.validate([jobset])
    jobset["spec"]["successPolicy"]["operator"] = "All"
    jobset["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]["containers"][0]["args"] = "x"
    with pytest.raises(Exception, match="args"):
        kube.validate([jobset])


def test_jobset_against_the_crd_schema(project):
    _, cluster, framework = project
    if framework != "pytorch":
        return
    config = settings(cluster, gpus=1, queue="q")
    (jobset,) = cluster.train_manifests(config, 2, 1, "d", "d", ["--epochs=2"])
    kube.validate_with_crd(jobset)
    jobset["spec"]["network"]["enableDNSHostName"] = True
    with pytest.raises(Exception, match="enableDNSHostName"):
        kube.validate_with_crd(jobset)


def test_bad_kubernetes_settings_are_refused(none_project):
    _, cluster = none_project
    with pytest.raises(cluster.ClusterError, match="output_claim"):
        cluster.sweep_manifests(settings(cluster, output_claim=""), [{"lr": 1}], "s", "s")
    with pytest.raises(cluster.ClusterError, match="non-root"):
        cluster.sweep_manifests(settings(cluster, user=0), [{"lr": 1}], "s", "s")
    with pytest.raises(cluster.ClusterError, match="inside the results volume"):
        cluster.sweep_manifests(settings(cluster), [{"lr": 1}], "../etc", "s")
    assert cluster.k8s_name("9 Lives_Sweep" + "x" * 80).startswith("run-9-lives-sweep")
    assert len(cluster.k8s_name("x" * 80)) == 40
