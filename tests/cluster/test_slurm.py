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
    config["slurm"].update(partition="gpu", account="ml", max_parallel=3, gpus_per_node=1,
                           mounts=["/data:/data"], extra_args=["--qos=high"])
    output = tmp_path / "s"
    command = dry_run(root, "sweep", "slurm", "--output", str(output), "--wait", settings=config, tmp_path=tmp_path)
    assert command[:2] == ["sbatch", "--parsable"]
    assert "--array=0-5%3" in command and "--wait" in command and "--gpus-per-node=1" in command
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
    assert command[-4:] == [str(output / "submissions/NNN/train.sbatch"), "1", "--epochs=3", "--lr=0.1"]


def test_batch_scripts_are_shellcheck_clean(project):
    root, _, _ = project
    scripts = [str(p) for p in (root / "cluster").rglob("*") if p.suffix in (".sh", ".sbatch")]
    result = subprocess.run([tool("shellcheck"), "-x", "-S", "warning", *scripts], cwd=root / "cluster/slurm",
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
