"""Benchmark: our generated devcontainer against the Dockerfile most people write.

    python bench/run.py [--runs 3] [--python 3.11] [--mode devcontainer|dockerfile] [--out bench/results]

--mode devcontainer (default) builds our project as VS Code does (`devcontainer build`: the
Dockerfile plus the JupyterLab and env-doctor features); --mode dockerfile builds only our
Dockerfile's dev stage, like for like with the naive Dockerfile. (Without buildx the
devcontainer CLI shares one temporary image between builds: run nothing else on the engine.)

Both images are built on the same Docker Engine in the same run, from the same base image and the
same pinned packages (exported from the project's uv.lock), and every figure is the median of
--runs runs. Comparisons are ratios of figures measured side by side. Writes results.md and
results.json to --out. Needs what the test suite needs (testbed/prepare-test-machine.sh).

--only picks measurement groups (default: all), so that a long run can be split into shorter
ones; each run merges its figures into --out/results.json:
    copy, lock, payload, builds, image   the figures above
    breakdown   where a cold build's time goes (BuildKit steps, uv's download/copy/compile, layer
                export, the features' build)
    ship        the image from the local registry (localhost:5000): a colleague's first start with
                the image-based configuration vs a cold build and vs a bare `docker pull`; pull time
                of the layered image vs the same bytes in one layer
    upgrade     bytes a pull fetches after a framework upgrade that keeps the CUDA libraries
                (jax[cuda12] 0.6.2 -> 0.8.1), vs one layer for the environment as before
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run by its path: the repository root goes on sys.path for testbed/testbed.py, the test
# machine as the tests use it too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from testbed.testbed import HOST_CA_BUNDLE, REGISTRY, docker_cli, layers, render, require_registry, trust_host_ca

GROUPS = ["copy", "lock", "payload", "builds", "image", "breakdown", "ship", "upgrade"]
BENCH_IMAGE = f"{REGISTRY}/mltemplate-bench/ours"
CELL = "import torch; x = torch.randn(256, 256); print('cell ran:', float((x @ x.T).trace()))"
NAIVE_DOCKERFILE = """\
FROM {base}
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates
COPY .devcontainer/certs/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt
WORKDIR /app
COPY . .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
"""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def sh(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> str:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "DOCKER_BUILDKIT": "1", **(env or {})})
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{(result.stdout + result.stderr)[-4000:]}")
    return result.stdout


def timed(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> float:
    start = time.monotonic()
    sh(cmd, cwd=cwd, env=env)
    return time.monotonic() - start


class Bench:
    def __init__(self, workdir: Path, python: str, runs: int, mode: str):
        self.docker, self.runs, self.workdir, self.mode = docker_cli(), runs, workdir, mode
        self.project = workdir / "ours"
        self.naive = workdir / "naive"
        self.python = python
        self.base = "debian:bookworm"

    # ---- set-up -----------------------------------------------------------------------------
    def render_project(self, dst: Path, lock: bool, image: str = "none") -> None:
        """image "none": no build.cacheFrom, so that a cold build stays cold whatever the registry holds."""
        render(dst, lock=lock, project_name="Bench", python_version=self.python, image=image)

    def prepare(self) -> None:
        log("rendering our default project (pytorch + cuda) and the naive one")
        self.render_project(self.project, lock=True)
        trust_host_ca(self.project)
        shutil.copytree(self.project, self.naive, ignore=shutil.ignore_patterns(".devcontainer"))
        (self.naive / ".devcontainer/certs").mkdir(parents=True)
        shutil.copy(HOST_CA_BUNDLE, self.naive / ".devcontainer/certs/host-ca.crt")
        self.export_requirements(self.naive / "requirements.txt")
        (self.naive / "Dockerfile").write_text(NAIVE_DOCKERFILE.format(base=self.base))

    def export_requirements(self, out: Path) -> None:
        """The same pinned packages as the lock (without hashes: pip's usual workflow)."""
        text = sh(["uv", "export", "--frozen", "--no-hashes", "--no-emit-project", "--format",
                   "requirements-txt"], cwd=self.project)
        out.write_text(text)

    # ---- builds -----------------------------------------------------------------------------
    def empty_cache(self) -> None:
        subprocess.run([self.docker, "builder", "prune", "-af"], capture_output=True)
        for image in ("bench-ours", "bench-naive"):
            subprocess.run([self.docker, "rmi", "-f", image], capture_output=True)

    def build_ours(self) -> float:
        if self.mode == "dockerfile":
            seconds = timed([self.docker, "build", "-f", ".devcontainer/Dockerfile", "--target", "dev",
                             "-t", "bench-ours", "."], cwd=self.project)
        else:
            seconds = timed(["devcontainer", "build", "--workspace-folder", str(self.project),
                             "--docker-path", self.docker, "--image-name", "bench-ours"])
        self.drop_replaced_images()
        return seconds

    def build_naive(self) -> float:
        seconds = timed([self.docker, "build", "-t", "bench-naive", str(self.naive)])
        self.drop_replaced_images()
        return seconds

    def drop_replaced_images(self) -> None:
        """A rebuilt tag leaves the old image dangling: gigabytes per naive rebuild (untimed)."""
        subprocess.run([self.docker, "image", "prune", "-f"], capture_output=True)

    def cell(self, image: str) -> float:
        python = "/opt/venv/bin/python"
        return timed([self.docker, "run", "--rm", "--entrypoint", python, image, "-c", CELL])

    def edit_code(self) -> None:
        for root in (self.project, self.naive):
            source = next((root / "src").glob("*/device.py"))
            source.write_text(source.read_text() + f"\n# edit {time.monotonic()}\n")
            notebook = root / "notebooks/example.ipynb"
            notebook.write_text(notebook.read_text().replace('"# Bench', '"# Bench (edited)', 1))

    def add_dependency(self, package: str) -> None:
        sh(["uv", "add", "--no-sync", package], cwd=self.project)
        self.export_requirements(self.naive / "requirements.txt")

    # ---- measurements -----------------------------------------------------------------------
    def median(self, samples: list[float]) -> float:
        return round(statistics.median(samples), 1)

    def measure_builds(self) -> dict:
        cold_ours, cold_naive, warm_ours, warm_naive, dep_ours, dep_naive = ([] for _ in range(6))
        for run in range(1, self.runs + 1):
            log(f"run {run}/{self.runs}: cold builds (empty build cache), then a cell")
            self.empty_cache()  # the two builds share no layer: one prune leaves both cold
            cold_ours.append(self.build_ours() + self.cell("bench-ours"))
            cold_naive.append(self.build_naive() + self.cell("bench-naive"))
            log(f"run {run}/{self.runs}: rebuild after editing a source file and a notebook")
            self.edit_code()
            warm_ours.append(self.build_ours())
            warm_naive.append(self.build_naive())
            log(f"run {run}/{self.runs}: rebuild after adding one small dependency")
            self.add_dependency(f"six=={['1.16.0', '1.17.0', '1.15.0'][run % 3]}")
            dep_ours.append(self.build_ours())
            dep_naive.append(self.build_naive())
        return {key: self.median(values) for key, values in {
            "cold_ours_s": cold_ours, "cold_naive_s": cold_naive, "warm_ours_s": warm_ours,
            "warm_naive_s": warm_naive, "add_dependency_ours_s": dep_ours, "add_dependency_naive_s": dep_naive,
        }.items()}

    def measure_payload(self) -> dict:
        """Time to download and unpack the locked payload alone, and its size."""
        samples = []
        for run in range(self.runs):
            target = self.workdir / f"payload-{run}"
            requirements = self.workdir / "payload.txt"
            requirements.write_text(sh(["uv", "export", "--frozen", "--no-emit-project", "--format",
                                        "requirements-txt"], cwd=self.project))
            start = time.monotonic()
            sh(["uv", "venv", "--quiet", "--python", f"python{self.python}", str(target)])
            sh(["uv", "pip", "install", "--quiet", "--no-cache", "--require-hashes", "--python",
                str(target / "bin/python"), "-r", str(requirements)])
            samples.append(time.monotonic() - start)
            size = int(sh(["du", "-sb", str(target)]).split()[0])
            shutil.rmtree(target)
        return {"payload_install_s": self.median(samples), "payload_bytes": size}

    def measure_image(self) -> dict:
        inspect = json.loads(sh([self.docker, "image", "inspect", "bench-ours", self.base]))
        image_bytes, base_bytes = inspect[0]["Size"], inspect[1]["Size"]
        script = (
            "find / -xdev -type f -size +100k -print0 2>/dev/null | xargs -0 sha256sum 2>/dev/null "
            "| sort | awk '{if ($1==prev) {dup++} prev=$1} END {print dup+0}'; "
            "du -sb /root/.cache /home/dev/.cache /var/cache/apt/archives /var/lib/apt/lists 2>/dev/null "
            "| awk '{s+=$1} END {print s+0}'; "
            "find / -xdev -name 'libcudart.so*' -type f 2>/dev/null | wc -l"
        )
        out = sh([self.docker, "run", "--rm", "--user", "root", "--entrypoint", "sh", "bench-ours", "-c", script]).split()
        return {"image_bytes": image_bytes, "base_image_bytes": base_bytes, "duplicate_files": int(out[0]),
                "package_cache_bytes": int(out[1]), "libcudart_copies": int(out[2])}

    def measure_lock(self) -> dict:
        tools = self.workdir / "tools"
        sh(["uv", "venv", "--quiet", "--python", sys.executable, str(tools)])
        sh(["uv", "pip", "install", "--quiet", "--python", str(tools / "bin/python"), "pip-tools"])
        requirements = self.workdir / "requirements.in"
        requirements.write_text("torch==2.14.1\nnumpy\nipykernel\npytest\n")
        uv_samples, uv_compile_samples, pip_samples = [], [], []
        for run in range(self.runs):
            project = self.workdir / f"lock-{run}"
            self.render_project(project, lock=False)
            (project / "uv.lock").unlink(missing_ok=True)
            # uv lock resolves for every platform at once; uv pip compile does pip-compile's job
            uv_samples.append(timed(["uv", "lock", "--no-cache"], cwd=project, env={"UV_PYTHON_DOWNLOADS": "never"}))
            uv_compile_samples.append(timed(["uv", "pip", "compile", "--no-cache", "--quiet", "--output-file",
                                             str(self.workdir / "uv-req.txt"), str(requirements)]))
            cache = Path(tempfile.mkdtemp(dir=self.workdir))
            pip_samples.append(timed([str(tools / "bin/pip-compile"), "--quiet", "--cache-dir", str(cache),
                                      "--output-file", str(self.workdir / "req.txt"), str(requirements)]))
        return {"lock_uv_s": self.median(uv_samples), "lock_uv_pip_compile_s": self.median(uv_compile_samples),
                "lock_pip_compile_s": self.median(pip_samples)}

    def measure_copy(self) -> dict:
        with_lock, without = [], []
        for run in range(self.runs):
            for lock, samples in ((True, with_lock), (False, without)):
                start = time.monotonic()
                self.render_project(self.workdir / f"copy-{lock}-{run}", lock=lock)
                samples.append(time.monotonic() - start)
        return {"copy_with_lock_s": self.median(with_lock), "copy_without_lock_s": self.median(without)}


    # ---- where a cold build's time goes ----------------------------------------------------------
    def measure_breakdown(self) -> dict:
        """A cold `docker build` of the dev stage with plain progress, read step by step; then the
        devcontainer build on top (the Dockerfile part cached): the features' own build and export."""
        self.empty_cache()
        start = time.monotonic()
        result = subprocess.run([self.docker, "build", "--progress=plain", "-f", ".devcontainer/Dockerfile",
                                 "--target", "dev", "-t", "bench-ours", "."], cwd=self.project, capture_output=True,
                                text=True, env={**os.environ, "DOCKER_BUILDKIT": "1"})
        dockerfile_s = time.monotonic() - start
        if result.returncode != 0:
            sys.exit(result.stderr[-4000:])
        out = result.stderr
        (self.workdir / "breakdown.log").write_text(out)
        steps = {}
        for step, seconds in re.findall(r"^(#\d+) DONE (\d+\.\d+)s", out, re.M):
            steps[step] = float(seconds)
        titles = dict(re.findall(r"^(#\d+) \[([^\]]+)\]", out, re.M))
        uv = lambda pattern: round(sum(float(x) * (1000 if unit == "s" else 1) / 1000 for x, unit in  # noqa: E731
                                       re.findall(pattern, out)), 1)
        export = re.findall(r"exporting layers (\d+\.\d+)s done", out)
        slowest = sorted(((seconds, titles.get(step, step)) for step, seconds in steps.items()), reverse=True)[:8]
        start = time.monotonic()
        sh(["devcontainer", "build", "--workspace-folder", str(self.project), "--docker-path", self.docker,
            "--image-name", "bench-ours"])
        features_s = time.monotonic() - start
        self.drop_replaced_images()
        return {"breakdown_dockerfile_s": round(dockerfile_s, 1),
                "breakdown_download_unpack_s": uv(r"Prepared \d+ packages? in (\d+(?:\.\d+)?)(m?s)"),
                "breakdown_copy_from_cache_s": uv(r"Installed \d+ packages? in (\d+(?:\.\d+)?)(m?s)"),
                "breakdown_bytecode_s": uv(r"Bytecode compiled \d+ files in (\d+(?:\.\d+)?)(m?s)"),
                "breakdown_export_layers_s": round(sum(map(float, export)), 1),
                "breakdown_features_s": round(features_s, 1),
                "breakdown_slowest_steps": [[round(seconds, 1), title] for seconds, title in slowest]}

    # ---- the image shipped through a registry ------------------------------------------------------
    def forget(self, *images: str) -> None:
        """A colleague's machine: the images gone, no build cache (the base image stays)."""
        # and the image the devcontainer CLI derives from the pulled one (vsc-ship-...-uid), which
        # would keep its layers on the machine
        derived = sh([self.docker, "images", "-q", "--filter", "reference=vsc-ship-*"]).split()
        for image in [*images, *derived]:
            subprocess.run([self.docker, "rmi", "-f", image], capture_output=True)
        self.empty_cache()
        subprocess.run([self.docker, "image", "prune", "-f"], capture_output=True)

    def measure_ship(self, cold_s: float | None) -> dict:
        require_registry()
        latest = f"{BENCH_IMAGE}:latest"
        # The same project (same answers, the same lock and certificates) with the image published.
        project = self.workdir / "ship"
        self.render_project(project, lock=False, image=BENCH_IMAGE)
        for name in ("pyproject.toml", "uv.lock"):  # as the other groups left them (builds adds a dependency)
            shutil.copy(self.project / name, project / name)
        shutil.copytree(self.project / ".devcontainer/certs", project / ".devcontainer/certs", dirs_exist_ok=True)
        prebuilt = project / ".devcontainer/prebuilt/devcontainer.json"
        log("ship: build with the devcontainer CLI and push (untimed)")
        sh(["devcontainer", "build", "--workspace-folder", str(project), "--docker-path", self.docker,
            "--image-name", latest])
        sh([self.docker, "push", latest])
        single = f"{BENCH_IMAGE}:single-layer"
        log("ship: the same files as one layer (docker export | docker import), pushed (untimed)")
        container = sh([self.docker, "create", latest, "true"]).strip()
        try:
            with subprocess.Popen([self.docker, "export", container], stdout=subprocess.PIPE) as export:
                imported = subprocess.run([self.docker, "import", "-", single], stdin=export.stdout,
                                          capture_output=True, text=True)
        finally:
            sh([self.docker, "rm", container])
        if imported.returncode != 0:
            sys.exit(f"docker import failed: {imported.stderr[-2000:]}")
        sh([self.docker, "push", single])
        pull, start, pull_single = [], [], []
        for run in range(1, self.runs + 1):
            log(f"ship run {run}/{self.runs}: bare docker pull")
            self.forget(latest, single)
            pull.append(timed([self.docker, "pull", latest]))
            log(f"ship run {run}/{self.runs}: first start with the image-based configuration (+ a cell)")
            self.forget(latest)
            label = f"bench.start={time.monotonic_ns()}"
            begin = time.monotonic()
            sh(["devcontainer", "up", "--workspace-folder", str(project), "--config", str(prebuilt),
                "--docker-path", self.docker, "--id-label", label])
            sh(["devcontainer", "exec", "--workspace-folder", str(project), "--config", str(prebuilt),
                "--docker-path", self.docker, "--id-label", label, "python", "-c", CELL])
            start.append(time.monotonic() - begin)
            for container_id in sh([self.docker, "ps", "-aq", "--filter", f"label={label}"]).split():
                sh([self.docker, "rm", "-f", container_id])
            log(f"ship run {run}/{self.runs}: pull of the same files as one layer")
            self.forget(latest, single)
            pull_single.append(timed([self.docker, "pull", single]))
        split_layers, single_layers = layers(latest), layers(single)
        self.forget(latest, single)
        results = {"ship_pull_s": self.median(pull), "ship_first_start_s": self.median(start),
                   "ship_pull_single_layer_s": self.median(pull_single),
                   "ship_bytes": sum(size for _, size in split_layers), "ship_layers": len(split_layers),
                   "ship_single_layer_bytes": sum(size for _, size in single_layers)}
        if cold_s is not None:
            results["ship_cold_build_s"] = cold_s
        return results

    def measure_upgrade(self) -> dict:
        """jax[cuda12] 0.6.2 -> 0.8.1: the NVIDIA wheels stay the same. Both dev images are pushed;
        the bytes a pull of the new one fetches after the old are the layers it does not share."""
        require_registry()
        project = self.workdir / "upgrade"
        render(project, lock=True, project_name="Upgrade", python_version=self.python, framework="jax",
               framework_version="0.6.2", accelerator="cuda", cuda_version="12", image="none")
        trust_host_ca(project)
        images = {}
        for version in ("0.6.2", "0.8.1"):
            pyproject = project / "pyproject.toml"
            pyproject.write_text(re.sub(r'"jax\[cuda12\]==[0-9.]+"', f'"jax[cuda12]=={version}"', pyproject.read_text()))
            sh(["uv", "lock"], cwd=project)
            images[version] = f"{REGISTRY}/mltemplate-bench/upgrade:{version}"
            log(f"upgrade: build and push jax[cuda12]=={version}")
            sh([self.docker, "build", "-f", ".devcontainer/Dockerfile", "--target", "dev", "-t", images[version], "."],
               cwd=project)
            sh([self.docker, "push", images[version]])
        old, new = layers(images["0.6.2"]), layers(images["0.8.1"])
        old_digests = {digest for digest, _ in old}
        fetched = sum(size for digest, size in new if digest not in old_digests)
        # Before the split, the environment was one framework layer plus the uv sync layer, both
        # rebuilt by the upgrade: a pull fetched every layer after the system stage and the uv binary.
        sh([self.docker, "build", "-f", ".devcontainer/Dockerfile", "--target", "base", "-t", "bench-upgrade-base", "."],
           cwd=project)
        system = layers_of_image(self.docker, "bench-upgrade-base") + 1  # + COPY of the uv binary
        environment = [size for _, size in new[system:]]
        for image in [*images.values(), "bench-upgrade-base"]:
            subprocess.run([self.docker, "rmi", "-f", image], capture_output=True)
        return {"upgrade_fetched_bytes": fetched, "upgrade_single_layer_bytes": sum(environment),
                "upgrade_image_bytes": sum(size for _, size in new)}


def layers_of_image(docker: str, image: str) -> int:
    return len(json.loads(sh([docker, "image", "inspect", image]))[0]["RootFS"]["Layers"])


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


def report(results: dict) -> str:
    r = results
    gib = 1024**3
    rows = []
    try:
        rows += main_rows(r, gib)
    except KeyError:
        pass  # those groups were not measured (--only)
    if "ship_first_start_s" in r:
        cold = r.get("ship_cold_build_s") or r.get("cold_ours_s")
        rows += [
            ("Colleague's first start, image-based configuration (pull + start + cell)", f"{r['ship_first_start_s']} s",
             f"{cold} s cold build" if cold else "", f"{ratio(cold, r['ship_first_start_s'])}x faster" if cold else "", ">= 4x"),
            ("That start vs a bare `docker pull`", f"{r['ship_first_start_s']} s", f"{r['ship_pull_s']} s",
             f"{ratio(r['ship_first_start_s'], r['ship_pull_s'])}x", "<= 1.2x"),
            ("Pull: layered image vs the same files in one layer", f"{r['ship_pull_s']} s ({r['ship_layers']} layers)",
             f"{r['ship_pull_single_layer_s']} s", f"{ratio(r['ship_pull_single_layer_s'], r['ship_pull_s'])}x faster "
             f"({r['ship_bytes'] / 1e9:.2f} vs {r['ship_single_layer_bytes'] / 1e9:.2f} GB)", "")]
    if "upgrade_fetched_bytes" in r:
        rows.append(("Pulled after jax[cuda12] 0.6.2 -> 0.8.1 (same CUDA libraries)",
                     f"{r['upgrade_fetched_bytes'] / 1e6:.0f} MB", f"{r['upgrade_single_layer_bytes'] / 1e6:.0f} MB as one layer",
                     f"{ratio(r['upgrade_single_layer_bytes'], r['upgrade_fetched_bytes'])}x fewer bytes", ">= 3x"))
    if "breakdown_dockerfile_s" in r:
        rows.append(("Cold build breakdown (dev stage)", f"{r['breakdown_dockerfile_s']} s",
                     f"features' build + export {r['breakdown_features_s']} s",
                     f"uv download+unpack {r['breakdown_download_unpack_s']} s, copy from cache "
                     f"{r['breakdown_copy_from_cache_s']} s, bytecode {r['breakdown_bytecode_s']} s, "
                     f"layer export {r['breakdown_export_layers_s']} s", ""))
    lines = [f"Median of {r['runs']} runs, {r['date']}, {r['machine']}, ours built as: {r['mode']}.", "",
             "| measure | ours | naive / other | ratio | target |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines) + "\n"


def main_rows(r: dict, gib: int) -> list[tuple]:
    payload_total = r["base_image_bytes"] + r["payload_bytes"]
    rows = [
        ("Cold build to a running cell", f"{r['cold_ours_s']} s", f"{r['cold_naive_s']} s",
         f"{ratio(r['cold_ours_s'], r['payload_install_s'])}x the payload install ({r['payload_install_s']} s)", "<= 1.3x"),
        ("Rebuild after editing code + notebook", f"{r['warm_ours_s']} s", f"{r['warm_naive_s']} s",
         f"{ratio(r['warm_naive_s'], r['warm_ours_s'])}x faster than naive", ">= 20x"),
        ("Rebuild after adding a dependency", f"{r['add_dependency_ours_s']} s", f"{r['add_dependency_naive_s']} s",
         f"{ratio(r['cold_ours_s'], r['add_dependency_ours_s'])}x faster than our cold build", ">= 5x"),
        ("Image size", f"{r['image_bytes'] / gib:.2f} GiB", "",
         f"{ratio(r['image_bytes'], payload_total)}x payload ({payload_total / gib:.2f} GiB: base + packages)", "<= 1.1x"),
        ("Duplicate files (>100 kB, by content)", str(r["duplicate_files"]), "", f"libcudart copies: {r['libcudart_copies']}", "0"),
        ("Package caches left in the image", f"{r['package_cache_bytes']} bytes", "", "", "0"),
        ("Lock, same job: uv pip compile vs pip-compile", f"{r['lock_uv_pip_compile_s']} s", f"{r['lock_pip_compile_s']} s",
         f"{ratio(r['lock_pip_compile_s'], r['lock_uv_pip_compile_s'])}x faster", ">= 10x"),
        ("Lock, universal: uv lock vs pip-compile", f"{r['lock_uv_s']} s", f"{r['lock_pip_compile_s']} s",
         f"{ratio(r['lock_pip_compile_s'], r['lock_uv_s'])}x faster", ""),
        ("copier copy, with / without locking", f"{r['copy_with_lock_s']} s", f"{r['copy_without_lock_s']} s", "", ""),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", default="3.11", help="project Python (the base image's own avoids a download)")
    parser.add_argument("--mode", choices=["devcontainer", "dockerfile"], default="devcontainer")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated groups of {', '.join(GROUPS)}")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(GROUPS):
        parser.error(f"unknown group(s): {', '.join(sorted(only - set(GROUPS)))}")
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "results.json"
    results = json.loads(saved.read_text()) if saved.is_file() and only != set(GROUPS) else {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        bench = Bench(Path(tmp), args.python, args.runs, args.mode)
        bench.prepare()
        results |= {"runs": args.runs, "mode": args.mode, "date": time.strftime("%Y-%m-%d"),
                    "machine": f"{os.cpu_count()} CPUs, Docker {sh([bench.docker, 'version', '--format', '{{.Server.Version}}']).strip()}"}
        steps = [  # group, what the log says (None: the group logs its own runs), the measurement
            ("copy", "copier copy with and without locking", bench.measure_copy),
            ("lock", "locking: uv lock and uv pip compile vs pip-compile", bench.measure_lock),
            ("payload", "payload alone: download + unpack of the locked packages", bench.measure_payload),
            ("builds", None, bench.measure_builds),
            ("image", "image size, duplicates, caches", bench.measure_image),
            ("breakdown", "where a cold build's time goes", bench.measure_breakdown),
            ("ship", None, lambda: bench.measure_ship(results.get("cold_ours_s"))),
            ("upgrade", None, bench.measure_upgrade),
        ]
        for group, message, measure in steps:
            if group in only:
                if message:
                    log(message)
                results |= measure()
                saved.write_text(json.dumps(results, indent=2) + "\n")  # a later failing group keeps these
    saved.write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(report(results))
    print(report(results))


if __name__ == "__main__":
    main()
