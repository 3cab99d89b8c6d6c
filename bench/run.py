"""Benchmark: our generated devcontainer against the Dockerfile most people write.

    python -m bench.run [--runs 3] [--python 3.11] [--mode devcontainer|dockerfile] [--only GROUPS] [--out bench/results]

Run from the repository root (bench/run.sh does, after preparing the machine like the tests).
Both projects are built on the same Docker Engine in the same run, from the same base image and
the same pinned packages (bench/projects.py). Every group runs --runs times; results.json records
each run's figures, their median and spread, the date, the machine and the number of runs, and
the ratios from the medians (bench/stats.py). `python -m bench.report` writes the tables of
docs/benchmarks.md from it. (Without buildx the devcontainer CLI shares one temporary image
between builds: run nothing else on the engine. https://github.com/microsoft/vscode-remote-release/issues/7414)

--only picks groups (default: all), so that a long run can be split into shorter ones; each run
replaces its groups' figures in --out/results.json and keeps the others:
    copy        copier copy with and without locking
    lock        uv lock and uv pip compile vs pip-compile
    payload     the floor: download + unpack of the locked packages alone
    builds      cold build to a running cell, rebuild after an edit, after adding a dependency
    image       image size, duplicates, caches (measured once: they do not vary)
    breakdown   where a cold build's time goes
    ship        pulls of the published image, layered vs one layer, in alternating order, and a
                colleague's first start with the image-based configuration (local registry)
    compression the published image's layers as gzip and as zstd, pulled by containerd in
                alternating order, and the largest layer's decompression by each
    upgrade     bytes a pull fetches after jax[cuda12] 0.6.2 -> 0.8.1 (measured once)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench import compression, measures, report, shipping
from bench.projects import Projects
from bench.shell import log, machine
from bench.stats import ratios, summary

MEASURES = {  # in the order they run: ship copies the lock the builds group changed
    "copy": measures.measure_copy,
    "lock": measures.measure_lock,
    "payload": measures.measure_payload,
    "builds": measures.measure_builds,
    "image": measures.measure_image,
    "breakdown": measures.measure_breakdown,
    "ship": shipping.measure_ship,
    "compression": compression.measure_compression,
    "upgrade": shipping.measure_upgrade,
}
BUILT_BY_MODE = {"builds", "image"}  # the groups whose figures depend on --mode


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of runs, 1 or more (3 or more to see a spread)")
    return int(text)


def group_record(measured: dict, on: dict) -> dict:
    """A group's figures summarised, with when, where and how often they were measured."""
    record = {"date": time.strftime("%Y-%m-%d"), "machine": on,
              "runs": max(len(samples) for samples in measured["figures"].values()),
              "figures": {name: summary(samples) for name, samples in measured["figures"].items()}}
    if measured.get("details"):
        record["details"] = measured["details"]
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=positive, default=3)
    parser.add_argument("--python", default="3.11", help="project Python (the base image's own avoids a download)")
    parser.add_argument("--mode", choices=["devcontainer", "dockerfile"], default="devcontainer")
    parser.add_argument("--out", type=Path, default=report.RESULTS.parent)
    parser.add_argument("--only", default=",".join(MEASURES), help=f"comma-separated groups of {', '.join(MEASURES)}")
    args = parser.parse_args()
    only = [group for group in MEASURES if group in args.only.split(",")]
    if unknown := set(args.only.split(",")) - set(MEASURES):
        parser.error(f"unknown group(s): {', '.join(sorted(unknown))}; choose from {', '.join(MEASURES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "results.json"
    results = report.load(saved)
    results.setdefault("groups", {})
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        projects = Projects(Path(tmp), args.python, args.mode)
        log("rendering our default project (pytorch + cuda) and the naive one")
        projects.prepare()
        on = machine(projects.docker)
        for group in only:
            log(f"{group}: {args.runs} run(s)")
            record = group_record(MEASURES[group](projects, args.runs), on)
            if group in BUILT_BY_MODE:
                record["mode"] = "devcontainer build" if args.mode == "devcontainer" else "docker build --target dev"
            results["groups"][group] = record
            results["ratios"] = ratios(results["groups"])
            saved.write_text(json.dumps(results, indent=2) + "\n")  # a later failing group keeps these
    print(report.block(results))
    log(f"wrote {saved}; `./bench/run.sh --report` writes these tables into docs/benchmarks.md")


if __name__ == "__main__":
    main()
