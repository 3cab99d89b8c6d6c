"""Slurm without a cluster: the sbatch command lines `python3 cluster ... --dry-run` prints, what
a submission records, and the batch scripts (shellcheck)."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest
from mlcluster import slurm
from mlcluster.settings import ClusterError

from tests.cluster.conftest import DIGEST_IMAGE, run_cluster, shipped_settings
from tests.utils.tools import tool


def dry_run(root, *args: str, settings=None, tmp_path=None) -> list[str]:
    """The sbatch command line of `python3 cluster [--settings FILE] ARGS --dry-run`."""
    options = []
    if settings is not None:
        path = tmp_path / "settings.json.toml"
        path.write_text(toml(settings))
        options = ["--settings", str(path)]
    args = list(args)
    args.insert(args.index("--") if "--" in args else len(args), "--dry-run")
    result = run_cluster(root, *options, *args, env={"JOB_IMAGE": DIGEST_IMAGE})
    assert result.returncode == 0, result.stderr
    return shlex.split(result.stdout.strip().splitlines()[-1])


def toml(settings: dict) -> str:
    """Settings back to TOML (strings, numbers and lists of strings are all they hold)."""
    lines = [f"image = {json.dumps(settings['image'])}"]
    for table in ("slurm", "kubernetes"):
        lines.append(f"[{table}]")
        for key, value in settings[table].items():
            if isinstance(value, dict):
                continue
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def exported(command: list[str]) -> dict:
    option = next(c for c in command if c.startswith("--export="))
    return dict(item.split("=", 1) for item in option.removeprefix("--export=").split(",")[1:])


def test_sweep_sbatch_command(none_project, tmp_path):
    root, project = none_project
    config = shipped_settings(project)
    config["slurm"].update(partition="gpu", account="ml", max_parallel=3, gpus_per_trial=1,
                           gpus_per_node=4, mounts=["/data:/data"], extra_args=["--qos=high"])
    output = tmp_path / "s"
    command = dry_run(root, "sweep", "slurm", "--output", str(output), "--wait", settings=config, tmp_path=tmp_path)
    assert command[:2] == ["sbatch", "--parsable"]
    assert "--array=0-5%3" in command and "--wait" in command
    # A trial's GPUs, not a training node's.
    assert "--gpus=1" in command and not any(c.startswith("--gpus-per-node") for c in command)
    # Requeued on preemption or node failure, warned before the time limit, one log for all runs.
    assert {"--requeue", "--open-mode=append", "--signal=B:USR2@120"} <= set(command)
    assert {"--partition=gpu", "--account=ml", "--qos=high", "--time=01:00:00"} <= set(command)
    # The script runs from the submission's record in the output folder, not from the checkout.
    assert command[-1] == str(output / "submissions/NNN/sweep.sbatch")
    variables = exported(command)
    assert variables["CLUSTER_RUNTIME"] == "pyxis"
    assert variables["CLUSTER_IMAGE"] == "ghcr.io#acme/cluster-lab-job@sha256:" + "ab" * 32  # enroot's form
    assert variables["CLUSTER_OUTPUT"] == str(output) and variables["CLUSTER_MOUNTS"] == "/data:/data"
    assert not output.exists(), "a dry run writes nothing"


def test_slurm_jobs_get_the_data_path_and_the_cache_folder(none_project, tmp_path):
    """settings data_dir -> the data path, read-only; cache_dir -> /cache with every library's
    variable under it; the same paths as in the devcontainer."""
    root, project = none_project
    config = shipped_settings(project)
    config["slurm"].update(data_dir="/lustre/datasets", cache_dir="/lustre/me/cache", mounts=["/scratch:/scratch"])
    variables = exported(dry_run(root, "sweep", "slurm", "--output", str(tmp_path / "s"),
                                 settings=config, tmp_path=tmp_path))
    assert variables["CLUSTER_MOUNTS"] == "/scratch:/scratch;/lustre/datasets:/data:ro;/lustre/me/cache:/cache"
    assert variables["PROJECT_DATA_DIR"] == "/data" and variables["HF_HOME"] == "/cache/huggingface"
    assert variables["UV_CACHE_DIR"] == "/cache/uv" and variables["TORCH_HOME"] == "/cache/torch"
    config["slurm"].update(data_dir="", cache_dir="")
    variables = exported(dry_run(root, "sweep", "slurm", "--output", str(tmp_path / "s"),
                                 settings=config, tmp_path=tmp_path))
    assert variables["PROJECT_DATA_DIR"] == "/data" and "HF_HOME" not in variables  # caches in the job's /tmp


def test_apptainer_runs_a_sif_or_the_registry_image(none_project):
    _, project = none_project
    config = shipped_settings(project)
    config["slurm"]["runtime"] = "apptainer"
    assert slurm.container(config)[1] == f"docker://{DIGEST_IMAGE}"
    config["slurm"]["apptainer_image"] = "/shared/images/job.sif"
    assert slurm.container(config)[1] == "/shared/images/job.sif"


def test_submitting_needs_a_published_image(none_project, tmp_path, capsys):
    root, project = none_project
    result = run_cluster(root, "sweep", "slurm", "--output", str(tmp_path / "s"))
    assert result.returncode == 2 and "no job image set" in result.stderr
    assert not (tmp_path / "s").exists()
    config = shipped_settings(project)
    config["image"] = "ghcr.io/acme/job:latest"
    slurm.container(config)
    assert "not pinned by digest" in capsys.readouterr().err
    config["slurm"]["runtime"] = "docker"
    with pytest.raises(ClusterError, match="pyxis, apptainer, none"):
        slurm.container(config)


def test_two_node_training_sbatch_command(project, tmp_path):
    root, _, framework = project
    if framework != "pytorch":
        assert not (root / "cluster/slurm/train.sbatch").exists()
        result = run_cluster(root, "train", "slurm", "--output", "x")
        assert result.returncode == 2 and "invalid choice: 'train'" in result.stderr
        return
    output = tmp_path / "d"
    command = dry_run(root, "train", "slurm", "--nodes", "4", "--output", str(output), "--", "--epochs=3", "--lr=0.1")
    assert "--nodes=4" in command and "--ntasks-per-node=1" in command
    assert not any(c.startswith("--gpus") for c in command)  # a CPU project ships gpus_per_node = 0
    assert {"--requeue", "--open-mode=append", "--signal=B:USR2@120"} <= set(command)
    assert command[-4:] == [str(output / "submissions/NNN/train.sbatch"), "1", "--epochs=3", "--lr=0.1"]


def test_batch_scripts_are_shellcheck_clean(project):
    root, _, _ = project
    scripts = [str(p) for p in (root / "cluster").rglob("*") if p.suffix in (".sh", ".sbatch")]
    result = subprocess.run([tool("shellcheck"), "-x", "-S", "warning", *scripts], cwd=root / "cluster/slurm",
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_warning_seconds_setting(none_project):
    _, project = none_project
    config = shipped_settings(project)
    config["slurm"]["warning_seconds"] = 300
    assert slurm.recovery_options(config) == ["--requeue", "--open-mode=append", "--signal=B:USR2@300"]
    config["slurm"]["warning_seconds"] = 0  # no warning; still requeued by Slurm
    assert slurm.recovery_options(config) == ["--requeue", "--open-mode=append"]
    config["slurm"]["warning_seconds"] = "2m"
    with pytest.raises(ClusterError, match="warning_seconds"):
        slurm.recovery_options(config)


@pytest.mark.parametrize("runtime, copy, source", [
    ("pyxis", "image.sqsh", "ghcr.io#acme/cluster-lab-job@sha256:" + "ab" * 32),
    ("apptainer", "image.sif", f"docker://{DIGEST_IMAGE}"),
])
def test_import_once_is_a_first_job_the_trials_depend_on(none_project, tmp_path, runtime, copy, source):
    """slurm.import_once: import.sbatch pulls the image into the submission's folder once; the
    array runs that copy after it (afterok). Neither enroot nor Apptainer is here: the commands."""
    root, project = none_project
    config = shipped_settings(project)
    config["slurm"].update(runtime=runtime, import_once=True)
    output = tmp_path / "s"
    options = ["--settings", str(tmp_path / "settings.toml")]
    (tmp_path / "settings.toml").write_text(toml(config))
    result = run_cluster(root, *options, "sweep", "slurm", "--output", str(output), "--dry-run")
    assert result.returncode == 0, result.stderr
    first, main = (shlex.split(line) for line in result.stdout.strip().splitlines()[-2:])
    assert first[0] == "sbatch" and first[-1] == str(output / "submissions/NNN/import.sbatch")
    assert exported(first)["CLUSTER_IMPORT_FROM"] == source
    assert exported(first)["CLUSTER_IMAGE"] == exported(main)["CLUSTER_IMAGE"] == str(output / "submissions/NNN" / copy)
    assert "--dependency=afterok:IMPORT_JOB" in main  # the import's job ID, once submitted
    config["slurm"]["import_once"] = False
    assert slurm.import_once(config) is None


def container_sh(tmp_path, script: str, env: dict) -> subprocess.CompletedProcess:
    """Run script with the project's container.sh sourced and fake srun, scancel, scontrol and
    apptainer on PATH: each logs its arguments (and apptainer its environment) to calls.log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    fake = {
        # srun runs its command (after its options), as a node would
        "srun": 'echo "srun $*" >> "$LOG"; while [ "${1#-}" != "$1" ]; do shift; done; exec "$@"',
        "scancel": 'echo "scancel $*" >> "$LOG"; kill -TERM "$(cat "$STEP_PID")"',
        "scontrol": 'echo "scontrol $*" >> "$LOG"',
        "apptainer": 'echo "apptainer $*" >> "$LOG"; env | grep ^APPTAINERENV_ | sort >> "$LOG"',
    }
    for name, body in fake.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    base = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LOG": str(log), "CLUSTER_OUTPUT": str(tmp_path),
            "CLUSTER_SUBMISSION": str(tmp_path), "STEP_PID": str(tmp_path / "step.pid")}
    result = subprocess.run(["bash", "-c", f"set -euo pipefail; source container.sh; {script}"],
                            cwd=tmp_path / "slurm", env={**base, **env}, capture_output=True,
                            text=True, timeout=60)
    result.calls = log.read_text() if log.exists() else ""
    return result


@pytest.fixture
def scripts(none_project, tmp_path):
    root, _ = none_project
    (tmp_path / "slurm").mkdir()
    for path in (root / "cluster/slurm").iterdir():
        (tmp_path / "slurm" / path.name).write_text(path.read_text())
    return tmp_path


# A step that writes its PID (for the fake scancel), then stands for a training: exits 143 on
# SIGTERM (checkpointed), 0 once done.
STEP = ("bash -c 'echo $$ > \"$STEP_PID\"; trap \"exit 143\" TERM; "
        "for i in $(seq 50); do sleep 0.1; done'")


def test_the_warning_stops_the_step_and_requeues_the_array_task(scripts):
    """USR2 (the early warning) to the batch shell: the step's tasks get SIGTERM through
    scancel --signal (never srun's own SIGTERM handling, which kills), the script waits for
    the step and requeues the array task by its own ID."""
    env = {"CLUSTER_RUNTIME": "none", "SLURM_JOB_ID": "107", "SLURM_ARRAY_JOB_ID": "100",
           "SLURM_ARRAY_TASK_ID": "7", "SLURM_CPUS_PER_TASK": "3", "CLUSTER_WARNING_SIGNAL": "USR2",
           "PYTHONPATH": "/poison", "PYTHONHOME": "/poison", "PYTHONSTARTUP": "/poison/s.py"}
    script = (f'(sleep 1; kill -USR2 $$) & run_step --ntasks=1 -- {STEP}; echo "not reached"')
    result = container_sh(scripts, script, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not reached" not in result.stdout and "step ended with status 143" in result.stdout
    assert "scancel --signal=TERM 107" in result.calls
    assert "scontrol requeue 100_7" in result.calls


def test_without_a_warning_the_step_status_is_the_scripts(scripts):
    env = {"CLUSTER_RUNTIME": "none", "SLURM_JOB_ID": "5", "SLURM_CPUS_PER_TASK": "3"}
    result = container_sh(scripts, 'run_step -- bash -c "exit 3"', env)
    assert result.returncode == 3 and "requeue" not in result.calls
    # Slurm's SIGTERM (scancel, time limit) to the batch shell: it waits for the step's end.
    result = container_sh(scripts, f"(sleep 1; kill -TERM $$) & run_step -- {STEP.replace('exit 143', 'exit 0')}", env)
    assert result.returncode == 0 and "SIGTERM: waiting for the step" in result.stdout
    assert "requeue" not in result.calls
    # A requeued single job requeues itself by its job ID.
    result = container_sh(scripts, f"(sleep 1; kill -USR2 $$) & run_step -- {STEP}", env)
    assert result.returncode == 0 and "scontrol requeue 5" in result.calls


def test_a_job_requeues_itself_at_most_max_requeues_times(scripts, none_project):
    """A training that never gets past its warning stops requeueing (its checkpoint kept)."""
    env = {"CLUSTER_RUNTIME": "none", "SLURM_JOB_ID": "5", "SLURM_CPUS_PER_TASK": "1",
           "CLUSTER_MAX_REQUEUES": "3", "SLURM_RESTART_COUNT": "3"}
    result = container_sh(scripts, f"(sleep 1; kill -USR2 $$) & run_step -- {STEP}", env)
    assert "requeue" not in result.calls and "ran 3 times already (slurm.max_requeues)" in result.stdout
    assert result.returncode == 143
    result = container_sh(scripts, f"(sleep 1; kill -USR2 $$) & run_step -- {STEP}",
                          {**env, "SLURM_RESTART_COUNT": "2"})
    assert "scontrol requeue 5" in result.calls
    _, project = none_project
    config = shipped_settings(project)
    assert slurm.max_requeues(config) == 20
    config["slurm"]["max_requeues"] = -1
    with pytest.raises(ClusterError, match="max_requeues"):
        slurm.max_requeues(config)


def test_the_step_gets_the_jobs_cpus_and_not_the_submitters_python(scripts):
    env = {"CLUSTER_RUNTIME": "none", "SLURM_CPUS_PER_TASK": "3", "PYTHONPATH": "/poison",
           "PYTHONHOME": "/poison", "PYTHONSTARTUP": "/poison/s.py", "PYTHONUSERBASE": "/poison"}
    result = container_sh(scripts, "in_image -- env", env)
    assert result.returncode == 0, result.stderr
    variables = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert variables["SRUN_CPUS_PER_TASK"] == "3" and variables["PYTHONNOUSERSITE"] == "1"
    assert not {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE"} & set(variables)


def test_apptainer_runs_a_clean_environment_without_home(scripts):
    env = {"CLUSTER_RUNTIME": "apptainer", "CLUSTER_IMAGE": "/shared/job.sif", "SLURM_JOB_ID": "9",
           "SLURM_NODEID": "1", "NCCL_SOCKET_IFNAME": "ib0", "HF_HOME": "/cache/huggingface",
           "CLUSTER_JOB_VARIABLES": "PROJECT_DATA_DIR HF_HOME", "PROJECT_DATA_DIR": "/data",
           "SECRET_TOKEN": "x", "CLUSTER_MOUNTS": "/d:/data:ro"}
    result = container_sh(scripts, "in_image --ntasks=1 -- python -V", env)
    assert result.returncode == 0, result.stderr
    call = next(line for line in result.calls.splitlines() if line.startswith("apptainer "))
    assert call.startswith("apptainer exec --cleanenv --no-home --bind ") and call.endswith("--pwd /app /shared/job.sif python -V")
    assert f"{scripts}:{scripts},/d:/data:ro" in call
    passed = {line.split("=", 1)[0] for line in result.calls.splitlines() if line.startswith("APPTAINERENV_")}
    assert {"APPTAINERENV_SLURM_NODEID", "APPTAINERENV_NCCL_SOCKET_IFNAME", "APPTAINERENV_HF_HOME",
            "APPTAINERENV_PROJECT_DATA_DIR", "APPTAINERENV_PYTHONNOUSERSITE"} <= passed
    assert "APPTAINERENV_SECRET_TOKEN" not in passed
