"""The measurement groups that need no registry. Each takes the two projects and the number of
runs and returns {"figures": {name: [one value per run]}}, with "details" where a group has more
to show; bench/run.py summarises the runs (bench/stats.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.projects import BASE_IMAGE, Projects
from bench.shell import log, sh, timed


def measure_copy(projects: Projects, runs: int) -> dict:
    """`copier copy` of the default project with and without locking."""
    with_lock, without = [], []
    for run in range(runs):
        for lock, samples in ((True, with_lock), (False, without)):
            start = time.monotonic()
            projects.render(projects.workdir / f"copy-{lock}-{run}", lock=lock)
            samples.append(time.monotonic() - start)
    return {"figures": {"copy_with_lock_s": with_lock, "copy_without_lock_s": without}}


def measure_lock(projects: Projects, runs: int) -> dict:
    """uv lock (every platform at once) and uv pip compile (pip-compile's job) vs pip-compile, caches empty."""
    workdir = projects.workdir
    tools = workdir / "tools"
    sh(["uv", "venv", "--quiet", "--python", sys.executable, str(tools)])
    sh(["uv", "pip", "install", "--quiet", "--python", str(tools / "bin/python"), "pip-tools"])
    requirements = workdir / "requirements.in"
    requirements.write_text("torch==2.14.1\nnumpy\nipykernel\npytest\n")
    uv_lock, uv_compile, pip_compile = [], [], []
    for run in range(runs):
        project = workdir / f"lock-{run}"
        projects.render(project, lock=False)
        (project / "uv.lock").unlink(missing_ok=True)
        uv_lock.append(timed(["uv", "lock", "--no-cache"], cwd=project, env={"UV_PYTHON_DOWNLOADS": "never"}))
        uv_compile.append(timed(["uv", "pip", "compile", "--no-cache", "--quiet", "--output-file",
                                 str(workdir / "uv-req.txt"), str(requirements)]))
        cache = Path(tempfile.mkdtemp(dir=workdir))
        pip_compile.append(timed([str(tools / "bin/pip-compile"), "--quiet", "--cache-dir", str(cache),
                                  "--output-file", str(workdir / "req.txt"), str(requirements)]))
    return {"figures": {"lock_uv_s": uv_lock, "lock_uv_pip_compile_s": uv_compile, "lock_pip_compile_s": pip_compile}}


def measure_payload(projects: Projects, runs: int) -> dict:
    """The floor: download and unpack of the locked packages alone, on the host, and their size;
    then the same packages alone in a docker build (one step and its export, from an image that
    already has Python and uv), the least a Dockerfile does for them."""
    requirements = projects.workdir / "payload.txt"
    projects.export_requirements(requirements, hashes=True)
    seconds, sizes = [], []
    for run in range(runs):
        target = projects.workdir / f"payload-{run}"
        start = time.monotonic()
        sh(["uv", "venv", "--quiet", "--python", f"python{projects.python}", str(target)])
        sh(["uv", "pip", "install", "--quiet", "--no-cache", "--require-hashes", "--python",
            str(target / "bin/python"), "-r", str(requirements)])
        seconds.append(time.monotonic() - start)
        sizes.append(int(sh(["du", "-sb", str(target)]).split()[0]))
        shutil.rmtree(target)
    log("payload: the same packages alone in a docker build (its Python + uv image first, untimed)")
    context = projects.prepare_bare_payload()
    bare = [projects.build_bare_payload(context) for _ in range(runs)]
    return {"figures": {"payload_install_s": seconds, "payload_bytes": sizes, "bare_payload_build_s": bare}}


def measure_builds(projects: Projects, runs: int) -> dict:
    """Cold build to a running cell, rebuild after an edit, rebuild after adding a dependency."""
    names = ["cold_ours_s", "cold_naive_s", "warm_ours_s", "warm_naive_s", "add_dependency_ours_s", "add_dependency_naive_s"]
    figures: dict[str, list] = {name: [] for name in names}
    for run in range(1, runs + 1):
        log(f"builds run {run}/{runs}: cold builds (empty build cache), then a cell")
        projects.empty_cache()  # the two builds share no layer: one prune leaves both cold
        figures["cold_ours_s"].append(projects.build_ours() + projects.cell("bench-ours"))
        figures["cold_naive_s"].append(projects.build_naive() + projects.cell("bench-naive"))
        log(f"builds run {run}/{runs}: rebuild after editing a source file and a notebook")
        projects.edit_code()
        figures["warm_ours_s"].append(projects.build_ours())
        figures["warm_naive_s"].append(projects.build_naive())
        log(f"builds run {run}/{runs}: rebuild after adding one small dependency")
        projects.add_dependency(f"six=={['1.16.0', '1.17.0', '1.15.0'][run % 3]}")  # each run a different version
        figures["add_dependency_ours_s"].append(projects.build_ours())
        figures["add_dependency_naive_s"].append(projects.build_naive())
    return {"figures": figures}


def measure_image(projects: Projects, runs: int) -> dict:
    """Sizes and counts of the image the builds group left (built now if missing): measured once,
    since they do not vary between runs."""
    docker = projects.docker
    if subprocess.run([docker, "image", "inspect", "bench-ours"], capture_output=True).returncode != 0:
        log("image: no bench-ours image yet, building it (untimed)")
        projects.build_ours()
    inspect = json.loads(sh([docker, "image", "inspect", "bench-ours", BASE_IMAGE]))
    script = (
        "find / -xdev -type f -size +100k -print0 2>/dev/null | xargs -0 sha256sum 2>/dev/null "
        "| sort | awk '{if ($1==prev) {dup++} prev=$1} END {print dup+0}'; "
        "du -sb /root/.cache /home/dev/.cache /var/cache/apt/archives /var/lib/apt/lists 2>/dev/null "
        "| awk '{s+=$1} END {print s+0}'; "
        "find / -xdev -name 'libcudart.so*' -type f 2>/dev/null | wc -l"
    )
    out = sh([docker, "run", "--rm", "--user", "root", "--entrypoint", "sh", "bench-ours", "-c", script]).split()
    return {"figures": {"image_bytes": [inspect[0]["Size"]], "base_image_bytes": [inspect[1]["Size"]],
                        "duplicate_files": [int(out[0])], "package_cache_bytes": [int(out[1])],
                        "libcudart_copies": [int(out[2])]}}


def uv_seconds(pattern: str, log_text: str) -> float:
    """The sum of uv's own timings ("in 1.2s", "in 340ms") that pattern finds in a build log."""
    return sum(float(value) / (1 if unit == "s" else 1000) for value, unit in re.findall(pattern, log_text))


def measure_breakdown(projects: Projects, runs: int) -> dict:
    """Where a cold build's time goes: a cold `docker build` of the dev stage with plain progress,
    read step by step; then the devcontainer build on top (the Dockerfile part cached): the
    features' own build and export."""
    names = ["breakdown_dockerfile_s", "breakdown_download_unpack_s", "breakdown_copy_from_cache_s",
             "breakdown_bytecode_s", "breakdown_export_layers_s", "breakdown_features_s"]
    figures: dict[str, list] = {name: [] for name in names}
    slowest: list = []
    for run in range(1, runs + 1):
        log(f"breakdown run {run}/{runs}")
        projects.empty_cache()
        start = time.monotonic()
        result = subprocess.run([projects.docker, "build", "--progress=plain", "-f", ".devcontainer/Dockerfile",
                                 "--target", "dev", "-t", "bench-ours", "."], cwd=projects.ours, capture_output=True,
                                text=True, env={**os.environ, "DOCKER_BUILDKIT": "1"})
        figures["breakdown_dockerfile_s"].append(time.monotonic() - start)
        if result.returncode != 0:
            sys.exit(result.stderr[-4000:])
        out = result.stderr
        (projects.workdir / f"breakdown-{run}.log").write_text(out)
        figures["breakdown_download_unpack_s"].append(uv_seconds(r"Prepared \d+ packages? in (\d+(?:\.\d+)?)(m?s)", out))
        figures["breakdown_copy_from_cache_s"].append(uv_seconds(r"Installed \d+ packages? in (\d+(?:\.\d+)?)(m?s)", out))
        figures["breakdown_bytecode_s"].append(uv_seconds(r"Bytecode compiled \d+ files in (\d+(?:\.\d+)?)(m?s)", out))
        figures["breakdown_export_layers_s"].append(sum(map(float, re.findall(r"exporting layers (\d+\.\d+)s done", out))))
        steps = {step: float(seconds) for step, seconds in re.findall(r"^(#\d+) DONE (\d+\.\d+)s", out, re.M)}
        # "#12 [stage 2/3] RUN ...", and steps without a stage such as "#26 exporting to image"
        titles = dict(re.findall(r"^(#\d+) \[([^\]]+)\]", out, re.M))
        titles.update({step: title for step, title in re.findall(r"^(#\d+) (exporting to image)$", out, re.M)
                       if step not in titles})
        slowest = sorted(([round(seconds, 1), titles.get(step, step)] for step, seconds in steps.items()), reverse=True)[:8]
        figures["breakdown_features_s"].append(projects.devcontainer_build(projects.ours, "bench-ours"))
        projects.drop_replaced_images()
    return {"figures": figures, "details": {"slowest_steps_last_run": slowest}}
