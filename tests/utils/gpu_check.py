"""The GPU checks (tests/gpu/, docs/gpu-check.md): running env-doctor from this repository and the
probe programs in tests/gpu/probes/, and judging what they report.

Each check returns results, {"check": NAME, "status": PASS/FAIL/SKIP, "detail": ...}; tests/gpu/
turns them into pytest outcomes and keeps them in OUT/summary.json. The judging runs on CPUs too:
tests/test_gpu_check.py and tests/env_doctor/test_gpu_check_judging.py feed it env-doctor's real
output with a fake NVML. Standard library only: the GPU machine has neither copier nor jsonschema.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENV_DOCTOR_DIR = REPO / "features/src/env-doctor"
SCHEMA_FILE = ENV_DOCTOR_DIR / "report.schema.json"
TEST_CHECKS = REPO / "features/lib/test-checks.sh"
CPU_SNAPSHOT = REPO / "tests/data/gpu-check-cpu-snapshot.json"  # env-doctor's snapshot of a machine without a GPU
PROBES = REPO / "tests/gpu/probes"
ENV_DOCTOR_VENV_PYTHON = "/opt/env-doctor/bin/python"  # where the env-doctor feature installs it

# framework answer -> (module, device name in describe_device() and the notebook on a GPU)
FRAMEWORKS = {"pytorch": ("torch", "cuda"), "jax": ("jax", "gpu"), "tensorflow": ("tensorflow", "cuda"),
              "none": (None, None)}
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


def result(check: str, status: str, detail: str) -> dict:
    return {"check": check, "status": status, "detail": detail}


# --- pure helpers ------------------------------------------------------------------------------

def notebook_code_cells(notebook: dict) -> list[tuple[int, str]]:
    """(cell index, source) of each non-empty code cell, in notebook order."""
    cells = []
    for index, cell in enumerate(notebook.get("cells", [])):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "code" and source.strip():
            cells.append((index, source))
    return cells


def read_answers(text: str) -> dict:
    """The flat `key: value` lines of .copier-answers.yml (no YAML library on the project side)."""
    answers = {}
    for line in text.splitlines():
        if match := re.match(r"^([A-Za-z_]\w*):\s*(.*?)\s*$", line):
            answers[match[1]] = match[2].strip("'\"")
    return answers


def arch_covers(arch_list: list[str], capability: str) -> bool:
    """Does a framework's arch list (sm_90, compute_90, sm_90a...) run on this compute capability?
    An exact or same-major older cubin runs, and so does older PTX (JIT-compiled)."""
    major, minor = (int(n) for n in capability.split("."))
    for arch in arch_list:
        match = re.fullmatch(r"(sm|compute)_(\d+?)(\d)([af]?)", arch)
        if not match:
            continue
        kind, a_major, a_minor, suffix = match[1], int(match[2]), int(match[3]), match[4]
        if suffix:  # sm_90a / sm_100f: only that exact family
            if (a_major, a_minor) == (major, minor):
                return True
        elif kind == "sm" and a_major == major and a_minor <= minor:
            return True
        elif kind == "compute" and (a_major, a_minor) <= (major, minor):
            return True
    return False


def schema_errors(document, kind: str) -> list[str]:
    """Where an env-doctor document of a kind (check, snapshot, diff, watch, bench) breaks
    report.schema.json, by jsonschema; ImportError where jsonschema is not installed (the GPU
    machine may lack it: tests/gpu says so and keeps the documents)."""
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]})
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]


def marked_json(stdout: str, marker: str = "GPU-CHECK ") -> dict | None:
    for line in stdout.splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker):])
    return None


# --- running and logging -----------------------------------------------------------------------

class Log:
    """Every command the checks run and all it prints, in one file (OUT/gpu-check.log)."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def say(self, text: str = "") -> None:
        with self.path.open("a") as log:
            log.write(text + "\n")

    def run(self, cmd: list[str], timeout: int = 300, label: str | None = None, **kwargs) -> subprocess.CompletedProcess:
        self.say(f"    $ {label or shlex.join(cmd)}")
        started = time.monotonic()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
        except subprocess.TimeoutExpired as error:
            done = subprocess.CompletedProcess(cmd, 124, _text(error.stdout), _text(error.stderr) + f"\ntimed out after {timeout} s")
        self.say("".join(f"    | {line}\n" for line in ((done.stdout or "") + (done.stderr or "")).rstrip().splitlines())
                 + f"    (exit {done.returncode}, {time.monotonic() - started:.1f} s)")
        return done


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def can_import(python: str, *modules: str) -> bool:
    code = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))"
    return subprocess.run([python, "-c", code, *modules], capture_output=True).returncode == 0


def env_doctor_python(choice: str | None = None) -> str:
    """The given interpreter; else this one when it has env-doctor's dependencies (pyyaml, and
    nvidia-ml-py for NVML), else the env-doctor feature's own environment when there is one."""
    if choice:
        return choice
    if not can_import(sys.executable, "yaml", "pynvml") and os.access(ENV_DOCTOR_VENV_PYTHON, os.X_OK):
        return ENV_DOCTOR_VENV_PYTHON
    return sys.executable


class EnvDoctor:
    """`python -I -m env_doctor` from features/src/env-doctor: -I keeps PYTHONPATH and the current
    folder off sys.path (as the installed command does), so the package folder is put on it here."""

    def __init__(self, python: str, log: Log):
        self.python, self.log = python, log

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        bootstrap = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
                     "runpy.run_module('env_doctor', run_name='__main__', alter_sys=True)")
        return self.log.run([self.python, "-I", "-c", bootstrap, str(ENV_DOCTOR_DIR), *args],
                            label=f"{self.python} -I -m env_doctor {' '.join(args)}   (env_doctor from {ENV_DOCTOR_DIR})")


# --- the checks --------------------------------------------------------------------------------

def nvml_gpus(ed_python: str, log: Log) -> dict:
    """What NVML sees: {"count", "driver", "names"} or {"count": 0, "error"}."""
    done = log.run([ed_python, "-I", str(PROBES / "nvml_count.py")], timeout=60)
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {"count": 0, "error": done.stderr}


def check_gpu(nvml: dict, kernel_gpus: list[str]) -> dict:
    if nvml["count"]:
        return result("gpu", PASS, f"{nvml['count']} GPU(s) on driver {nvml['driver']}: {', '.join(nvml['names'])}")
    if kernel_gpus:
        return result("gpu", FAIL, f"the kernel driver lists {len(kernel_gpus)} GPU(s) ({', '.join(kernel_gpus)}) "
                                   f"but NVML sees none: {nvml.get('error')}")
    return result("gpu", SKIP, f"no GPU (NVML: {nvml.get('error') or '0 devices'})")


def check_env_doctor(ed: EnvDoctor, python: str, project: Path | None, gpu: bool, out: Path) -> tuple[list[dict], dict | None]:
    """`env-doctor check` (text, then --json, with --require-gpu on a GPU machine): its exit code,
    and the report, kept as OUT/env-doctor.json."""
    common = ["--python", python, *(["--project", str(project)] if project else [])]
    ed("check", *common)
    done = ed("check", "--json", *(["--require-gpu"] if gpu else []), *common)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        return [result("env-doctor exit code", FAIL, f"no JSON (exit {done.returncode}): {done.stderr.strip()[-300:]}")], None
    (out / "env-doctor.json").write_text(json.dumps(report, indent=2) + "\n")
    problems = [f"{c['name']} {c['status']}: {c['message']}" for c in report.get("checks", []) if c.get("status") in ("warn", "error")]
    if done.returncode == 0 and report.get("exit_code") == 0:
        return [result("env-doctor exit code", PASS, f"0{' with --require-gpu' if gpu else ''}; "
                       + ", ".join(f"{c['name']} {c['status']}" for c in report["checks"]))], report
    return [result("env-doctor exit code", FAIL, f"exit {done.returncode} (report says {report.get('exit_code')}): "
                   + ("; ".join(problems) or "a GPU is required (--require-gpu) but none is visible"))], report


def check_report_facts(report: dict, nvml: dict) -> list[dict]:
    """What env-doctor reports against what NVML sees: the driver, every GPU, the CUDA libraries,
    each framework seeing every GPU, and each arch list covering each GPU; without a GPU, that
    nothing claims one."""
    driver, gpus, libs = report["driver"], report["gpus"], report["cuda_libraries"]
    frameworks = [f for f in report["frameworks"] if "error" not in f]
    broken = [f"{f['name']}: {f['error']}" for f in report["frameworks"] if "error" in f]
    if broken:
        return [result("env-doctor facts", FAIL, f"a framework failed to import in the probe: {'; '.join(broken)}")]
    if nvml["count"]:
        wrong = []
        if not (driver["available"] and driver["version"] and driver["cuda"]):
            wrong.append(f"driver not reported: {driver}")
        if len(gpus) != nvml["count"] or any(g["compute_capability"] is None for g in gpus):
            wrong.append(f"{len(gpus)} GPU(s) reported, NVML has {nvml['count']}, or a compute capability is missing")
        wrong += [f"{f['name']} sees {len(f['devices'])} of {len(gpus)} GPU(s)" for f in frameworks
                  if (f["cuda"] or f["name"] != "torch") and len(f["devices"]) != len(gpus)]
        if any(f["name"] == "torch" and f["cuda"] for f in frameworks):
            wrong += [f"{key} not found" for key in ("cudart", "cudnn") if not (libs[key] or {}).get("version")]
        facts = result("env-doctor facts", FAIL if wrong else PASS, "; ".join(wrong) or
                       f"driver {driver['version']} (CUDA {driver['cuda']}), {', '.join(g['name'] for g in gpus)}, "
                       f"CUDA runtime {(libs['cudart'] or {}).get('version')}, cuDNN {(libs['cudnn'] or {}).get('version')}")
        arches = [(f, g) for f in frameworks if f["arch_list"] for g in gpus]
        uncovered = [f"{f['name']} has no kernels for {g['name']} (cc {g['compute_capability']})"
                     for f, g in arches if not arch_covers(f["arch_list"], g["compute_capability"])]
        compute = [c for c in report["checks"] if c["name"] == "compute"]
        uncovered += [f"env-doctor compute error: {c['message']}" for c in compute if c["status"] == "error"]
        if not arches and not compute:
            return [facts, result("arch list vs compute capability", SKIP, "no framework with an arch list")]
        return [facts, result("arch list vs compute capability", FAIL if uncovered else PASS, "; ".join(uncovered) or "; ".join(
            [f"{f['name']} {' '.join(f['arch_list'])} covers cc {g['compute_capability']}" for f, g in arches]
            + [f"env-doctor compute {c['status']}: {c['message']}" for c in compute]))]
    wrong = []
    if driver["available"] or gpus:
        wrong.append(f"a driver or GPU reported where NVML sees none: {driver}, {len(gpus)} GPU(s)")
    wrong += [f"{f['name']} claims CUDA devices" for f in frameworks if f["cuda_available"]]
    gpu_check = [c for c in report["checks"] if c["name"] == "gpu"]
    if not gpu_check or gpu_check[0]["status"] != "info":
        wrong.append(f"env-doctor's gpu check is not info: {gpu_check}")
    return [result("env-doctor facts", FAIL if wrong else PASS, "; ".join(wrong) or
                   f"no GPU reported consistently ({driver['error']}); CUDA runtime {(libs['cudart'] or {}).get('version')}, "
                   f"cuDNN {(libs['cudnn'] or {}).get('version')}, frameworks: "
                   + (", ".join(f"{f['name']} {f['version']} on the CPU" for f in frameworks) or "none")),
            result("arch list vs compute capability", SKIP, "no GPU: no compute capability to compare the arch list with")]


def check_snapshot(ed: EnvDoctor, python: str, project: Path | None, nvml: dict, baseline: Path,
                   out: Path) -> tuple[list[dict], dict]:
    """`env-doctor snapshot` (OUT/snapshot.json) and its diff with the CPU snapshot (OUT/diff.txt),
    which must name the driver and each GPU, or, without a GPU, neither. Also returns the documents
    written ({"snapshot": ..., "diff": ...}) for the schema check."""
    snap_file = out / "snapshot.json"
    done = ed("snapshot", "-o", str(snap_file), "--python", python, *(["--project", str(project)] if project else []))
    if done.returncode != 0 or not snap_file.is_file():
        return [result("env-doctor snapshot", FAIL, f"exit {done.returncode}, {snap_file.name} not written")], {}
    snap = json.loads(snap_file.read_text())
    results = [result("env-doctor snapshot", PASS, f"{snap_file.name}: {len(snap['gpus'])} GPU(s), {len(snap['packages'])} packages")]
    if not baseline.is_file():
        return [*results, result("snapshot diff", FAIL, f"no CPU snapshot at {baseline}: make one on a machine without a "
                                                        "GPU (docs/gpu-check.md) and keep its snapshot.json there")], {"snapshot": snap}
    done = ed("diff", str(baseline), str(snap_file))
    (out / "diff.txt").write_text(done.stdout + done.stderr)
    as_json = ed("diff", "--json", str(baseline), str(snap_file))
    if done.returncode not in (0, 1) or as_json.returncode != done.returncode:
        return [*results, result("snapshot diff", FAIL, f"exit {done.returncode}/{as_json.returncode}: "
                                                        f"{(done.stdout + done.stderr).strip()[-300:]}")], {"snapshot": snap}
    differences = json.loads(as_json.stdout)
    groups = list(dict.fromkeys(d["group"] for d in differences["differences"]))
    if nvml["count"]:
        missing = [x for x in [nvml["driver"], *nvml["names"]] if x not in done.stdout]
        diff = result("snapshot diff", FAIL if missing else PASS,
                      f"diff.txt does not name {', '.join(missing)}" if missing else
                      f"diff.txt names driver {nvml['driver']} and {', '.join(sorted(set(nvml['names'])))} against the CPU snapshot")
    else:
        named = [g for g in ("driver", "GPUs") if g in groups]
        diff = result("snapshot diff", FAIL if named else PASS,
                      f"diff names {', '.join(named)} between two machines without a GPU" if named else
                      "no GPU on either side: no driver or GPU difference"
                      + (f" (other groups: {', '.join(groups)})" if groups else ", the snapshots are identical"))
    return [*results, diff], {"snapshot": snap, "diff": differences}


def check_watch(ed: EnvDoctor, python: str, gpu: bool, out: Path) -> tuple[list[dict], dict | None]:
    """`env-doctor watch` of a load (tests/gpu/probes/watch_load.py): GPU 0 busy with torch must be
    matched to the command and judged compute-bound; without a GPU, one CPU busy. OUT/watch.json."""
    watch_file = out / "watch.json"
    done = ed("watch", "--json", str(watch_file), "--", python, str(PROBES / "watch_load.py"), "10" if gpu else "4")
    if done.returncode != 0 or not watch_file.is_file():
        return [result("env-doctor watch", FAIL, f"exit {done.returncode}: {done.stderr.strip()[-300:]}")], None
    watch = json.loads(watch_file.read_text())
    kinds = [v["kind"] for v in watch["verdict"]]
    wrong = []
    if gpu and can_import(python, "torch"):
        wrong += [] if any(g["used"] for g in watch["gpus"]) else ["no GPU matched to the command"]
        wrong += [] if "compute-bound" in kinds else [f"verdict is {kinds}, not compute-bound"]
    elif watch["cpu"]["used_mean"] < 0.5:
        wrong.append(f"a busy loop used {watch['cpu']['used_mean']} CPUs")
    return [result("env-doctor watch", FAIL if wrong else PASS, "; ".join(wrong[:5]) or " / ".join(
        [v["message"] for v in watch["verdict"]]
        + [f"GPU {g['index']} matched by {g['matched_by']}" for g in watch["gpus"] if g["used"]]
        + [f"watcher {watch['overhead']['percent_of_one_cpu']} % of one CPU"]))], watch


def check_bench(ed: EnvDoctor, python: str, gpu: bool, out: Path) -> tuple[list[dict], dict | None]:
    """`env-doctor bench` (matmul and copies on the GPU with torch; the CPU figures without one).
    OUT/bench.json."""
    done = ed("bench", "--seconds", "20" if gpu else "5", "--json", "--python", python)
    try:
        bench = json.loads(done.stdout)
    except ValueError:
        return [result("env-doctor bench", FAIL, f"exit {done.returncode}: {done.stderr.strip()[-300:]}")], None
    (out / "bench.json").write_text(json.dumps(bench, indent=2) + "\n")
    names = {f["name"] for f in bench["figures"]}
    wrong = list(bench["errors"])
    if gpu and can_import(python, "torch"):
        wrong += [f"no {n} figure" for n in ("matmul_fp32", "h2d", "d2h") if n not in names]
    return [result("env-doctor bench", FAIL if wrong else PASS, "; ".join(wrong[:5]) or "; ".join(
        f"{f['name']} ({f['device']}) {f['median']:.4g} {f['unit']} ±{f['spread_percent']} %" for f in bench["figures"]))], bench


def torch_facts(python: str, log: Log) -> dict | None:
    """tests/gpu/probes/torch_libs.py's answer, or None when torch is not importable."""
    if not can_import(python, "torch"):
        return None
    done = log.run([python, str(PROBES / "torch_libs.py")])
    return marked_json(done.stdout) or {"error": done.stderr.strip()[-300:]}


def check_cuda_probes(torch: dict | None, python: str, log: Log) -> list[dict]:
    """The libcudart and libcudnn torch loaded, through the cuda/cudnn features' own probes
    (features/lib/test-checks.sh): their versions must be torch's CUDA major and cuDNN."""
    name = "CUDA/cuDNN probes"
    if torch is None:
        return [result(name, SKIP, f"torch is not importable by {python}")]
    if "error" in torch:
        return [result(name, FAIL, f"importing torch failed: {torch['error']}")]
    log.say(f"    torch {torch['version']}: CUDA build {torch['cuda']}, cuDNN {torch['cudnn']}, "
            f"cuda_available {torch['cuda_available']}, loaded: {torch['loaded']}")
    if not torch["cuda"]:
        return [result(name, SKIP, f"torch {torch['version']} is a CPU-only build: it carries no CUDA libraries")]
    wrong = [f"torch did not load lib{key}" for key in ("cudart", "cudnn") if key not in torch["loaded"]]
    if wrong:
        return [result(name, FAIL, "; ".join(wrong))]
    cudart, cudnn = torch["loaded"]["cudart"], torch["loaded"]["cudnn"]
    rt = log.run(["bash", "-c", 'source "$1" && cudart_version "$2"', "cudart_version", str(TEST_CHECKS), cudart])
    dnn = log.run(["bash", "-c", 'source "$1" && cudnn_version', "cudnn_version", str(TEST_CHECKS)],
                  env={**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(filter(None, [str(Path(cudnn).parent),
                                                                                     os.environ.get("LD_LIBRARY_PATH")]))})
    rt_v, dnn_v = rt.stdout.strip(), dnn.stdout.strip()
    if rt.returncode or dnn.returncode or not rt_v.isdigit() or not dnn_v.isdigit():
        return [result(name, FAIL, f"cudart_version exit {rt.returncode} ({rt_v!r}), cudnn_version exit {dnn.returncode} ({dnn_v!r})")]
    if int(rt_v) // 1000 != int(torch["cuda"].split(".")[0]):
        wrong.append(f"cudart {rt_v} is not CUDA {torch['cuda']}")
    if torch["cudnn"] and int(dnn_v) != int(torch["cudnn"]):
        wrong.append(f"cudnn_version {dnn_v} differs from torch.backends.cudnn.version() {torch['cudnn']}")
    return [result(name, FAIL if wrong else PASS, "; ".join(wrong) or f"cudart_version {rt_v} ({cudart}), cudnn_version {dnn_v} "
                   f"({cudnn}); torch: CUDA {torch['cuda']}, cuDNN {torch['cudnn']}")]


def project_framework(project: Path) -> str:
    answers = project / ".copier-answers.yml"
    return read_answers(answers.read_text()).get("framework", "none") if answers.is_file() else "none"


def check_project(python: str, project: Path, gpu: bool, log: Log) -> list[dict]:
    """A generated project's describe_device() and its example notebook's code cells
    (tests/gpu/probes/project_runner.py): they must name the GPU, or the CPU without one."""
    answers = read_answers((project / ".copier-answers.yml").read_text()) if (project / ".copier-answers.yml").is_file() else {}
    framework = answers.get("framework", "none")
    module, gpu_device = FRAMEWORKS.get(framework, (None, None))
    name = f"project {project.name} ({framework})"
    if module and not can_import(python, module):
        return [result(name, SKIP, f"{module} is not importable by {python}: the {framework} project is skipped")]
    package = answers.get("package_name") or next(p.parent.name for p in (project / "src").glob("*/__init__.py"))
    notebook = project / "notebooks/example.ipynb"
    cells = notebook_code_cells(json.loads(notebook.read_text())) if notebook.is_file() else []
    job = {"src": str(project / "src"), "package": package, "cells": cells}
    done = log.run([python, str(PROBES / "project_runner.py")], input=json.dumps(job), cwd=project, timeout=300)
    run = marked_json(done.stdout)
    if run is None:
        return [result(f"{name}: device code", FAIL, f"the runner failed (exit {done.returncode}): {done.stderr.strip()[-400:]}")]
    device = gpu_device if gpu and gpu_device else "cpu"
    described = (run.get("describe_device") or run.get("describe_device_error", "")).strip()
    expected = f" on {device}" if module else " on cpu"
    printed = "".join(c["stdout"] for c in run["cells"])
    errors = [c for c in run["cells"] if "error" in c]
    if framework in {"pytorch", "jax"}:
        marker = f"matmul on {device}"
    elif framework == "tensorflow":
        marker = "device:GPU" if gpu else "device:CPU"
    else:
        marker = "mean of squares"
    ok = not errors and len(run["cells"]) == len(cells) and marker in printed
    return [result(f"{name}: device code", PASS if expected in described else FAIL,
                   f"describe_device() = {described!r}" + ("" if expected in described else f", expected {expected.strip()!r}")),
            result(f"{name}: notebook", PASS if ok else FAIL,
                   f"{len(run['cells'])}/{len(cells)} code cells ran" + (f", printed {marker!r}" if ok else
                   (f", cell {errors[0]['cell']} raised {errors[0]['error'].strip().splitlines()[-1]}" if errors else
                    f", {marker!r} not printed")))]


def check_ddp(torch: dict | None, python: str, log: Log) -> list[dict]:
    """A one-node torchrun DDP step (tests/gpu/probes/ddp_step.py): NCCL on every GPU, or gloo on 2
    CPU processes; every rank must report OK."""
    if torch is None or "error" in torch:
        return [result("torchrun DDP", SKIP, f"torch is not importable by {python}")]
    cuda = torch["cuda_available"]
    n = torch["device_count"] if cuda else 2
    done = log.run([python, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={n}", str(PROBES / "ddp_step.py")],
                   timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"})
    ranks = re.findall(r"rank \d+/\d+: .*? (OK|WRONG)$", done.stdout + done.stderr, flags=re.M)
    ok = done.returncode == 0 and ranks == ["OK"] * n
    return [result("torchrun DDP", PASS if ok else FAIL,
                   f"{'nccl' if cuda else 'gloo'}, {len(ranks)}/{n} rank(s) stepped and checked the all-reduce sum" if ok else
                   f"exit {done.returncode}, {ranks.count('OK')}/{n} rank(s) reported OK")]
