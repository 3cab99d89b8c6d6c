"""The example training of a generated project (src/PACKAGE/train.py) stops on SIGTERM or SIGINT
after the step or epoch under way, leaves a checkpoint in OUTPUT/checkpoint/, exits with 128 + the
signal's number, and the same command resumes it to the result an uninterrupted run reaches.

Real processes and real signals: the framework-less program with this Python; PyTorch (alone and
under torchrun with gloo) in a venv with the CPU wheel pip finds on this machine. TensorFlow and
JAX come from the package index, so their tests are integration tests."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.utils.project import REPO, render
from tests.utils.wheel_index import find_wheel

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
TORCH_WHEEL = f"torch-*+cpu-cp{PYTHON.replace('.', '')}-*.whl"


def package(root: Path) -> str:
    return next(p.name for p in (root / "src").iterdir() if (p / "train.py").exists())


def start(root: Path, output: Path, *options: str, launcher: tuple = (sys.executable, "-m")):
    """The training as a process of its own, reading no data set (it makes its data in memory)."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "PROJECT_DATA_DIR": str(root / "no-data")}
    command = [*map(str, launcher), f"{package(root)}.train", f"--output={output}", *options]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(root: Path, output: Path, *options: str, launcher: tuple = (sys.executable, "-m")) -> dict:
    """Train to the end; its result.json."""
    process = start(root, output, *options, launcher=launcher)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return json.loads((output / "result.json").read_text())


def interrupt(process: subprocess.Popen, checkpoint: Path, number: int = signal.SIGTERM) -> str:
    """Send the signal once the first checkpoint is written; the process's stderr."""
    deadline = time.monotonic() + 120
    while not checkpoint.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, f"no {checkpoint} after 120 s"
        time.sleep(0.05)
    process.send_signal(number)
    return process.communicate(timeout=120)[1]


def check_resume(root, tmp_path, options, checkpoint, unit, launcher=(sys.executable, "-m"), rel=0.0):
    """Interrupted by SIGTERM then resumed, the training ends where an uninterrupted one does."""
    whole = run(root, tmp_path / "whole", *options, launcher=launcher)
    assert (whole["resumed"], whole[f"start_{unit}"]) == (0, 0)  # a fresh run

    cut = tmp_path / "cut"
    process = start(root, cut, *options, "--pause=0.3", launcher=launcher)
    err = interrupt(process, cut / checkpoint)
    stopped = re.search(rf"train: stopped by SIGTERM after {unit} (\d+): checkpoint in ", err)
    assert stopped, err
    done = int(stopped[1])
    assert not (cut / "result.json").exists(), "interrupted after its last " + unit

    resumed = run(root, cut, *options, launcher=launcher)
    assert resumed["resumed"] == 1 and resumed[f"start_{unit}"] == done > 0
    assert resumed["metrics"] == pytest.approx(whole["metrics"], rel=rel, abs=0)
    return process.returncode, err, done


# The framework-less program: gradient descent on a two-variable function, in this Python.


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    return render(tmp_path_factory.mktemp("plain") / "p", framework="none")


def test_sigterm_leaves_a_checkpoint_and_the_same_command_resumes(plain, tmp_path):
    code, _, _ = check_resume(plain, tmp_path, ["--steps=20", "--momentum=0.9"],
                              "checkpoint/checkpoint.json", "step")
    assert code == 128 + signal.SIGTERM
    saved = json.loads((tmp_path / "cut/checkpoint/checkpoint.json").read_text())
    assert saved["step"] == 20 and saved["resumed"] == 1  # the resumed run's last checkpoint


def test_sigint_stops_it_too(plain, tmp_path):
    process = start(plain, tmp_path, "--steps=20", "--pause=0.3")
    err = interrupt(process, tmp_path / "checkpoint/checkpoint.json", signal.SIGINT)
    assert process.returncode == 128 + signal.SIGINT and "stopped by SIGINT after step" in err


def test_checkpoint_every_0_writes_one_only_when_stopped(plain, tmp_path):
    run(plain, tmp_path / "whole", "--steps=5", "--checkpoint-every=0")
    assert not (tmp_path / "whole/checkpoint").exists()

    process = start(plain, tmp_path / "cut", "--steps=50", "--pause=0.1", "--checkpoint-every=0")
    time.sleep(1.5)  # several steps, none of them checkpointed
    assert process.poll() is None and not (tmp_path / "cut/checkpoint").exists()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM
    assert 0 < json.loads((tmp_path / "cut/checkpoint/checkpoint.json").read_text())["step"] < 50


def test_checkpoint_every_n_and_no_checkpoint_without_output(plain, tmp_path):
    run(plain, tmp_path, "--steps=7", "--checkpoint-every=3")
    assert json.loads((tmp_path / "checkpoint/checkpoint.json").read_text())["step"] == 6
    assert not list((tmp_path / "checkpoint").glob("*.tmp*"))  # the temporary file was renamed

    here = tmp_path / "here"
    here.mkdir()
    env = {**os.environ, "PYTHONPATH": str(plain / "src")}
    done = subprocess.run([sys.executable, "-m", f"{package(plain)}.train", "--steps=3"], cwd=here,
                          env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["loss"] >= 0 and not list(here.iterdir())  # without --output, no files


def test_a_checkpoint_of_other_options_is_refused(plain, tmp_path):
    run(plain, tmp_path, "--steps=3", "--lr=0.1")
    process = start(plain, tmp_path, "--steps=3", "--lr=0.2")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "was made with --lr=0.1 (now 0.2): resume with the same options, or give another --output" in err
    assert run(plain, tmp_path, "--steps=6")["resumed"] == 1  # more steps: a resume may go on longer


# PyTorch, with the CPU wheel that pip finds on this machine.


@pytest.fixture(scope="session")
def torch_bin(tmp_path_factory) -> Path:
    """A venv's bin folder with PyTorch's CPU wheel, made once per session."""
    wheel = find_wheel(TORCH_WHEEL)
    if wheel is None:
        pytest.skip(f"no PyTorch CPU wheel {TORCH_WHEEL} in pip's find-links folders (pip config list)")
    return make_venv(tmp_path_factory.mktemp("torch-venv"), [str(wheel)])


def make_venv(folder: Path, requirements: list[str]) -> Path:
    subprocess.run([sys.executable, "-m", "venv", folder], check=True)
    install = subprocess.run([folder / "bin/python", "-m", "pip", "install", "-q", *requirements],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    return folder / "bin"


@pytest.fixture(scope="module")
def torch_project(tmp_path_factory) -> Path:
    return render(tmp_path_factory.mktemp("torch") / "p", framework="pytorch", accelerator="cpu")


TORCH_OPTIONS = ["--epochs=6", "--samples=512"]


def test_pytorch_resumes_after_sigterm(torch_bin, torch_project, tmp_path):
    code, _, _ = check_resume(torch_project, tmp_path, TORCH_OPTIONS, "checkpoint/checkpoint.pt", "epoch",
                              launcher=(torch_bin / "python", "-m"), rel=1e-6)
    assert code == 128 + signal.SIGTERM


def test_pytorch_ddp_ranks_stop_at_one_epoch_and_resume(torch_bin, torch_project, tmp_path):
    """SIGTERM to torchrun: it passes the signal to both ranks, which agree on the epoch to stop
    after; rank 0 writes the checkpoint, and both ranks resume from it."""
    torchrun = (torch_bin / "torchrun", "--standalone", "--nproc-per-node=2", "-m")
    code, err, done = check_resume(torch_project, tmp_path, TORCH_OPTIONS, "checkpoint/checkpoint.pt", "epoch",
                                   launcher=torchrun, rel=1e-6)
    assert code != 0  # torchrun reports its own signal as a failure
    assert f"train: rank 1 stopped after epoch {done} too" in err
    result = json.loads((tmp_path / "cut/result.json").read_text())
    assert result["world_size"] == 2 and result["ranks_agree"]


# TensorFlow and JAX: installed from the package index, at the newest release that data/versions.yml
# offers for this Python.


def newest_release(framework: str) -> str:
    releases = yaml.safe_load((REPO / "data/versions.yml").read_text())["frameworks"][framework]["releases"]
    offered = [version for version, facts in releases.items() if PYTHON in facts["python"]]
    if not offered:
        pytest.skip(f"data/versions.yml offers no {framework} release for Python {PYTHON}")
    return offered[0]


@pytest.mark.integration
@pytest.mark.parametrize("framework, requirement, checkpoint", [
    ("jax", "jax=={}", "checkpoint/checkpoint.npz"),
    ("tensorflow", "tensorflow-cpu=={}", "checkpoint/checkpoint"),  # the manager's pointer file
])
def test_other_frameworks_resume_after_sigterm(framework, requirement, checkpoint, tmp_path):
    bin_folder = make_venv(tmp_path / "venv", [requirement.format(newest_release(framework))])
    root = render(tmp_path / "p", framework=framework, accelerator="cpu")
    code, _, _ = check_resume(root, tmp_path, ["--epochs=6", "--samples=512"], checkpoint, "epoch",
                              launcher=(bin_folder / "python", "-m"), rel=1e-6)
    assert code == 128 + signal.SIGTERM
