"""The text report (`env-doctor`) and the problem list (`--quiet`, container start)."""

from __future__ import annotations

from . import __version__
from .common import PROBLEMS, mib


def table(rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows)


def render_report(facts: dict, results: list[dict]) -> str:
    out = [f"env-doctor {__version__}: project Python {facts['project_python']['path']}"]
    driver = facts["driver"]
    if driver["available"]:
        out.append(f"\nNVIDIA driver {driver['version']} (supports CUDA up to {driver['cuda']})")
    else:
        out.append("\nno NVIDIA driver/GPU visible")
    if facts["gpus"]:
        rows = [["GPU", "NAME", "UUID", "MEMORY USED/TOTAL", "UTIL", "COMPUTE"]]
        for g in facts["gpus"]:
            rows.append([g["index"], g["name"], g["uuid"], f"{mib(g['memory_used_bytes'])} / {mib(g['memory_total_bytes'])}",
                         "?" if g["utilization_percent"] is None else f"{g['utilization_percent']}%",
                         g["compute_capability"] or "?"])
        out.append(table(rows))
    libs = facts["cuda_libraries"]
    for key, label in [("cudart", "CUDA runtime"), ("cudnn", "cuDNN")]:
        lib = libs.get(key)
        out.append(f"{label}: {lib['version'] or 'unreadable'} ({lib['path']})" if lib else f"{label}: not found")
    for fw in facts["frameworks"]:
        if fw.get("error"):
            out.append(f"{fw['name']}: import failed: {fw['error']}")
            continue
        out.append(f"{fw['name']} {fw['version']}: CUDA build {fw.get('cuda') or 'none'}, "
                   f"sees {len(fw.get('devices') or [])} GPU(s)"
                   + (f", arch list {' '.join(fw['arch_list'])}" if fw.get("arch_list") else ""))
    if not facts["frameworks"]:
        out.append("framework: none of torch, tensorflow, jax in the project environment")
    out.append("")
    rows = [["CHECK", "STATUS", "MESSAGE"]]
    for r in results:
        rows.append([r["name"], r["status"].upper(), r["message"]])
        if r["hint"] and r["status"] in PROBLEMS:
            rows.append(["", "", f"fix: {r['hint']}"])
    out.append(table(rows))
    return "\n".join(out)


def render_problems(results: list[dict]) -> str:
    lines = []
    for r in results:
        if r["status"] in PROBLEMS:
            lines.append(f"env-doctor: {r['status'].upper()} {r['name']}: {r['message']}")
            if r["hint"]:
                lines.append(f"    fix: {r['hint']}")
    if lines:
        lines.append("env-doctor: run 'env-doctor' for the full report")
    return "\n".join(lines)
