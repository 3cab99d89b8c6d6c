"""The tables of docs/benchmarks.md, written from bench/results/results.json between the markers
<!-- bench:results --> and <!-- /bench:results -->: each group's figures (median, min and max, spread,
every run), its date, machine and number of runs, and the ratios from the medians. A group with
no figures says so instead of showing old ones.

    python -m bench.report [--results bench/results/results.json] [--docs docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.stats import RATIOS, formula

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench/results/results.json"
DOCS = ROOT / "docs/benchmarks.md"
BEGIN, END = "<!-- bench:results -->", "<!-- /bench:results -->"

# group -> (title, {figure: label}), in the order of the page; a figure's unit is its name's suffix.
GROUPS = {
    "payload": ("The floor: the locked packages alone (download + unpack on the host, then in a docker build)", {
        "payload_install_s": "Payload install", "payload_bytes": "Installed packages",
        "bare_payload_build_s": "The same packages alone in a docker build (one step + export)"}),
    "builds": ("Builds: ours vs the naive Dockerfile", {
        "cold_ours_s": "Cold build to a running cell, ours", "cold_naive_s": "Cold build to a running cell, naive",
        "warm_ours_s": "Rebuild after editing code + notebook, ours", "warm_naive_s": "Rebuild after editing code + notebook, naive",
        "add_dependency_ours_s": "Rebuild after adding a dependency, ours",
        "add_dependency_naive_s": "Rebuild after adding a dependency, naive"}),
    "image": ("The image ours builds", {
        "image_bytes": "Image size", "base_image_bytes": "Base image size", "duplicate_files": "Duplicate files (>100 kB, by content)",
        "package_cache_bytes": "Package caches left in the image", "libcudart_copies": "libcudart copies"}),
    "lock": ("Locking (empty caches, same four requirements)", {
        "lock_uv_s": "uv lock (universal)", "lock_uv_pip_compile_s": "uv pip compile", "lock_pip_compile_s": "pip-compile"}),
    "copy": ("copier copy of the default project", {
        "copy_with_lock_s": "With locking", "copy_without_lock_s": "Without locking"}),
    "breakdown": ("Where a cold build's time goes (dev stage, then the features)", {
        "breakdown_dockerfile_s": "Cold docker build of the dev stage", "breakdown_download_unpack_s": "uv: download and unpack",
        "breakdown_copy_from_cache_s": "uv: copy out of the cache", "breakdown_bytecode_s": "Bytecode compilation",
        "breakdown_export_layers_s": "Layer export", "breakdown_features_s": "The features' build on top"}),
    "ship": ("Shipping the environment as an image (local registry)", {
        "ship_pull_s": "Pull of the layered image", "ship_pull_single_layer_s": "Pull of the same files as one layer",
        "ship_first_start_s": "Colleague's first start (pull + start + a cell)", "ship_bytes": "Layered image, compressed",
        "ship_single_layer_bytes": "One layer, compressed", "ship_layers": "Layers"}),
    "compression": ("Layer compression: gzip (docker push) vs zstd (skopeo), pulled by containerd", {
        "pull_gzip_s": "Pull, gzip layers", "pull_zstd_s": "Pull, zstd layers",
        "decompress_largest_gzip_s": "Largest layer decompressed, gzip -d",
        "decompress_largest_zstd_s": "Largest layer decompressed, zstd -d",
        "gzip_bytes": "Image, gzip", "zstd_bytes": "Image, zstd"}),
    "upgrade": ("Bytes pulled after jax[cuda12] 0.6.2 -> 0.8.1 (same NVIDIA wheels)", {
        "upgrade_fetched_bytes": "Fetched by the pull after the upgrade", "upgrade_single_layer_bytes": "The environment as one layer",
        "upgrade_image_bytes": "The whole new image"}),
}


def value(figure: str, number: float) -> str:
    if figure.endswith("_s"):
        return f"{number:.1f} s"
    if figure.endswith("_bytes"):
        return f"{number / 1e9:.2f} GB" if number >= 1e9 else f"{number / 1e6:.1f} MB"
    return f"{number:g}"


def provenance(group: dict) -> str:
    machine = group["machine"]
    runs = group["runs"]
    line = (f"{group['date']}, {machine['cpus']} CPUs, Docker {machine['docker']}, kernel {machine['kernel']}; "
            f"{runs} run{'s' if runs != 1 else ''}")
    return line + (f"; ours built with `{group['mode']}`" if "mode" in group else "")


def group_table(name: str, group: dict | None) -> list[str]:
    title, labels = GROUPS[name]
    lines = [f"### {title}", ""]
    if not group:
        return [*lines, f"No figures yet: `./bench/run.sh --only {name}`, then `./bench/run.sh --report`.", ""]
    lines += [provenance(group) + ".", "", "| measure | median | min–max | spread | each run |", "|---|---|---|---|---|"]
    for figure, label in labels.items():
        if figure not in group["figures"]:
            continue
        f = group["figures"][figure]
        each = ", ".join(value(figure, run) for run in f["runs"])
        if len(f["runs"]) == 1:
            lines.append(f"| {label} | {value(figure, f['median'])} | | | measured once |")
        else:
            lines.append(f"| {label} | {value(figure, f['median'])} | {value(figure, f['min'])} – {value(figure, f['max'])} "
                         f"| {f['spread_pct']:g} % | {each} |")
    slowest = group.get("details", {}).get("slowest_steps_last_run")
    if slowest:
        lines += ["", "Slowest BuildKit steps of the last run: " + "; ".join(f"{title} {seconds} s" for seconds, title in slowest) + "."]
    order = group.get("details", {}).get("pull_order")
    if order:
        lines += ["", f"Pull order: {', '.join(order)}, each on an emptied engine."]
    return [*lines, ""]


def ratio_table(ratios: dict) -> list[str]:
    lines = ["### Ratios, from the medians", "", "| ratio | value | target | figures |", "|---|---|---|---|"]
    for name, label, numerators, denominators, target in RATIOS:
        needs = sorted({ref.split(".")[0] for ref in numerators + denominators})
        if name in ratios and ratios[name]["value"] is not None:
            shown = f"{ratios[name]['value']:g}x"
        else:
            shown = f"not measured yet ({', '.join(needs)})"
        lines.append(f"| {label} | {shown} | {target} | {formula(numerators, denominators)} |")
    return [*lines, ""]


def block(results: dict) -> str:
    """The generated part of the page, markers included."""
    groups = results.get("groups", {})
    lines = [BEGIN, "<!-- generated by `./bench/run.sh --report` from bench/results/results.json: edit neither by hand -->", ""]
    for name in GROUPS:
        lines += group_table(name, groups.get(name))
    lines += ratio_table(results.get("ratios", {}))
    return "\n".join([*lines, END])


def update(page: str, results: dict) -> str:
    """The page with its block rewritten: the same page for the same results."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the page has no {BEGIN} ... {END} block: add the two markers where the tables go")
    return page[:start] + block(results) + page[end + len(END):]


def load(path: Path) -> dict:
    """The results so far; none before the first run."""
    return json.loads(path.read_text()) if path.is_file() else {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--docs", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    try:
        page = update(args.docs.read_text(), load(args.results))
    except ValueError as error:
        sys.exit(f"{args.docs}: {error}")
    args.docs.write_text(page)
    print(f"wrote the tables of {args.docs} from {args.results}")


if __name__ == "__main__":
    main()
