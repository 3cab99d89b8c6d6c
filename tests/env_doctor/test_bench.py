"""`env-doctor bench` (env_doctor/bench.py, env_doctor_bench.py): its statistics, a real run with
this interpreter (no framework: the CPU figure), `snapshot --bench`, and how `diff` explains a
speed change between two snapshots: beyond the spread only, most likely cause first."""

from __future__ import annotations

import copy
import json

import pytest
from env_doctor import bench, cli

from tests.utils.env_doctor_cli import run
from tests.utils.fake_nvml import H100, FakeNVML, torch_fw
from tests.utils.gpu_check import schema_errors


def test_figure_statistics():
    stats = bench.figure_stats([10.0, 9.0, 11.0, 10.0, 10.5, 9.5, 10.0])
    assert stats["median"] == 10.0 and stats["min"] == 9.0 and stats["max"] == 11.0 and stats["repeats"] == 7
    assert (stats["q1"], stats["q3"]) == (9.75, 10.25)
    assert stats["spread_percent"] == 10.0  # half the min-max range, relative to the median


def test_bench_and_snapshot_bench_with_this_interpreter(env, capsys, tmp_path, monkeypatch):
    """A real bench (no framework here: the CPU figure, one process per CPU), then a snapshot
    holding it; both match the schema."""
    monkeypatch.setattr(bench, "gpu_clocks", lambda: [])
    code, out = run(capsys, "bench", "--seconds", "2", "--json", "--python", __import__("sys").executable)
    result = json.loads(out)
    assert code == 0 and result["errors"] == [] and schema_errors(result, "bench") == []
    cpu = next(f for f in result["figures"] if f["name"] == "cpu")
    assert cpu["repeats"] == 7 and cpu["median"] > 0 and cpu["min"] <= cpu["median"] <= cpu["max"]
    assert cpu["workers"] == result["conditions"]["affinity_cpus"]
    assert cli.main(["snapshot", "--bench", "--seconds", "1", "-o", str(tmp_path / "s.json")]) == 0
    snap = json.loads((tmp_path / "s.json").read_text())
    assert snap["bench"]["figures"][0]["name"] == "cpu" and schema_errors(snap, "snapshot") == []


def test_bench_usage_error(env, capsys):
    assert cli.main(["bench", "--seconds", "0"]) == 3
    assert "--seconds takes 1 to 600" in capsys.readouterr().err


def figure(name, median, spread=2.0, device="cpu", unit="M iterations/s"):
    return {"name": name, "unit": unit, "device": device, "median": median, "q1": median, "q3": median,
            "min": median * (1 - spread / 100), "max": median * (1 + spread / 100), "repeats": 7,
            "spread_percent": spread}


def bench_of(figures, usable=2, quota=None, settings=None, framework=None, clocks=()):
    return {"schema_version": 1, "kind": "bench", "created": "2026-01-01T00:00:00Z", "seconds": 20.0,
            "framework": framework, "figures": figures, "errors": [],
            "conditions": {"usable_cpus": usable, "affinity_cpus": 2, "cgroup_quota_cpus": quota,
                           "thread_settings": settings or {}, "gpu_clocks": list(clocks)}}


@pytest.fixture
def snapshots(env, capsys, tmp_path):
    """snap(bench, **env changes) -> the path of a snapshot holding that bench."""
    def snap(name, bench_doc):
        assert cli.main(["snapshot", "-o", str(tmp_path / name)]) == 0
        capsys.readouterr()
        data = json.loads((tmp_path / name).read_text())
        data["bench"] = bench_doc
        (tmp_path / name).write_text(json.dumps(data))
        assert schema_errors(data, "snapshot") == []
        return str(tmp_path / name)
    return snap


def test_fewer_cpus_named_as_the_cause_of_a_slower_cpu_figure(snapshots, capsys, monkeypatch):
    a = snapshots("a.json", bench_of([figure("cpu", 120.0)], usable=2))
    b = snapshots("b.json", bench_of([figure("cpu", 61.0, spread=3.0)], usable=1, quota=1.0, settings={"OMP_NUM_THREADS": "1"}))
    code, out = run(capsys, "diff", a, b)
    assert code == 1
    assert ("cpu (cpu) 49 % slower: 120 -> 61 M iterations/s (spread ±2.0 % / ±3.0 %)\n"
            "      -> likely cause: usable CPUs 2 -> 1; also changed: CPU quota none -> 1.0; OMP_NUM_THREADS none -> 1") in out
    assert out.index("performance") < out.index("M iterations")
    data = json.loads(run(capsys, "diff", "--json", a, b)[1])
    assert data["differences"][0]["group"] == "performance" and schema_errors(data, "diff") == []


def test_driver_named_first_for_a_slower_gpu_matmul(snapshots, env, capsys):
    """The seed question: driver updated, bf16 matmul 31 % slower. A thread setting changed too,
    but for a GPU figure the driver comes first."""
    env.nvml = FakeNVML(driver="550.54.14", gpus=[H100])
    env.frameworks = [torch_fw()]
    torch = {"name": "torch", "version": "2.6.0+cu124", "threads": 8, "device": "NVIDIA H100 80GB HBM3"}
    clocks = [{"index": 0, "sm_mhz": 1980, "sm_max_mhz": 1980, "throttle_reasons": 0}]
    a = snapshots("a.json", bench_of([figure("matmul_bf16", 700.0, device="cuda", unit="TFLOP/s"),
                                      figure("h2d", 25.0, device="cuda", unit="GB/s")], framework=torch, clocks=clocks))
    env.nvml = FakeNVML(driver="560.28.03", gpus=[H100])
    b = snapshots("b.json", bench_of([figure("matmul_bf16", 483.0, device="cuda", unit="TFLOP/s"),
                                      figure("h2d", 25.2, device="cuda", unit="GB/s")], framework=torch, clocks=clocks,
                                     settings={"OMP_NUM_THREADS": "4"}))
    out = run(capsys, "diff", a, b)[1]
    assert ("matmul_bf16 (cuda) 31 % slower: 700 -> 483 TFLOP/s (spread ±2.0 % / ±2.0 %)\n"
            "      -> likely cause: driver 550.54.14 -> 560.28.03; also changed: OMP_NUM_THREADS none -> 4") in out
    assert "h2d" not in out  # within the spread


def test_change_within_spread_is_no_difference_and_unexplained_change_says_so(snapshots, capsys):
    a = snapshots("a.json", bench_of([figure("cpu", 100.0, spread=6.0)]))
    b = snapshots("b.json", bench_of([figure("cpu", 90.0, spread=6.0)]))
    assert run(capsys, "diff", a, b) == (0, f"no differences between {a} (A) and {b} (B)\n")
    c = snapshots("c.json", bench_of([figure("cpu", 70.0, spread=1.0)]))
    out = run(capsys, "diff", a, c)[1]
    assert "cpu (cpu) 30 % slower" in out and "no recorded fact changed: other load on the machine" in out


def test_bench_schema_refuses_a_figure_without_spread(snapshots):
    broken = copy.deepcopy(bench_of([figure("cpu", 100.0)]))
    del broken["figures"][0]["spread_percent"]
    assert any("spread_percent" in e for e in schema_errors(broken, "bench"))


def test_slower_gpu_to_gpu_copy_names_the_gpus_and_driver_first(snapshots, env, capsys):
    """Two GPUs: their copy bandwidth (NVLink or PCIe) is a figure of its own; a drop after a driver
    update names the driver before the thread settings, and the report keeps its schema."""
    env.nvml = FakeNVML(driver="550.54.14", gpus=[H100, H100])
    env.frameworks = [torch_fw()]
    torch = {"name": "torch", "version": "2.6.0+cu124", "threads": 8, "device": "NVIDIA H100 80GB HBM3"}
    copy = {"name": "gpu0_gpu1", "device": "cuda:0->cuda:1", "unit": "GB/s", "peer": True}
    a = snapshots("a.json", bench_of([{**figure("gpu0_gpu1", 300.0), **copy}], framework=torch))
    env.nvml = FakeNVML(driver="560.28.03", gpus=[H100, H100])
    b = snapshots("b.json", bench_of([{**figure("gpu0_gpu1", 150.0), **copy}], framework=torch,
                                     settings={"OMP_NUM_THREADS": "4"}))
    out = run(capsys, "diff", a, b)[1]
    assert "gpu0_gpu1 (cuda:0->cuda:1) 50 % slower: 300 -> 150 GB/s" in out
    assert "likely cause: driver 550.54.14 -> 560.28.03" in out
    data = json.loads(run(capsys, "diff", "--json", a, b)[1])
    assert schema_errors(data, "diff") == []


def test_reference_with_bench_figures_compared_with_this_container_measured_now(env, capsys, tmp_path, monkeypatch):
    """An image built with referenceBench carries its figures; `diff --reference --bench` measures
    this container now and reports the speed change, its cause named (here: fewer usable CPUs)."""
    monkeypatch.setattr(bench, "gpu_clocks", lambda: [])
    reference = tmp_path / "reference.json"
    env.cpus = 64  # the machine that built the image: far more CPUs than this one
    assert cli.main(["snapshot", "--at-build", "-o", str(reference)]) == 0
    data = json.loads(reference.read_text())
    data["bench"] = bench_of([figure("cpu", 1e6, spread=1.0)], usable=64)
    reference.write_text(json.dumps(data))
    capsys.readouterr()
    env.cpus = 2
    code, out = run(capsys, "diff", "--reference", str(reference), "--bench", "--seconds", "1")
    assert code == 1 and "cpu (cpu)" in out and "% slower" in out and "likely cause: usable CPUs 64 -> " in out
    code, out = run(capsys, "diff", "a.json", "b.json", "--bench")
    assert code == 3
