"""Figures over several runs: each run's value, the median, the spread; ratios from medians.

A figure is {"runs": [...], "median", "min", "max", "spread_pct"}: spread_pct is (max - min) as a
percentage of the median, so that a 3 % difference between two medians with a 20 % spread reads
as the noise it is.
"""

from __future__ import annotations

import statistics

# (name, what it compares, numerator figures, denominator figures, target): figures are
# "group.figure", summed when there are several; a ratio is the quotient of the medians.
RATIOS = [
    ("cold_build_over_floor", "Cold build to a running cell / payload install (the floor)",
     ["builds.cold_ours_s"], ["payload.payload_install_s"], "<= 3"),
    ("bare_payload_build_over_floor", "The packages alone in a docker build / payload install (the floor)",
     ["payload.bare_payload_build_s"], ["payload.payload_install_s"], ""),
    ("cold_build_over_bare_payload_build", "Cold build to a running cell / the packages alone in a docker build",
     ["builds.cold_ours_s"], ["payload.bare_payload_build_s"], ""),
    ("cold_build_ours_over_naive", "Cold build to a running cell: ours / naive",
     ["builds.cold_ours_s"], ["builds.cold_naive_s"], "< 1"),
    ("edit_naive_over_ours", "Rebuild after editing code + notebook: naive / ours",
     ["builds.warm_naive_s"], ["builds.warm_ours_s"], ">= 20"),
    ("add_dependency_over_cold_build", "Rebuild after adding a dependency / cold build (ours)",
     ["builds.add_dependency_ours_s"], ["builds.cold_ours_s"], "<= 0.1"),
    ("image_over_payload", "Image size / (base image + installed packages)",
     ["image.image_bytes"], ["image.base_image_bytes", "payload.payload_bytes"], "<= 1.1"),
    ("pip_compile_over_uv_pip_compile", "Lock, same job: pip-compile / uv pip compile",
     ["lock.lock_pip_compile_s"], ["lock.lock_uv_pip_compile_s"], ">= 10"),
    ("pip_compile_over_uv_lock", "Lock: pip-compile / uv lock (universal)",
     ["lock.lock_pip_compile_s"], ["lock.lock_uv_s"], ""),
    ("first_start_over_cold_build", "Colleague's first start from the published image / cold build",
     ["ship.ship_first_start_s"], ["builds.cold_ours_s"], "<= 0.25"),
    ("first_start_over_pull", "That first start / a bare pull of the layered image",
     ["ship.ship_first_start_s"], ["ship.ship_pull_s"], "<= 1.2"),
    ("layered_over_single_pull", "Pull: layered image / the same files as one layer",
     ["ship.ship_pull_s"], ["ship.ship_pull_single_layer_s"], "<= 1.1"),
    ("zstd_over_gzip_pull", "Pull by containerd: zstd layers / gzip layers",
     ["compression.pull_zstd_s"], ["compression.pull_gzip_s"], "< 1"),
    ("upgrade_fetched_over_single_layer", "Bytes pulled after jax[cuda12] 0.6.2 -> 0.8.1 / the environment as one layer",
     ["upgrade.upgrade_fetched_bytes"], ["upgrade.upgrade_single_layer_bytes"], "<= 0.33"),
]


def summary(samples: list[float]) -> dict:
    """Each run's value, median, min, max and spread; seconds keep one decimal, counts stay whole."""
    if not samples:
        raise ValueError("a figure needs at least one run")
    whole = all(isinstance(sample, int) for sample in samples)

    def keep(value: float) -> float:
        return value if whole else round(value, 1)

    median, low, high = statistics.median(samples), min(samples), max(samples)
    return {"runs": [keep(sample) for sample in samples], "median": keep(median), "min": keep(low), "max": keep(high),
            "spread_pct": round(100 * (high - low) / median, 1) if median else 0.0}


def ratio(numerator: float, denominator: float) -> float | None:
    """None when the denominator is zero (JSON has no infinity)."""
    return round(numerator / denominator, 2) if denominator else None


def ratios(groups: dict) -> dict:
    """Every ratio whose figures the groups hold, from the medians."""
    def median(ref: str) -> float | None:
        group, figure = ref.split(".")
        return groups.get(group, {}).get("figures", {}).get(figure, {}).get("median")

    found = {}
    for name, _, numerators, denominators, _ in RATIOS:
        medians = [median(ref) for ref in numerators + denominators]
        if None not in medians:
            top, bottom = sum(medians[:len(numerators)]), sum(medians[len(numerators):])
            found[name] = {"value": ratio(top, bottom), "of": formula(numerators, denominators)}
    return found


def formula(numerators: list[str], denominators: list[str]) -> str:
    """How a ratio is computed, as the page shows it: "a / (b + c)"."""
    def side(refs: list[str]) -> str:
        return refs[0] if len(refs) == 1 else f"({' + '.join(refs)})"

    return f"{side(numerators)} / {side(denominators)}"


def alternating(first: str, second: str, runs: int) -> list[str]:
    """first, second, first, second, ...: a drift of the machine over the runs (caches filling,
    another process starting) falls on both sides alike (the pulls of the ship group)."""
    return [first, second] * runs
