#!/usr/bin/env python3
"""Run the template's GPU paths on this machine and keep what they print (docs/gpu-check.md).

On a machine with an NVIDIA GPU this proves, against the real driver: env-doctor (NVML, the CUDA
runtime and cuDNN torch loads, the arch list against the compute capability, its JSON against
features/src/env-doctor/report.schema.json, a snapshot and its diff with a CPU snapshot, `watch` of
a GPU load and `bench`), the
cuda/cudnn features' library probes (features/lib/test-checks.sh) on torch's CUDA wheels, the
generated projects' device code and example notebook, a one-node torchrun DDP step (NCCL) and a
JAX project on JAX's CUDA plugin. Without a GPU it says "no GPU", skips what needs one and checks
the rest on the CPU (gloo for DDP).

    python3 scripts/gpu_check.py --out DIR [--project PROJECT ...]
    python3 scripts/gpu_check.py --render DIR      # render the two projects to copy to a GPU machine

The output folder gets gpu-check.log (everything printed), env-doctor.json, snapshot.json,
diff.txt, watch.json, bench.json and summary.json. Exit code 1 when a check fails. Needs only the standard library here;
the project interpreter (--python, default this one) brings the frameworks, env-doctor's
interpreter brings pyyaml and nvidia-ml-py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV_DOCTOR_DIR = REPO / "features/src/env-doctor"
SCHEMA_FILE = ENV_DOCTOR_DIR / "report.schema.json"
TEST_CHECKS = REPO / "features/lib/test-checks.sh"
CPU_SNAPSHOT = REPO / "docs/gpu-check-cpu-snapshot.json"
ENV_DOCTOR_VENV_PYTHON = "/opt/env-doctor/bin/python"  # where the env-doctor feature installs it

# The projects --render writes (and that are rendered when copier is importable and none is given).
PROJECTS = {
    "pytorch-cuda": {"project_name": "Vision Lab"},
    "jax-cuda": {"project_name": "Jax Lab", "framework": "jax"},
}
# framework answer -> (module, device name in describe_device() and the notebook on a GPU)
FRAMEWORKS = {"pytorch": ("torch", "cuda"), "jax": ("jax", "gpu"), "tensorflow": ("tensorflow", "cuda"),
              "none": (None, None)}
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


# --- pure helpers (unit-tested in tests/test_gpu_check.py) ------------------------------------

def _type_ok(value, name: str) -> bool:
    return {"object": isinstance(value, dict), "array": isinstance(value, list), "string": isinstance(value, str),
            "boolean": isinstance(value, bool), "null": value is None,
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool)}[name]


def schema_errors(value, schema: dict, root: dict | None = None, where: str = "$") -> list[str]:
    """Where value breaks schema: the JSON Schema subset report.schema.json uses ($ref, type,
    const, enum, pattern, minimum, properties, required, additionalProperties, items, anyOf, oneOf)."""
    root = schema if root is None else root
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return schema_errors(value, target, root, where)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = [schema_errors(value, branch, root, where) for branch in schema[key]]
            matched = sum(not errors for errors in branches)
            if matched == 0:
                return min(branches, key=len)  # the closest branch's errors
            if key == "oneOf" and matched > 1:
                return [f"{where}: matches {matched} of oneOf"]
    errors = []
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_type_ok(value, t) for t in types):
            return [f"{where}: {json.dumps(value)[:60]} is not {' or '.join(types)}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if "minimum" in schema and _type_ok(value, "number") and value < schema["minimum"]:
        errors.append(f"{where}: {value} is below {schema['minimum']}")
    if isinstance(value, dict):
        errors += [f"{where}: missing key {key!r}" for key in schema.get("required", []) if key not in value]
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], root, f"{where}.{key}")
            elif extra is False:
                errors.append(f"{where}: unexpected key {key!r}")
            elif isinstance(extra, dict):
                errors += schema_errors(item, extra, root, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], root, f"{where}[{index}]")
    return errors


def validate(document, kind: str, schema: dict) -> list[str]:
    """Errors of an env-doctor document of kind check, snapshot or diff; jsonschema (when
    importable) must agree with the built-in validator."""
    errors = schema_errors(document, {"$ref": f"#/$defs/{kind}"}, schema)
    try:
        import jsonschema
    except ImportError:
        return errors
    strict = [f"jsonschema: {e.message}" for e in
              jsonschema.Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]}).iter_errors(document)]
    return errors if errors or not strict else strict


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


# --- running and recording ---------------------------------------------------------------------

class Session:
    """Prints progress, keeps everything in OUT/gpu-check.log, collects PASS/FAIL/SKIP results."""

    def __init__(self, out: Path):
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.log = (out / "gpu-check.log").open("w")
        self.results: list[dict] = []
        self.step_no = 0

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.log.write(text + "\n")
        self.log.flush()

    def step(self, title: str) -> None:
        self.step_no += 1
        self.say(f"\n==> [{self.step_no}] {title}")

    def record(self, name: str, status: str, detail: str) -> None:
        self.results.append({"check": name, "status": status, "detail": detail})
        self.say(f"    {status}: {name}: {detail}")

    def run(self, cmd: list[str], show: bool = True, timeout: int = 300, label: str | None = None,
            **kwargs) -> subprocess.CompletedProcess:
        """Run a command; its output goes to the log (and to the screen with show)."""
        self.say(f"    $ {label or shlex.join('<script>' if chr(10) in arg else arg for arg in cmd)}")
        started = time.monotonic()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
        except subprocess.TimeoutExpired as error:
            done = subprocess.CompletedProcess(cmd, 124, _text(error.stdout), _text(error.stderr) + f"\ntimed out after {timeout} s")
        text = (done.stdout or "") + (done.stderr or "")
        if show:
            for line in text.rstrip().splitlines():
                self.say(f"    | {line}")
        else:
            self.log.write("".join(f"    | {line}\n" for line in text.rstrip().splitlines()))
        self.say(f"    (exit {done.returncode}, {time.monotonic() - started:.1f} s)")
        return done


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def marked_json(stdout: str, marker: str = "GPU-CHECK ") -> dict | None:
    for line in stdout.splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker):])
    return None


def can_import(python: str, *modules: str) -> bool:
    code = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))"
    return subprocess.run([python, "-c", code, *modules], capture_output=True).returncode == 0


class EnvDoctor:
    """`python -I -m env_doctor` from features/src/env-doctor: -I keeps PYTHONPATH and the current
    folder off sys.path (as the installed command does), so the package folder is put on it here."""

    def __init__(self, python: str):
        self.python = python

    def __call__(self, s: Session, *args: str, show: bool = True) -> subprocess.CompletedProcess:
        bootstrap = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
                     "runpy.run_module('env_doctor', run_name='__main__', alter_sys=True)")
        return s.run([self.python, "-I", "-c", bootstrap, str(ENV_DOCTOR_DIR), *args], show=show,
                     label=f"{self.python} -I -m env_doctor {' '.join(args)}   (env_doctor from {ENV_DOCTOR_DIR})")


def env_doctor_python(choice: str | None) -> str:
    """This interpreter when it has env-doctor's dependencies (pyyaml, and nvidia-ml-py for NVML),
    else the env-doctor feature's own environment when there is one."""
    if choice:
        return choice
    if not can_import(sys.executable, "yaml", "pynvml") and os.access(ENV_DOCTOR_VENV_PYTHON, os.X_OK):
        return ENV_DOCTOR_VENV_PYTHON
    return sys.executable


# --- the checks --------------------------------------------------------------------------------

NVML_COUNT = """
import json
try:
    import pynvml
    pynvml.nvmlInit()
    n = pynvml.nvmlDeviceGetCount()
    names = [pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(i)) for i in range(n)]
    print(json.dumps({"count": n, "driver": str(pynvml.nvmlSystemGetDriverVersion()),
                      "names": [x.decode() if isinstance(x, bytes) else x for x in names]}))
except Exception as error:
    print(json.dumps({"count": 0, "error": f"{type(error).__name__}: {error}"}))
"""


def check_gpu(s: Session, ed_python: str) -> dict:
    s.step("GPU: what NVML sees")
    if shutil.which("nvidia-smi"):
        s.run(["nvidia-smi"], timeout=60)
    done = s.run([ed_python, "-I", "-c", NVML_COUNT], timeout=60)
    nvml = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {"count": 0, "error": done.stderr}
    kernel = sorted(p.name for p in Path("/proc/driver/nvidia/gpus").glob("*"))
    if nvml["count"]:
        s.record("gpu", PASS, f"{nvml['count']} GPU(s) on driver {nvml['driver']}: {', '.join(nvml['names'])}")
    elif kernel:
        s.record("gpu", FAIL, f"the kernel driver lists {len(kernel)} GPU(s) ({', '.join(kernel)}) but NVML sees none: "
                              f"{nvml.get('error')}")
    else:
        s.say("    no GPU: this machine has no NVIDIA driver/GPU; GPU-only checks are skipped, the rest runs on the CPU")
        s.record("gpu", SKIP, f"no GPU (NVML: {nvml.get('error') or '0 devices'})")
    return nvml


def check_env_doctor(s: Session, ed: EnvDoctor, schema: dict, python: str, project: Path | None, gpu: bool) -> dict | None:
    common = ["--python", python, *(["--project", str(project)] if project else [])]
    s.step("env-doctor check (text)")
    ed(s, "check", *common)
    s.step(f"env-doctor --json{' --require-gpu' if gpu else ''}")
    done = ed(s, "check", "--json", *(["--require-gpu"] if gpu else []), *common, show=False)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        s.record("env-doctor --json", FAIL, f"no JSON (exit {done.returncode}): {done.stderr.strip()[-300:]}")
        return None
    (s.out / "env-doctor.json").write_text(json.dumps(report, indent=2) + "\n")
    problems = [f"{c['name']} {c['status']}: {c['message']}" for c in report.get("checks", []) if c.get("status") in ("warn", "error")]
    if done.returncode == 0 and report.get("exit_code") == 0:
        s.record("env-doctor exit code", PASS, f"0{' with --require-gpu' if gpu else ''}; "
                 + ", ".join(f"{c['name']} {c['status']}" for c in report["checks"]))
    else:
        s.record("env-doctor exit code", FAIL, f"exit {done.returncode} (report says {report.get('exit_code')}): "
                 + ("; ".join(problems) or "a GPU is required (--require-gpu) but none is visible"))
    errors = validate(report, "check", schema)
    s.record("env-doctor JSON schema", FAIL if errors else PASS,
             "; ".join(errors[:5]) if errors else f"env-doctor.json matches $defs/check of {SCHEMA_FILE.name}")
    return report


def check_report_facts(s: Session, report: dict, nvml: dict) -> None:
    s.step("env-doctor facts: GPUs, driver, CUDA libraries, framework, arch list")
    driver, gpus, libs = report["driver"], report["gpus"], report["cuda_libraries"]
    frameworks = [f for f in report["frameworks"] if "error" not in f]
    broken = [f"{f['name']}: {f['error']}" for f in report["frameworks"] if "error" in f]
    for line in [f"driver: {driver}", *(f"GPU {g['index']}: {g['name']} cc {g['compute_capability']} "
                                        f"{(g['memory_total_bytes'] or 0) / 2**30:.0f} GiB" for g in gpus),
                 f"CUDA runtime: {libs['cudart']}", f"cuDNN: {libs['cudnn']}",
                 *(f"{f['name']} {f['version']}: CUDA {f['cuda']}, cuDNN {f['cudnn']}, cuda_available {f['cuda_available']}, "
                   f"{len(f['devices'])} device(s), arch list {' '.join(f['arch_list'] or []) or '-'}" for f in frameworks)]:
        s.say(f"    {line}")
    if broken:
        s.record("env-doctor facts", FAIL, f"a framework failed to import in the probe: {'; '.join(broken)}")
        return
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
        s.record("env-doctor facts", FAIL if wrong else PASS, "; ".join(wrong) or
                 f"driver {driver['version']} (CUDA {driver['cuda']}), {', '.join(g['name'] for g in gpus)}, "
                 f"CUDA runtime {(libs['cudart'] or {}).get('version')}, cuDNN {(libs['cudnn'] or {}).get('version')}")
        arches = [(f, g) for f in frameworks if f["arch_list"] for g in gpus]
        uncovered = [f"{f['name']} has no kernels for {g['name']} (cc {g['compute_capability']})"
                     for f, g in arches if not arch_covers(f["arch_list"], g["compute_capability"])]
        compute = [c for c in report["checks"] if c["name"] == "compute"]
        uncovered += [f"env-doctor compute error: {c['message']}" for c in compute if c["status"] == "error"]
        if not arches and not compute:
            s.record("arch list vs compute capability", SKIP, "no framework with an arch list")
        else:
            s.record("arch list vs compute capability", FAIL if uncovered else PASS, "; ".join(uncovered) or "; ".join(
                [f"{f['name']} {' '.join(f['arch_list'])} covers cc {g['compute_capability']}" for f, g in arches]
                + [f"env-doctor compute {c['status']}: {c['message']}" for c in compute]))
        return
    wrong = []
    if driver["available"] or gpus:
        wrong.append(f"a driver or GPU reported where NVML sees none: {driver}, {len(gpus)} GPU(s)")
    wrong += [f"{f['name']} claims CUDA devices" for f in frameworks if f["cuda_available"]]
    gpu_check = [c for c in report["checks"] if c["name"] == "gpu"]
    if not gpu_check or gpu_check[0]["status"] != "info":
        wrong.append(f"env-doctor's gpu check is not info: {gpu_check}")
    s.record("env-doctor facts", FAIL if wrong else PASS, "; ".join(wrong) or
             f"no GPU reported consistently ({driver['error']}); CUDA runtime {(libs['cudart'] or {}).get('version')}, "
             f"cuDNN {(libs['cudnn'] or {}).get('version')}, frameworks: "
             + (", ".join(f"{f['name']} {f['version']} on the CPU" for f in frameworks) or "none"))
    s.record("arch list vs compute capability", SKIP, "no GPU: no compute capability to compare the arch list with")


def check_snapshot(s: Session, ed: EnvDoctor, schema: dict, python: str, project: Path | None,
                   nvml: dict, baseline: Path) -> None:
    s.step("env-doctor snapshot, and its diff with a CPU snapshot")
    snap_file = s.out / "snapshot.json"
    done = ed(s, "snapshot", "-o", str(snap_file), "--python", python,
              *(["--project", str(project)] if project else []))
    if done.returncode != 0 or not snap_file.is_file():
        s.record("env-doctor snapshot", FAIL, f"exit {done.returncode}, {snap_file.name} not written")
        return
    snap = json.loads(snap_file.read_text())
    errors = validate(snap, "snapshot", schema)
    s.record("env-doctor snapshot", FAIL if errors else PASS, "; ".join(errors[:5]) or
             f"{snap_file.name}: {len(snap['gpus'])} GPU(s), {len(snap['packages'])} packages, matches $defs/snapshot")
    if not baseline.is_file():
        s.record("snapshot diff", FAIL, f"no CPU snapshot at {baseline}: make one with this script on a CPU machine "
                                        "and keep its snapshot.json there")
        return
    done = ed(s, "diff", str(baseline), str(snap_file), show=False)
    (s.out / "diff.txt").write_text(done.stdout + done.stderr)
    as_json = ed(s, "diff", "--json", str(baseline), str(snap_file), show=False)
    if done.returncode not in (0, 1) or as_json.returncode != done.returncode:
        s.record("snapshot diff", FAIL, f"exit {done.returncode}/{as_json.returncode}: {(done.stdout + done.stderr).strip()[-300:]}")
        return
    differences = json.loads(as_json.stdout)
    errors = validate(differences, "diff", schema)
    groups = list(dict.fromkeys(d["group"] for d in differences["differences"]))
    s.say(f"    diff.txt: {len(differences['differences'])} difference(s), groups: {', '.join(groups) or 'none (identical)'}")
    for d in differences["differences"]:
        if d["group"] in ("driver", "GPUs"):
            s.say(f"    {d['group']}: {d['what']}")
    if nvml["count"]:
        missing = [x for x in [nvml["driver"], *nvml["names"]] if x not in done.stdout]
        s.record("snapshot diff", FAIL if missing or errors else PASS, "; ".join(errors[:3]) or
                 (f"diff.txt does not name {', '.join(missing)}" if missing else
                  f"diff.txt names driver {nvml['driver']} and {', '.join(sorted(set(nvml['names'])))} against the CPU snapshot"))
    else:
        named = [g for g in ("driver", "GPUs") if g in groups]
        s.record("snapshot diff", FAIL if named or errors else PASS, "; ".join(errors[:3]) or
                 (f"diff names {', '.join(named)} between two machines without a GPU" if named else
                  "no GPU on either side: no driver or GPU difference"
                  + (f" (other groups: {', '.join(groups)})" if groups else ", the snapshots are identical")))


# What `env-doctor watch` watches: matrix multiplies on the GPU with torch, else a CPU busy loop.
WATCH_LOAD = """
import sys, time
end = time.time() + float(sys.argv[1])
try:
    import torch
    gpu = torch.cuda.is_available()
except ImportError:
    gpu = False
if gpu:
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    while time.time() < end:
        for _ in range(20):
            a @ a
        torch.cuda.synchronize()
else:
    while time.time() < end:
        pass
"""


def check_watch_and_bench(s: Session, ed: EnvDoctor, schema: dict, python: str, gpu: bool) -> None:
    """env-doctor watch of a load (GPU 0 busy with torch: compute-bound, matched to the command;
    else one CPU busy), and env-doctor bench (matmul and copies on the GPU with torch)."""
    s.step("env-doctor watch of a load, and env-doctor bench")
    watch_file = s.out / "watch.json"
    with tempfile.TemporaryDirectory(prefix="gpu-check-watch-") as folder:
        load = Path(folder) / "watch_load.py"
        load.write_text(WATCH_LOAD)
        done = ed(s, "watch", "--json", str(watch_file), "--", python, str(load), "10" if gpu else "4")
    if done.returncode != 0 or not watch_file.is_file():
        s.record("env-doctor watch", FAIL, f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
    else:
        watch = json.loads(watch_file.read_text())
        kinds = [v["kind"] for v in watch["verdict"]]
        torch_gpu = gpu and can_import(python, "torch")
        wrong = validate(watch, "watch", schema)
        if torch_gpu:
            used = [g for g in watch["gpus"] if g["used"]]
            wrong += [] if used else ["no GPU matched to the command"]
            wrong += [] if "compute-bound" in kinds else [f"verdict is {kinds}, not compute-bound"]
        elif watch["cpu"]["used_mean"] < 0.5:
            wrong.append(f"a busy loop used {watch['cpu']['used_mean']} CPUs")
        s.record("env-doctor watch", FAIL if wrong else PASS, "; ".join(wrong[:5]) or " / ".join(
            [v["message"] for v in watch["verdict"]]
            + [f"GPU {g['index']} matched by {g['matched_by']}" for g in watch["gpus"] if g["used"]]
            + [f"watcher {watch['overhead']['percent_of_one_cpu']} % of one CPU"]))
    done = ed(s, "bench", "--seconds", "20" if gpu else "5", "--json", "--python", python, show=False)
    try:
        bench = json.loads(done.stdout)
    except ValueError:
        bench = None
    if bench is None:
        s.record("env-doctor bench", FAIL, f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
        return
    (s.out / "bench.json").write_text(json.dumps(bench, indent=2) + "\n")
    names = {f["name"] for f in bench["figures"]}
    wrong = validate(bench, "bench", schema) + bench["errors"]
    if gpu and can_import(python, "torch"):
        wrong += [f"no {n} figure" for n in ("matmul_fp32", "h2d", "d2h") if n not in names]
    s.record("env-doctor bench", FAIL if wrong else PASS, "; ".join(wrong[:5]) or "; ".join(
        f"{f['name']} ({f['device']}) {f['median']:.4g} {f['unit']} ±{f['spread_percent']} %" for f in bench["figures"]))


TORCH_LIBS = """
import json, os
try:
    import torch
except Exception as error:
    print("GPU-CHECK " + json.dumps({"error": f"{type(error).__name__}: {error}"}))
    raise SystemExit
info = {"version": torch.__version__, "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available(),
        "device_count": torch.cuda.device_count() if torch.cuda.is_available() else 0}
try:
    info["cudnn"] = torch.backends.cudnn.version()
except Exception as error:
    info["cudnn"] = None
if info["cuda_available"]:  # a convolution loads cuDNN's engines
    x = torch.randn(1, 1, 8, 8, device="cuda")
    torch.nn.functional.conv2d(x, torch.randn(1, 1, 3, 3, device="cuda"))
    torch.cuda.synchronize()
loaded = {}
with open("/proc/self/maps") as maps:
    for line in maps:
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        for key, stem in (("cudart", "libcudart.so"), ("cudnn", "libcudnn.so")):
            if os.path.basename(path).startswith(stem):
                loaded.setdefault(key, os.path.realpath(path))
info["loaded"] = loaded
print("GPU-CHECK " + json.dumps(info))
"""


def check_cuda_probes(s: Session, python: str) -> dict | None:
    s.step("CUDA runtime and cuDNN that torch loads, through the features' probes (features/lib/test-checks.sh)")
    if not can_import(python, "torch"):
        s.record("CUDA/cuDNN probes", SKIP, f"torch is not importable by {python}")
        return None
    done = s.run([python, "-c", TORCH_LIBS], show=False)
    torch = marked_json(done.stdout)
    if torch is None or "error" in torch:
        s.record("CUDA/cuDNN probes", FAIL, f"importing torch failed: {(torch or {}).get('error') or done.stderr.strip()[-300:]}")
        return None
    s.say(f"    torch {torch['version']}: CUDA build {torch['cuda']}, cuDNN {torch['cudnn']}, "
          f"cuda_available {torch['cuda_available']}, loaded: {torch['loaded']}")
    if not torch["cuda"]:
        s.record("CUDA/cuDNN probes", SKIP, f"torch {torch['version']} is a CPU-only build: it carries no CUDA libraries")
        return torch
    wrong = [f"torch did not load lib{key}" for key in ("cudart", "cudnn") if key not in torch["loaded"]]
    if wrong:
        s.record("CUDA/cuDNN probes", FAIL, "; ".join(wrong))
        return torch
    cudart, cudnn = torch["loaded"]["cudart"], torch["loaded"]["cudnn"]
    rt = s.run(["bash", "-c", 'source "$1" && cudart_version "$2"', "cudart_version", str(TEST_CHECKS), cudart])
    dnn = s.run(["bash", "-c", 'source "$1" && cudnn_version', "cudnn_version", str(TEST_CHECKS)],
                env={**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(filter(None, [str(Path(cudnn).parent),
                                                                                   os.environ.get("LD_LIBRARY_PATH")]))})
    rt_v, dnn_v = rt.stdout.strip(), dnn.stdout.strip()
    if rt.returncode or dnn.returncode or not rt_v.isdigit() or not dnn_v.isdigit():
        s.record("CUDA/cuDNN probes", FAIL, f"cudart_version exit {rt.returncode} ({rt_v!r}), cudnn_version exit "
                                            f"{dnn.returncode} ({dnn_v!r})")
        return torch
    if int(rt_v) // 1000 != int(torch["cuda"].split(".")[0]):
        wrong.append(f"cudart {rt_v} is not CUDA {torch['cuda']}")
    if torch["cudnn"] and int(dnn_v) != int(torch["cudnn"]):
        wrong.append(f"cudnn_version {dnn_v} differs from torch.backends.cudnn.version() {torch['cudnn']}")
    s.record("CUDA/cuDNN probes", FAIL if wrong else PASS, "; ".join(wrong) or
             f"cudart_version {rt_v} ({cudart}), cudnn_version {dnn_v} ({cudnn}); torch: CUDA {torch['cuda']}, cuDNN {torch['cudnn']}")
    return torch


PROJECT_RUNNER = """
import contextlib, io, json, sys, traceback
job = json.load(sys.stdin)
sys.path.insert(0, job["src"])
result = {"cells": []}
try:
    result["describe_device"] = __import__(job["package"]).describe_device()
except Exception:
    result["describe_device_error"] = traceback.format_exc()
namespace = {"__name__": "__main__"}
for index, source in job["cells"]:  # in order, in one namespace, as a kernel runs them
    out = io.StringIO()
    entry = {"cell": index}
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, f"<cell {index}>", "exec"), namespace)
    except Exception:
        entry["error"] = traceback.format_exc()
    entry["stdout"] = out.getvalue()
    result["cells"].append(entry)
    if "error" in entry:
        break
print("GPU-CHECK " + json.dumps(result))
"""


def check_project(s: Session, python: str, project: Path, gpu: bool) -> str:
    answers = read_answers((project / ".copier-answers.yml").read_text()) if (project / ".copier-answers.yml").is_file() else {}
    framework = answers.get("framework", "none")
    module, gpu_device = FRAMEWORKS.get(framework, (None, None))
    name = f"project {project.name} ({framework})"
    s.step(f"{name}: device code and example notebook")
    if module and not can_import(python, module):
        s.record(name, SKIP, f"{module} is not importable by {python}: the {framework} project is skipped")
        return framework
    package = answers.get("package_name") or next(p.parent.name for p in (project / "src").glob("*/__init__.py"))
    notebook = project / "notebooks/example.ipynb"
    cells = notebook_code_cells(json.loads(notebook.read_text())) if notebook.is_file() else []
    job = {"src": str(project / "src"), "package": package, "cells": cells}
    done = s.run([python, "-c", PROJECT_RUNNER], input=json.dumps(job), cwd=project, show=False, timeout=300)
    result = marked_json(done.stdout)
    if result is None:
        s.record(f"{name}: device code", FAIL, f"the runner failed (exit {done.returncode}): {done.stderr.strip()[-400:]}")
        return framework
    device = gpu_device if gpu and gpu_device else "cpu"
    described = result.get("describe_device") or result.get("describe_device_error", "")
    s.say(f"    describe_device(): {described.strip()}")
    expected = f" on {device}" if module else " on cpu"
    s.record(f"{name}: device code", PASS if expected in described else FAIL,
             f"describe_device() = {described.strip()!r}" + ("" if expected in described else f", expected {expected.strip()!r}"))
    printed = "".join(c["stdout"] for c in result["cells"])
    for cell in result["cells"]:
        s.say(f"    cell {cell['cell']}: " + (cell["stdout"].strip().replace("\n", " / ") or "(no output)"))
        if "error" in cell:
            s.say("    " + cell["error"].strip().replace("\n", "\n    "))
    errors = [c for c in result["cells"] if "error" in c]
    if framework in {"pytorch", "jax"}:
        marker = f"matmul on {device}"
    elif framework == "tensorflow":
        marker = "device:GPU" if gpu else "device:CPU"
    else:
        marker = "mean of squares"
    ok = not errors and len(result["cells"]) == len(cells) and marker in printed
    s.record(f"{name}: notebook", PASS if ok else FAIL,
             f"{len(result['cells'])}/{len(cells)} code cells ran" + (f", printed {marker!r}" if ok else
             (f", cell {errors[0]['cell']} raised {errors[0]['error'].strip().splitlines()[-1]}" if errors else
              f", {marker!r} not printed")))
    return framework


def ddp_worker() -> int:
    """One rank of the DDP step (run by torchrun): a forward/backward/optimizer step of a tiny model,
    then an all-reduce whose sum every rank checks."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    rank, world, local = (int(os.environ[k]) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local)
    device = torch.device("cuda", local) if cuda else torch.device("cpu")
    backend = "nccl" if cuda else "gloo"
    dist.init_process_group(backend)
    torch.manual_seed(0)  # the same initial model on every rank
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)).to(device)
    ddp = DistributedDataParallel(model, device_ids=[local] if cuda else None)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
    data = torch.Generator().manual_seed(100 + rank)  # different data on every rank
    x, y = torch.randn(8, 16, generator=data).to(device), torch.randn(8, 1, generator=data).to(device)
    loss = torch.nn.functional.mse_loss(ddp(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    # DDP averaged the gradients: after the step every rank must hold the same parameters.
    checksum = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1)
    high, low = checksum.clone(), checksum.clone()
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    in_sync = bool(high.item() == low.item())
    total = torch.tensor([float(rank + 1)], device=device)
    dist.all_reduce(total)
    expected = world * (world + 1) / 2
    ok = in_sync and total.item() == expected
    line = (f"rank {rank}/{world}: backend {backend} on {device}, loss {loss.item():.4f}, parameters in sync: {in_sync}, "
            f"all_reduce sum {total.item():g} (expected {expected:g}) {'OK' if ok else 'WRONG'}\n")
    os.write(1, line.encode())  # one write: the ranks share torchrun's stdout and must not interleave
    dist.barrier()  # no rank tears gloo down while another still talks to it ("terminate called ...")
    dist.destroy_process_group()
    return 0 if ok else 1


def check_ddp(s: Session, python: str, torch: dict | None) -> None:
    if torch is None or "error" in torch:
        s.step("torchrun DDP step")
        s.record("torchrun DDP", SKIP, f"torch is not importable by {python}")
        return
    cuda = torch["cuda_available"]
    n = torch["device_count"] if cuda else 2
    s.step(f"torchrun DDP step: {n} process(es), {'NCCL on the GPU' if cuda else 'gloo on the CPU (no GPU)'}")
    done = s.run([python, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={n}",
                  str(Path(__file__).resolve()), "--ddp-worker"], timeout=300,
                 env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"})
    ranks = re.findall(r"rank \d+/\d+: .*? (OK|WRONG)$", done.stdout + done.stderr, flags=re.M)
    ok = done.returncode == 0 and ranks == ["OK"] * n
    backend = "nccl" if cuda else "gloo"
    s.record("torchrun DDP", PASS if ok else FAIL,
             f"{backend}, {len(ranks)}/{n} rank(s) stepped and checked the all-reduce sum" if ok else
             f"exit {done.returncode}, {ranks.count('OK')}/{n} rank(s) reported OK")


# --- projects to check -------------------------------------------------------------------------

def render_projects(dst: Path) -> list[Path]:
    """The default PyTorch + CUDA project and a JAX + CUDA one, rendered from this working tree."""
    import warnings

    import copier

    folders = []
    for name, answers in PROJECTS.items():
        target = dst / name
        if target.exists():
            shutil.rmtree(target)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DirtyLocalWarning: uncommitted edits are rendered too
            copier.run_copy(str(REPO), target, data={"lock_dependencies": False, **answers},
                            defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")
        folders.append(target)
    return folders


def summarize(s: Session, started: float, gpu: dict, projects: list[Path]) -> int:
    failed = [r for r in s.results if r["status"] == FAIL]
    s.say("\n==> summary")
    width = max(len(r["check"]) for r in s.results)
    for r in s.results:
        s.say(f"  {r['status']}  {r['check'].ljust(width)}  {r['detail']}")
    counts = {status: sum(r["status"] == status for r in s.results) for status in (PASS, FAIL, SKIP)}
    code = 1 if failed else 0
    verdict = "no GPU on this machine; " if not gpu["count"] else f"{gpu['count']} GPU(s); "
    s.say(f"\n{verdict}{counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped "
          f"in {time.monotonic() - started:.0f} s; exit {code}")
    summary = {"gpu": gpu, "host": os.uname().nodename, "python": sys.version.split()[0],
               "projects": [str(p) for p in projects], "duration_s": round(time.monotonic() - started, 1),
               "checks": s.results, "passed": counts[PASS], "failed": counts[FAIL], "skipped": counts[SKIP],
               "exit_code": code}
    (s.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default="gpu-check-out",
                        help="output folder (default: ./gpu-check-out)")
    parser.add_argument("--project", action="append", type=Path, default=[],
                        help="a generated project to run (repeatable; default: render the pytorch-cuda "
                             "and jax-cuda projects when copier is importable)")
    parser.add_argument("--python", default=sys.executable, help="project interpreter (default: this one)")
    parser.add_argument("--env-doctor-python", help="interpreter for env-doctor (default: this one when it "
                        f"imports yaml and pynvml, else {ENV_DOCTOR_VENV_PYTHON})")
    parser.add_argument("--cpu-snapshot", type=Path, default=CPU_SNAPSHOT, help="the CPU snapshot to diff with")
    parser.add_argument("--render", type=Path, metavar="DIR", help="only render the two projects into DIR")
    parser.add_argument("--ddp-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ddp_worker:
        return ddp_worker()
    if args.render:
        for folder in render_projects(args.render):
            print(f"rendered {folder}")
        return 0

    started = time.monotonic()
    s = Session(args.out.resolve())
    schema = json.loads(SCHEMA_FILE.read_text())
    ed_python = env_doctor_python(args.env_doctor_python)
    s.say(f"gpu_check on {os.uname().nodename} ({os.uname().machine}), {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    s.say(f"project Python {args.python}, env-doctor Python {ed_python}, output {s.out}")

    with contextlib.ExitStack() as stack:
        projects = [p.resolve() for p in args.project]
        if not projects:
            if can_import(sys.executable, "copier"):
                projects = render_projects(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gpu-check-"))))
                s.say(f"rendered with copier: {', '.join(str(p) for p in projects)}")
            else:
                s.say("no --project given and copier is not importable: the project checks are skipped")
        nvml = check_gpu(s, ed_python)
        gpu = bool(nvml["count"])
        lock_project = next((p for p in projects if (p / "uv.lock").is_file()), projects[0] if projects else None)
        report = check_env_doctor(s, EnvDoctor(ed_python), schema, args.python, lock_project, gpu)
        if report is not None:
            check_report_facts(s, report, nvml)
        check_snapshot(s, EnvDoctor(ed_python), schema, args.python, lock_project, nvml, args.cpu_snapshot)
        check_watch_and_bench(s, EnvDoctor(ed_python), schema, args.python, gpu)
        torch = check_cuda_probes(s, args.python)
        frameworks = [check_project(s, args.python, project, gpu) for project in projects]
        if not projects:
            s.record("projects", SKIP, "no project given and copier is not importable")
        check_ddp(s, args.python, torch)
        if "jax" not in frameworks:
            s.step("JAX project")
            s.record("JAX project", SKIP, "no JAX project given" if can_import(args.python, "jax")
                     else f"jax is not importable by {args.python}, and no JAX project given: the JAX part is skipped")
        return summarize(s, started, nvml, projects)


if __name__ == "__main__":
    sys.exit(main())
