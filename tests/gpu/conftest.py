"""The GPU checks (docs/gpu-check.md): env-doctor, the CUDA libraries torch loads, generated
projects and a DDP step, against the real NVIDIA driver. Every test here is marked `gpu`; without
an NVIDIA GPU and driver they are all skipped, saying so.

    python -m pytest tests/gpu -m gpu -rA

Environment variables:
  GPU_CHECK_OUT                where the record goes (default ./gpu-check-out): gpu-check.log (every
                               command and its output), the JSON env-doctor wrote, diff.txt, summary.json
  GPU_CHECK_PROJECTS           generated projects to run, separated by ':' (default: the folders in
                               ./gpu-check-projects, else the two projects rendered here when copier is importable)
  GPU_CHECK_PYTHON             the projects' interpreter, with the frameworks (default: this one)
  GPU_CHECK_ENV_DOCTOR_PYTHON  env-doctor's, with pyyaml and nvidia-ml-py (default: this one when it
                               has them, else the env-doctor feature's /opt/env-doctor/bin/python)
  GPU_CHECK_ON_CPU=1           without a GPU, run the checks that also run on the CPU and skip only
                               the GPU-only ones (CI does, in the default project's devcontainer)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.utils import gpu_check
from tests.utils.gpu_check import FAIL, PASS, PROBES, REPO, SKIP, EnvDoctor, Log

# The projects rendered when none is given: the template's defaults, and JAX.
PROJECTS = {"pytorch-cuda": {"project_name": "Vision Lab"}, "jax-cuda": {"project_name": "Jax Lab", "framework": "jax"}}
RESULTS: list[dict] = []  # every check's result, in order: OUT/summary.json
STARTED = time.monotonic()
SEEN: dict = {}  # what NVML saw, once a check asked


@pytest.fixture(scope="session")
def python() -> str:
    return os.environ.get("GPU_CHECK_PYTHON") or sys.executable


@pytest.fixture(scope="session")
def ed_python() -> str:
    return gpu_check.env_doctor_python(os.environ.get("GPU_CHECK_ENV_DOCTOR_PYTHON"))


@pytest.fixture(scope="session")
def nvml(ed_python) -> dict:
    """What NVML sees. Without a GPU the whole suite is skipped here, unless GPU_CHECK_ON_CPU=1."""
    done = subprocess.run([ed_python, "-I", str(PROBES / "nvml_count.py")], capture_output=True, text=True, timeout=60)
    seen = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {"count": 0, "error": done.stderr.strip()}
    kernel = sorted(p.name for p in Path("/proc/driver/nvidia/gpus").glob("*"))
    if not seen["count"] and not kernel and os.environ.get("GPU_CHECK_ON_CPU") != "1":
        pytest.skip(f"no NVIDIA GPU/driver on this machine (NVML: {seen.get('error') or '0 devices'}): the GPU checks "
                    "need one (GPU_CHECK_ON_CPU=1 runs the parts that also run on a CPU)")
    SEEN.update(seen)
    return {**seen, "kernel_gpus": kernel}


@pytest.fixture(scope="session")
def gpu(nvml) -> bool:
    return bool(nvml["count"])


@pytest.fixture(scope="session")
def out(nvml) -> Path:
    folder = Path(os.environ.get("GPU_CHECK_OUT") or "gpu-check-out").resolve()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="session")
def log(out, nvml, python, ed_python) -> Log:
    log = Log(out / "gpu-check.log")
    log.say(f"gpu checks on {os.uname().nodename} ({os.uname().machine}), {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    log.say(f"project Python {python}, env-doctor Python {ed_python}, output {out}")
    log.say(f"NVML: {json.dumps({k: v for k, v in nvml.items() if k != 'kernel_gpus'})}")
    if not nvml["count"]:
        log.say("no GPU: this machine has no NVIDIA driver/GPU; GPU-only checks are skipped, the rest runs on the CPU")
    elif shutil.which("nvidia-smi"):
        log.run(["nvidia-smi"], timeout=60)
    return log


@pytest.fixture(scope="session")
def env_doctor(ed_python, log) -> EnvDoctor:
    return EnvDoctor(ed_python, log)


@pytest.fixture(scope="session")
def projects(log) -> list[Path]:
    """The generated projects to run (GPU_CHECK_PROJECTS, ./gpu-check-projects, or rendered here)."""
    if os.environ.get("GPU_CHECK_PROJECTS"):
        return [Path(p).resolve() for p in os.environ["GPU_CHECK_PROJECTS"].split(os.pathsep) if p]
    rendered = REPO / "gpu-check-projects"
    if rendered.is_dir():
        return sorted(p for p in rendered.iterdir() if (p / ".copier-answers.yml").is_file())
    if not gpu_check.can_import(sys.executable, "copier"):
        log.say("no project given and copier is not importable: the project checks are skipped")
        return []
    from tests.utils.project import render

    folder = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    log.say(f"rendering {', '.join(PROJECTS)} with copier into {folder}")
    return [render(folder / name, **answers) for name, answers in PROJECTS.items()]


@pytest.fixture(scope="session")
def lock_project(projects) -> Path | None:
    """The project whose environment env-doctor reports on (the first with a uv.lock)."""
    return next((p for p in projects if (p / "uv.lock").is_file()), projects[0] if projects else None)


@pytest.fixture
def verdict(log):
    """Turns results into the test's outcome: any FAIL fails it, all SKIP skips it; each is kept
    for OUT/summary.json and written to the log."""

    def judge(results: list[dict]) -> None:
        for r in results:
            RESULTS.append(r)
            log.say(f"    {r['status']}: {r['check']}: {r['detail']}")
        failed = [r for r in results if r["status"] == FAIL]
        if failed:
            pytest.fail("; ".join(f"{r['check']}: {r['detail']}" for r in failed), pytrace=False)
        if results and all(r["status"] == SKIP for r in results):
            pytest.skip("; ".join(f"{r['check']}: {r['detail']}" for r in results))

    return judge


def pytest_sessionfinish(session):
    if not RESULTS:
        return
    counts = {status: sum(r["status"] == status for r in RESULTS) for status in (PASS, FAIL, SKIP)}
    summary = {"gpu": SEEN, "host": os.uname().nodename, "python": sys.version.split()[0],
               "duration_s": round(time.monotonic() - STARTED, 1), "checks": RESULTS,
               "passed": counts[PASS], "failed": counts[FAIL], "skipped": counts[SKIP], "exit_code": int(bool(counts[FAIL]))}
    folder = Path(os.environ.get("GPU_CHECK_OUT") or "gpu-check-out").resolve()
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    terminalreporter.section("GPU checks")
    width = max(len(r["check"]) for r in RESULTS)
    for r in RESULTS:
        terminalreporter.write_line(f"  {r['status']}  {r['check'].ljust(width)}  {r['detail']}")
    counts = {status: sum(r["status"] == status for r in RESULTS) for status in (PASS, FAIL, SKIP)}
    nvml = SEEN
    if not nvml.get("count"):
        terminalreporter.write_line("no GPU: this machine has no NVIDIA driver/GPU; GPU-only checks are skipped, the rest runs on the CPU")
    verdict = f"{nvml['count']} GPU(s); " if nvml.get("count") else "no GPU on this machine; "
    terminalreporter.write_line(f"{verdict}{counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped "
                                f"in {time.monotonic() - STARTED:.0f} s; record in {os.environ.get('GPU_CHECK_OUT') or 'gpu-check-out'}")
