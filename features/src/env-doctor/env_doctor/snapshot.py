"""Snapshots (the facts that define an environment) and the diff of two, each difference
with its likely consequence."""

from __future__ import annotations

import re
import time

from .bench import performance_items
from .checks import driver_support, framework_cuda
from .common import major_minor, vkey

VOLATILE_GPU_KEYS = ("memory_used_bytes", "utilization_percent")


def snapshot(facts: dict, taken_at: str = "container") -> dict:
    """The facts that define an environment; load (memory used, utilization) left out.
    taken_at "build": taken while the image was built, where no host (driver, GPUs) is visible."""
    snap = dict(facts, kind="snapshot", created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                taken_at=taken_at)
    snap["gpus"] = [{k: v for k, v in g.items() if k not in VOLATILE_GPU_KEYS} for g in facts["gpus"]]
    return snap


def host_comparable(a: dict, b: dict) -> bool:
    """Driver and GPUs belong to the host: a snapshot taken at image build has none to compare."""
    return "build" not in (a.get("taken_at"), b.get("taken_at"))


def without_own_project(snap: dict) -> dict:
    """The snapshot without the lock's own project: an image holds the environment, and the project
    is installed (editable, from the workspace) only when a container is created."""
    own = (snap.get("lockfile") or {}).get("project")
    if not own:
        return snap
    name = re.sub(r"[-_.]+", "-", own).lower()
    return dict(snap, packages={k: v for k, v in snap.get("packages", {}).items() if k != name})


def _cudas_of(snap: dict, versions: dict) -> set[str]:
    found = set()
    cudart = (snap.get("cuda_libraries", {}).get("cudart") or {}).get("version")
    if cudart:
        found.add(major_minor(cudart))
    for fw in snap.get("frameworks", []):
        if framework_cuda(versions, fw):
            found.add(framework_cuda(versions, fw))
    return found


LEVEL_TEXT = {"full": "runs it with full support", "minor": "runs it with minor-version compatibility only",
              "too-old": "is too old to run it", "unknown": "has no versions.yml data for it"}


def diff(a: dict, b: dict, versions: dict) -> list[dict]:
    """Differences between two snapshots, each with its likely consequence. Driver and GPUs are
    compared only when both snapshots saw a host (neither was taken at image build). Speed changes
    (snapshots taken with --bench) come first, each with the changed facts most likely behind it."""
    items = performance_items(a, b)

    def add(group, what, consequence):
        items.append({"group": group, "what": what, "consequence": consequence})

    host = host_comparable(a, b)
    # driver
    da, db = a["driver"].get("version"), b["driver"].get("version")
    if host and da != db:
        if not da or not db:
            add("driver", f"driver {da or 'none'} vs {db or 'none'}",
                f"{'A' if not da else 'B'} has no NVIDIA driver visible: it runs on the CPU only")
        else:
            notes = []
            for cuda in sorted(_cudas_of(a, versions) | _cudas_of(b, versions), key=vkey):
                la, full, _ = driver_support(versions, da, cuda, a["driver"].get("cuda"))
                lb, _, _ = driver_support(versions, db, cuda, b["driver"].get("cuda"))
                if la == lb:
                    continue
                notes.append(f"the CUDA {cuda} runtime needs {full} for full support; "
                             + "; ".join(f"{d} {LEVEL_TEXT[lv]}" for d, lv in [(da, la), (db, lb)] if lv != "full"))
            add("driver", f"driver {da} vs {db}",
                "; ".join(notes) or "both drivers run the CUDA in use equally; results and speed can still differ slightly")

    # GPUs (models and compute capabilities; load is not compared)
    ga = [f"{g['name']} ({g.get('compute_capability')})" for g in a["gpus"]]
    gb = [f"{g['name']} ({g.get('compute_capability')})" for g in b["gpus"]]
    if host and sorted(ga) != sorted(gb):
        add("GPUs", f"{', '.join(ga) or 'no GPU'} vs {', '.join(gb) or 'no GPU'}",
            "different GPU models: speed, memory, supported precisions (bf16/fp8) and the framework kernels "
            "used differ; numerics may differ in the last digits")

    # CUDA libraries
    for key, label, consequence in [
            ("cudart", "CUDA runtime", "needs a different minimum driver; kernels are compiled for different CUDA"),
            ("cudnn", "cuDNN", "convolution/attention algorithms and their numerics can differ")]:
        va = (a["cuda_libraries"].get(key) or {}).get("version")
        vb = (b["cuda_libraries"].get(key) or {}).get("version")
        if va != vb:
            add("CUDA libraries", f"{label} {va or 'none'} vs {vb or 'none'}", consequence)

    # framework
    fa = {fw["name"]: fw for fw in a["frameworks"]}
    fb = {fw["name"]: fw for fw in b["frameworks"]}
    for name in sorted(fa.keys() | fb.keys()):
        x, y = fa.get(name, {}), fb.get(name, {})
        sa = f"{x.get('version', 'absent')} (CUDA {x.get('cuda') or 'none'})" if x else "absent"
        sb = f"{y.get('version', 'absent')} (CUDA {y.get('cuda') or 'none'})" if y else "absent"
        if sa != sb:
            add("framework", f"{name} {sa} vs {sb}",
                "different framework builds: supported GPUs, default algorithms and results can differ")

    # Python and packages
    pa, pb = a["project_python"].get("version"), b["project_python"].get("version")
    if pa != pb:
        add("python", f"Python {pa} vs {pb}", "different interpreter: wheels and behaviour differ")
    ka, kb = a.get("packages", {}), b.get("packages", {})
    for name in sorted(kb.keys() - ka.keys()):
        add("packages added", f"{name} {kb[name]} (only in B)", "code importing it works only in B")
    for name in sorted(ka.keys() - kb.keys()):
        add("packages removed", f"{name} {ka[name]} (only in A)", "code importing it fails in B")
    for name in sorted(ka.keys() & kb.keys()):
        if ka[name] != kb[name]:
            major_change = vkey(ka[name])[:1] != vkey(kb[name])[:1]
            add("packages changed", f"{name} {ka[name]} vs {kb[name]}",
                "major version change: APIs may differ" if major_change else "behaviour and results may differ")

    # lockfile
    la, lb = (a.get("lockfile") or {}).get("sha256"), (b.get("lockfile") or {}).get("sha256")
    if la != lb:
        add("lockfile", f"uv.lock sha256 {(la or 'none')[:12]} vs {(lb or 'none')[:12]}",
            "the environments come from different locks: compare the two uv.lock files")
    elif la and ka != kb:
        add("lockfile", "same uv.lock, different packages installed",
            "an environment is out of sync with its lock: run 'uv sync --frozen'")

    # data path (where each ran from is recorded, but only the path the code reads matters here)
    xa = ((a.get("storage") or {}).get("data") or {}).get("path")
    xb = ((b.get("storage") or {}).get("data") or {}).get("path")
    if xa and xb and xa != xb:
        add("data", f"data path {xa} vs {xb}", "code that reads datasets from one path finds none in the other")

    # OS
    oa, ob = a["os"].get("pretty_name"), b["os"].get("pretty_name")
    if oa != ob:
        add("OS", f"{oa} vs {ob}", "system libraries (glibc, libstdc++) differ; compiled extensions may behave differently")
    return items


def render_diff(items: list[dict], name_a: str, name_b: str) -> str:
    if not items:
        return f"no differences between {name_a} (A) and {name_b} (B)"
    out = [f"A = {name_a}\nB = {name_b}"]
    group = None
    for item in items:
        if item["group"] != group:
            group = item["group"]
            out.append(f"\n{group}")
        out.append(f"  {item['what']}\n      -> {item['consequence']}")
    return "\n".join(out)
