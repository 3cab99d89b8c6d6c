"""The runtime without a cluster: sweep expansion, index -> parameters, trials run for real (the
framework-less project's training is plain Python), the summary, the command a login node runs, and
the copy each project carries."""

from __future__ import annotations

import filecmp
import itertools
import json
import os
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from mlcluster import __version__
from mlcluster.settings import ClusterError, load_toml
from mlcluster.sweep import engine_index, expand_sweep, trials_json

from tests.cluster.conftest import DIGEST_IMAGE, run_cluster

RUNTIME = Path(__file__).resolve().parents[2] / "runtime/mlcluster"


def keep(output: Path, trials: list[dict]) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / "trials.json").write_text(trials_json(trials))


# --- The sweep file ------------------------------------------------------------------------------

def test_shipped_sweep_expands_to_its_grid_in_file_order(project):
    root, _, _ = project
    sweep = tomllib.loads((root / "cluster/sweep.toml").read_text())
    trials = expand_sweep(sweep)
    grid = sweep["grid"]
    assert trials == [{**sweep["fixed"], **dict(zip(grid, values, strict=True))}
                      for values in itertools.product(*grid.values())]
    assert len(trials) == 6


def test_grid_and_listed_trials_with_fixed_parameters():
    sweep = {"fixed": {"steps": 10, "lr": 1.0}, "grid": {"lr": [0.1, 0.2], "momentum": [0.0, 0.5]},
             "trials": [{"lr": 0.7}, {"momentum": 0.9, "tag": "x"}]}
    assert expand_sweep(sweep) == [
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
def test_bad_sweeps_are_refused_with_the_reason(sweep, message):
    with pytest.raises(ClusterError, match=message):
        expand_sweep(sweep)


def test_index_comes_from_the_engine(monkeypatch):
    for variable in ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ClusterError, match="no trial index"):
        engine_index()
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "4")
    assert engine_index() == 4
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "2")
    assert engine_index() == 2
    assert engine_index(7) == 7


def test_parameters_become_options_through_the_projects_hook(none_project):
    _, project = none_project
    assert project.trial_arguments({"lr": 0.1, "batch_size": 32, "amp": True, "name": "a b"}) == [
        "--lr=0.1", "--batch-size=32", "--amp=true", "--name=a b"]
    assert project.training_command("python", "/out", ["--lr=1"]) == [
        "python", "-m", "cluster_lab.train", "--output=/out", "--lr=1"]


# --- The runtime each project carries -------------------------------------------------------------

def test_every_project_carries_this_runtime_unchanged(project):
    """cluster/mlcluster is this repository's runtime/mlcluster, file for file: `copier update`
    replaces it whole, and the project's own code holds none of the launcher."""
    root, _, _ = project
    comparison = filecmp.dircmp(RUNTIME, root / "cluster/mlcluster", ignore=["__pycache__", ".ruff_cache"])
    assert not (comparison.left_only or comparison.right_only or comparison.diff_files), comparison.report()
    assert not (root / "src/cluster_lab/cluster.py").exists()
    own = sum(len(p.read_text().splitlines()) for p in (root / "src/cluster_lab").glob("*.py"))
    hooks = len((root / "cluster/hooks.py").read_text().splitlines())
    assert hooks <= 60, "the project's cluster hooks stay a short file"
    print(f"project package: {own} lines; cluster/hooks.py: {hooks} lines")


def test_version_and_changelog_agree():
    changelog = (RUNTIME / "CHANGELOG.md").read_text()
    assert f"## {__version__}" in changelog, "the runtime's version has no CHANGELOG entry"


def test_the_runtime_is_written_for_python_3_9():
    """A login node's system python3 may be 3.9: ruff's py39 target refuses newer syntax."""
    from tests.utils.tools import tool

    result = subprocess.run([tool("ruff"), "check", "--no-cache", "--target-version", "py39", "--select",
                             "UP,F,E9,FA", "--exclude", "_vendor", str(RUNTIME)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def login_node_python() -> str | None:
    """A Python older than 3.11 (no tomllib), as a login node's system python3 may be."""
    for name in ("python3.9", "python3.10"):
        found = shutil.which(name)
        if found and subprocess.run([found, "-V"], capture_output=True).returncode == 0:
            return found
    pyenv = sorted(Path.home().glob(".pyenv/versions/3.9.*/bin/python3")) + sorted(
        Path.home().glob(".pyenv/versions/3.10.*/bin/python3"))
    return str(pyenv[0]) if pyenv else None


def test_the_commands_run_on_a_login_nodes_python_3_9(none_project, tmp_path):
    """With a Python 3.9 or 3.10 (where this machine has one): submitting (dry runs of both
    engines) and the summary work with nothing installed, the settings read by the vendored tomli."""
    python = login_node_python()
    if python is None:
        pytest.skip("no Python 3.9 or 3.10 here (the py39 lint above still checks the syntax)")
    root, _ = none_project
    env = {"JOB_IMAGE": DIGEST_IMAGE, "PYTHONPATH": ""}
    version = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2] < (3, 11))"],
                             capture_output=True, text=True).stdout.strip()
    assert version == "True", python
    for engine in ("slurm", "kubernetes"):
        result = run_cluster(root, "sweep", engine, "--output", str(tmp_path / engine), "--dry-run",
                             env=env, python=python)
        assert result.returncode == 0, result.stderr
    assert "--array=0-5" in run_cluster(root, "sweep", "slurm", "--output", "x", "--dry-run", env=env,
                                        python=python).stdout
    keep(tmp_path / "sweep", [{"lr": 0.1}, {"lr": 0.2}])
    summary = run_cluster(root, "summary", str(tmp_path / "sweep"), env=env, python=python)
    assert summary.returncode == 1 and "0/2 trials done" in summary.stdout, summary.stderr
    print(f"the cluster commands ran on {python}")


def test_settings_read_with_the_vendored_tomli_as_on_python_3_10(none_project):
    """Pythons before 3.11 have no tomllib: the runtime's copy of tomli reads the same settings."""
    from mlcluster._vendor import tomli

    root, _ = none_project
    text = (root / "cluster/settings.toml").read_text()
    assert tomli.loads(text) == tomllib.loads(text) == load_toml(root / "cluster/settings.toml")


# --- Trials and the summary, for real --------------------------------------------------------------

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


def test_readmes_submit_with_the_command_a_login_node_runs(project):
    """One form of the cluster command in every instruction: `python3 cluster ...`."""
    root, _, _ = project
    for readme in ("README.md", "cluster/README.md"):
        commands = [line.strip() for line in (root / readme).read_text().splitlines()
                    if line.strip().startswith("python") and " cluster " in line]
        assert commands, readme
        assert all(line.startswith("python3 cluster ") for line in commands), (readme, commands)


def test_cluster_command_runs_on_a_login_node_without_the_project(none_project, tmp_path):
    """`python3 cluster sweep slurm` from the project's folder, with a Python that has not the
    project installed (a login node's): it needs only the standard library."""
    root, _ = none_project
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([sys.executable, "cluster", "sweep", "slurm", "--output", str(tmp_path / "sweep"),
                             "--dry-run"], cwd=root, capture_output=True, text=True,
                            env={**env, "JOB_IMAGE": DIGEST_IMAGE})
    assert result.returncode == 0, result.stderr
    assert "sbatch" in result.stdout and "--array=0-5" in result.stdout
    assert subprocess.run([sys.executable, "-c", "import cluster_lab"], capture_output=True, env=env).returncode != 0
    assert run_cluster(root, "--version").stdout.strip() == f"mlcluster {__version__}"


def test_trials_and_summary(none_project, tmp_path, fake_env_doctor):
    root, _ = none_project
    output = tmp_path / "sweep"
    trials = expand_sweep(load_toml(root / "cluster/sweep.toml"))
    keep(output, trials)
    for index in range(len(trials)):
        result = run_cluster(root, "trial", "--output", str(output), env={"SLURM_ARRAY_TASK_ID": str(index)})
        assert result.returncode == 0, result.stderr
    for index, params in enumerate(trials):
        folder = output / "trials" / f"{index:04d}"
        recorded = json.loads((folder / "params.json").read_text())
        assert recorded["params"] == params and recorded["attempt"] == 1
        assert json.loads((folder / "env-doctor.json").read_text())["kind"] == "snapshot"
        outcome = json.loads((folder / "result.json").read_text())
        assert {k: outcome["params"][k] for k in params} == params

    result = run_cluster(root, "summary", str(output))
    assert result.returncode == 0 and "6/6 trials done" in result.stdout and "all done" in result.stdout
    summary = json.loads((output / "summary.json").read_text())
    losses = [row["metrics"]["loss"] for row in summary["rows"]]
    assert losses == sorted(losses) and summary["metric"] == "loss" and summary["best"] == summary["rows"][0]
    csv_lines = (output / "summary.csv").read_text().splitlines()
    assert csv_lines[0].startswith("index,lr,momentum,seed,steps,") and len(csv_lines) == 7


def test_a_finished_trial_is_never_run_again(none_project, tmp_path, fake_env_doctor):
    """A requeued or resubmitted task whose trial has its result leaves it as it is."""
    root, _ = none_project
    output = tmp_path / "sweep"
    keep(output, [{"lr": 0.1}])
    assert run_cluster(root, "trial", "--output", str(output), "--index", "0").returncode == 0
    result_file = output / "trials/0000/result.json"
    before = result_file.stat().st_mtime_ns
    again = run_cluster(root, "trial", "--output", str(output), "--index", "0")
    assert again.returncode == 0 and "finished already" in again.stdout
    assert result_file.stat().st_mtime_ns == before


def test_summary_knows_every_trial_and_names_the_unfinished(none_project, tmp_path, fake_env_doctor):
    """The trial list decides what 'done' means: the last trials missing still count."""
    root, _ = none_project
    output = tmp_path / "sweep"
    keep(output, [{"lr": 0.1}, {"lr": 0.1, "no_such_option": 1}, {"lr": 0.2}, {"lr": 0.3}])
    assert run_cluster(root, "trial", "--output", str(output), "--index", "0").returncode == 0
    failed = run_cluster(root, "trial", "--output", str(output), "--index", "1")
    assert failed.returncode == 2 and "unrecognized arguments: --no-such-option=1" in failed.stderr
    assert json.loads((output / "trials/0001/error.json").read_text())["returncode"] == 2
    result = run_cluster(root, "summary", str(output))
    assert result.returncode == 1
    assert "1/4 trials done" in result.stdout and "NOT FINISHED" in result.stdout
    assert "failed (see trials/NNNN/error.json and the logs): [1]" in result.stdout
    assert "missing (not run yet, or lost): [2, 3]" in result.stdout
    outside = run_cluster(root, "trial", "--output", str(output), "--index", "4")
    assert outside.returncode == 2 and "outside the sweep's 4 trials" in outside.stderr
    nothing = run_cluster(root, "summary", str(tmp_path / "elsewhere"))
    assert nothing.returncode == 2 and "no trial has started yet" in nothing.stderr


def test_a_trial_copies_its_list_from_the_engine_into_the_output(none_project, tmp_path, fake_env_doctor):
    """Kubernetes gives the list in a ConfigMap: the first trial keeps it with the results, so that
    `summary` knows how many trials there are."""
    root, _ = none_project
    listed = tmp_path / "configmap/trials.json"
    keep(listed.parent, [{"lr": 0.1}, {"lr": 0.2}, {"lr": 0.3}])
    output = tmp_path / "claim/sweep"
    result = run_cluster(root, "trial", "--output", str(output), "--trials", str(listed),
                         env={"JOB_COMPLETION_INDEX": "1"})
    assert result.returncode == 0, result.stderr
    summary = run_cluster(root, "summary", str(output))
    assert summary.returncode == 1 and "1/3 trials done" in summary.stdout
    assert "missing (not run yet, or lost): [0, 2]" in summary.stdout


@pytest.fixture
def checkout_env_doctor(tmp_path, monkeypatch):
    """This checkout's env-doctor (installed editable) on PATH, run as the feature's command runs it:
    it leaves the environment of what it runs alone (no PYTHONPATH)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "env-doctor"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -I -m env_doctor \"$@\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_trial_leaves_its_watch_summary_beside_its_result(none_project, tmp_path, checkout_env_doctor):
    """With env-doctor 1.4+, the training runs under `env-doctor watch`: watch.json beside
    result.json, and the training's exit code still decides the trial's."""
    root, _ = none_project
    output = tmp_path / "sweep"
    keep(output, [{"lr": 0.1}, {"lr": 0.1, "no_such_option": 1}])
    assert run_cluster(root, "trial", "--output", str(output), "--index", "0").returncode == 0
    watch = json.loads((output / "trials/0000/watch.json").read_text())
    assert watch["kind"] == "watch" and watch["exit_code"] == 0 and "-m" in watch["command"]
    assert (output / "trials/0000/result.json").is_file()
    failed = run_cluster(root, "trial", "--output", str(output), "--index", "1")
    assert failed.returncode == 2 and json.loads((output / "trials/0001/watch.json").read_text())["exit_code"] == 2
    assert json.loads((output / "trials/0001/error.json").read_text())["returncode"] == 2


def test_trial_without_env_doctor_still_runs_and_says_so(none_project, tmp_path, monkeypatch):
    root, _ = none_project
    output = tmp_path / "sweep"
    keep(output, [{"lr": 0.1}])
    # A PATH with this interpreter only: its own bin folder has the editable env-doctor's command.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "python3"):
        (bin_dir / name).write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    result = run_cluster(root, "trial", "--output", str(output), "--index", "0")
    assert result.returncode == 0 and "env-doctor not found" in result.stderr
    assert "error" in json.loads((output / "trials/0000/env-doctor.json").read_text())
