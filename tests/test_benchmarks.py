"""The benchmarks' bookkeeping, without Docker: statistics over runs (bench/stats.py), the
alternating order of the pulls, and the tables of docs/benchmarks.md written from results.json
(bench/report.py). The measurements themselves need the engine: `./bench/run.sh`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import report
from bench.run import group_record
from bench.shipping import alternating_pulls
from bench.stats import alternating, ratio, ratios, summary
from tests.utils.project import REPO

FIXTURE = REPO / "tests/data/bench/results.json"
PAGE = "# Benchmarks\n\nProse before.\n\n<!-- bench:results -->\nold figures\n<!-- /bench:results -->\n\nProse after.\n"


def fixture() -> dict:
    return json.loads(FIXTURE.read_text())


def test_summary_of_known_lists():
    assert summary([3.04, 1.0, 2.0]) == {"runs": [3.0, 1.0, 2.0], "median": 2.0, "min": 1.0, "max": 3.0, "spread_pct": 102.0}
    assert summary([10, 12, 11, 13]) == {"runs": [10, 12, 11, 13], "median": 11.5, "min": 10, "max": 13, "spread_pct": 26.1}
    assert summary([7.25]) == {"runs": [7.2], "median": 7.2, "min": 7.2, "max": 7.2, "spread_pct": 0.0}
    assert summary([0.0, 0.0])["spread_pct"] == 0.0  # no division by a zero median
    with pytest.raises(ValueError, match="at least one run"):
        summary([])


def test_ratios_come_from_the_medians():
    groups = fixture()["groups"]
    found = ratios(groups)
    # medians 100 / 25; the means (130 / 31.7) would give 4.1
    assert found["cold_build_over_floor"] == {"value": 4.0, "of": "builds.cold_ours_s / payload.payload_install_s"}
    assert found["cold_build_ours_over_naive"]["value"] == 0.8
    assert "edit_naive_over_ours" not in found  # warm builds not measured
    assert "image_over_payload" not in found  # needs the image group too
    assert found == fixture()["ratios"]  # the fixture is what bench/run.py would save
    groups["image"] = {"figures": {"image_bytes": {"median": 6.0e9}, "base_image_bytes": {"median": 0.6e9}}}
    assert ratios(groups)["image_over_payload"] == {
        "value": 1.0, "of": "image.image_bytes / (image.base_image_bytes + payload.payload_bytes)"}
    groups["payload"]["figures"]["bare_payload_build_s"] = {"median": 50.0}  # the packages alone in a docker build
    assert ratios(groups)["bare_payload_build_over_floor"]["value"] == 2.0
    assert ratios(groups)["cold_build_over_bare_payload_build"] == {
        "value": 2.0, "of": "builds.cold_ours_s / payload.bare_payload_build_s"}
    assert ratio(1.0, 0.0) is None


def test_a_group_record_keeps_every_run_and_how_often_it_ran():
    on = {"cpus": 2, "docker": "20.10.24", "kernel": "6.1.0"}
    record = group_record({"figures": {"ship_pull_s": [60.0, 62.0, 61.0], "ship_bytes": [3300000000]},
                           "details": {"pull_order": ["single", "layered"]}}, on)
    assert record["runs"] == 3 and record["machine"] == on and record["details"] == {"pull_order": ["single", "layered"]}
    assert record["figures"]["ship_pull_s"]["runs"] == [60.0, 62.0, 61.0]
    assert record["figures"]["ship_bytes"]["median"] == 3300000000


def test_pulls_alternate():
    order = alternating("single", "layered", 3)
    assert order == ["single", "layered", "single", "layered", "single", "layered"]


def test_each_pull_starts_from_an_emptied_puller_and_is_kept_per_image():
    events, seconds = [], iter([1.0, 2.0, 3.0, 4.0])
    pulls, order = alternating_pulls("ship", "single", "layered", 2, lambda: events.append("forget"),
                                     lambda image: events.append(image) or next(seconds))
    assert order == ["single", "layered", "single", "layered"]
    assert events == ["forget", "single", "forget", "layered", "forget", "single", "forget", "layered"]
    assert pulls == {"single": [1.0, 3.0], "layered": [2.0, 4.0]}


def test_the_report_writes_each_group_with_its_date_machine_and_runs():
    page = report.update(PAGE, fixture())
    assert page.startswith("# Benchmarks\n\nProse before.\n\n<!-- bench:results -->\n")
    assert page.endswith("<!-- /bench:results -->\n\nProse after.\n") and "old figures" not in page
    assert "2026-12-02, 2 CPUs, Docker 20.10.24, kernel 6.1.0; 3 runs; ours built with `devcontainer build`." in page
    assert "| Cold build to a running cell, ours | 100.0 s | 90.0 s – 200.0 s | 110 % | 100.0 s, 90.0 s, 200.0 s |" in page
    assert "| Installed packages | 5.40 GB | 5.40 GB – 5.40 GB | 0 % |" in page
    assert "2026-12-03, 2 CPUs, Docker 20.10.24, kernel 6.1.0; 1 run." in page
    assert "| Fetched by the pull after the upgrade | 359.0 MB | | | measured once |" in page
    assert "| Cold build to a running cell / payload install (the floor) | 4x | <= 3 |" in page


def test_the_report_says_which_groups_have_no_figures_yet():
    page = report.update(PAGE, fixture())
    assert "No figures yet: `./bench/run.sh --only ship`" in page
    assert "| That first start / a bare pull of the layered image | not measured yet (ship) |" in page
    empty = report.update(PAGE, {})
    assert empty.count("No figures yet") == len(report.GROUPS) and " s |" not in empty


def test_the_report_is_idempotent_and_needs_its_markers():
    once = report.update(PAGE, fixture())
    assert report.update(once, fixture()) == once
    with pytest.raises(ValueError, match="add the two markers"):
        report.update("# Benchmarks\n", fixture())


def test_the_report_command_rewrites_the_page(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text(PAGE)
    command = [sys.executable, "-m", "bench.report", "--results", str(FIXTURE), "--docs", str(docs)]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    assert docs.read_text() == report.update(PAGE, fixture())


def test_the_docs_tables_are_the_generated_ones():
    """No figure in the block is copied by hand: it is what `./bench/run.sh --report` writes."""
    page = (REPO / "docs/benchmarks.md").read_text()
    assert report.update(page, report.load(report.RESULTS)) == page, "run ./bench/run.sh --report"
