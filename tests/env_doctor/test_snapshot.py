"""env-doctor's snapshots and their diff (env_doctor/snapshot.py), through `env-doctor snapshot`
and `env-doctor diff`."""

from __future__ import annotations

import json

from env_doctor import cli

from tests.utils.env_doctor_cli import run
from tests.utils.fake_nvml import A100, H100, FakeNVML, torch_fw


def take_snapshot(env, capsys, path):
    assert cli.main(["snapshot", "-o", str(path)]) == 0
    capsys.readouterr()
    return path


def test_snapshot_content(env, capsys, tmp_path):
    (tmp_path / "uv.lock").write_text("version = 1\n")
    env.nvml = FakeNVML(gpus=[dict(H100, util=80)])
    snap = json.loads(take_snapshot(env, capsys, tmp_path / "a.json").read_text())
    assert snap["kind"] == "snapshot" and snap["schema_version"] == 1
    assert snap["packages"] == {"numpy": "2.1.0"}
    assert snap["lockfile"]["path"] == str(tmp_path / "uv.lock") and len(snap["lockfile"]["sha256"]) == 64
    assert snap["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"
    assert "utilization_percent" not in snap["gpus"][0]  # load is not part of the fingerprint
    assert snap["os"]["pretty_name"]


def test_diff_identical_exits_0(env, capsys, tmp_path):
    a = take_snapshot(env, capsys, tmp_path / "a.json")
    b = take_snapshot(env, capsys, tmp_path / "b.json")
    code, out = run(capsys, "diff", str(a), str(b))
    assert code == 0 and "no differences" in out


def test_diff_groups_and_driver_consequence(env, capsys, tmp_path):
    (tmp_path / "uv.lock").write_text("version = 1\n")
    env.nvml = FakeNVML(driver="535.54.03", cuda=12020, gpus=[A100])
    env.frameworks = [torch_fw(cc="8.0")]
    env.packages = {"numpy": "1.26.4", "six": "1.16.0", "tqdm": "4.66.0"}
    a = take_snapshot(env, capsys, tmp_path / "a.json")

    (tmp_path / "uv.lock").write_text("version = 2\n")
    env.nvml = FakeNVML(driver="550.54.14", cuda=12040, gpus=[H100])
    env.frameworks = [torch_fw(version="2.7.1+cu126", cuda="12.6")]
    env.packages = {"numpy": "2.1.0", "tqdm": "4.66.0", "rich": "13.7.1"}
    b = take_snapshot(env, capsys, tmp_path / "b.json")

    code, out = run(capsys, "diff", str(a), str(b))
    assert code == 1
    assert ("driver 535.54.03 vs 550.54.14: the CUDA 12.4 runtime needs 550.54.14 for full support; "
            "535.54.03 runs it with minor-version compatibility only") in out.replace("\n      -> ", ": ")
    lines = out.splitlines()
    groups = [line for line in lines if line and not line.startswith((" ", "A =", "B ="))]
    assert groups == ["driver", "GPUs", "framework", "packages added", "packages removed", "packages changed",
                      "lockfile"]
    assert "  rich 13.7.1 (only in B)" in lines
    assert "  six 1.16.0 (only in A)" in lines
    assert "  numpy 1.26.4 vs 2.1.0" in lines and "major version change" in out
    assert "tqdm" not in out
    assert "torch 2.6.0+cu124 (CUDA 12.4) vs 2.7.1+cu126 (CUDA 12.6)" in out

    code, out = run(capsys, "diff", "--json", str(a), str(b))
    data = json.loads(out)
    assert code == 1 and data["identical"] is False
    assert {"group", "what", "consequence"} == set(data["differences"][0])


def test_diff_same_lock_different_packages_means_out_of_sync(env, capsys, tmp_path):
    (tmp_path / "uv.lock").write_text("version = 1\n")
    a = take_snapshot(env, capsys, tmp_path / "a.json")
    env.packages = {"numpy": "2.1.0", "six": "1.17.0"}
    b = take_snapshot(env, capsys, tmp_path / "b.json")
    code, out = run(capsys, "diff", str(a), str(b))
    assert code == 1 and "six 1.17.0 (only in B)" in out and "uv sync --frozen" in out


def test_diff_no_driver_on_one_side(env, capsys, tmp_path):
    env.nvml = FakeNVML(gpus=[H100])
    a = take_snapshot(env, capsys, tmp_path / "a.json")
    env.nvml = FakeNVML(init_error="Driver Not Loaded")
    b = take_snapshot(env, capsys, tmp_path / "b.json")
    _, out = run(capsys, "diff", str(a), str(b))
    assert "B has no NVIDIA driver visible: it runs on the CPU only" in out


def test_diff_unreadable_snapshot_exits_3(env, capsys, tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    assert cli.main(["diff", str(tmp_path / "bad.json"), str(tmp_path / "bad.json")]) == 3
    assert "cannot read snapshot" in capsys.readouterr().err


LOCK = """version = 1

[[package]]
name = "numpy"
version = "2.1.0"
source = { registry = "https://example.invalid/simple" }

[[package]]
name = "vision-lab"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "numpy" },
]
"""


def reference(env, capsys, tmp_path, monkeypatch):
    """The image's reference, as the feature writes it at build (--at-build, the image's lock)."""
    image_lock = tmp_path / "image-lock"
    image_lock.mkdir()
    (image_lock / "uv.lock").write_text(LOCK)
    path = tmp_path / "reference.json"
    assert cli.main(["snapshot", "--at-build", "--project", str(image_lock), "-o", str(path)]) == 0
    capsys.readouterr()
    monkeypatch.setattr(cli, "REFERENCE_FILE", path)
    return path


def test_lockfile_names_its_own_project(env, capsys, tmp_path):
    (tmp_path / "uv.lock").write_text(LOCK)
    snap = json.loads(take_snapshot(env, capsys, tmp_path / "a.json").read_text())
    assert snap["lockfile"]["project"] == "vision-lab" and snap["taken_at"] == "container"


def test_reference_of_the_image_equals_a_fresh_container(env, capsys, tmp_path, monkeypatch):
    ref = reference(env, capsys, tmp_path, monkeypatch)
    assert json.loads(ref.read_text())["taken_at"] == "build"
    # the container: the same lock in the workspace, the project installed (editable), a GPU host
    (tmp_path / "uv.lock").write_text(LOCK)
    env.packages = {"numpy": "2.1.0", "vision-lab": "0.1.0"}
    env.nvml = FakeNVML(driver="550.54.14", cuda=12040, gpus=[H100])
    code, out = run(capsys, "diff", "--reference")
    assert code == 0 and "no differences" in out
    assert "driver and GPUs not compared" in out  # a build sees no host: that is env-doctor check's job


def test_reference_names_a_changed_package_and_lock(env, capsys, tmp_path, monkeypatch):
    reference(env, capsys, tmp_path, monkeypatch)
    (tmp_path / "uv.lock").write_text(LOCK.replace('version = "2.1.0"', 'version = "2.2.0"'))
    env.packages = {"numpy": "2.2.0", "vision-lab": "0.1.0", "six": "1.17.0"}
    code, out = run(capsys, "diff", "--reference", "--json")
    data = json.loads(out)
    assert code == 1 and data["host_compared"] is False
    assert [(d["group"], d["what"]) for d in data["differences"]] == [
        ("packages added", "six 1.17.0 (only in B)"), ("packages changed", "numpy 2.1.0 vs 2.2.0"),
        ("lockfile", data["differences"][2]["what"])]
    assert data["differences"][2]["what"].startswith("uv.lock sha256")


def test_reference_taken_in_a_container_compares_the_driver(env, capsys, tmp_path):
    """A team reference snapshotted in a running container (a colleague's, or a GPU machine's)."""
    env.nvml = FakeNVML(driver="550.54.14", cuda=12040, gpus=[H100])
    ref = take_snapshot(env, capsys, tmp_path / "team.json")
    env.nvml = FakeNVML(driver="535.54.03", cuda=12020, gpus=[H100])
    code, out = run(capsys, "diff", "--reference", str(ref))
    assert code == 1
    assert "driver 550.54.14 vs 535.54.03" in out and "minor-version compatibility only" in out
    assert "not compared" not in out


def test_reference_missing_or_mixed_with_two_snapshots_is_a_usage_error(env, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "REFERENCE_FILE", tmp_path / "absent.json")
    assert cli.main(["diff", "--reference"]) == 3
    assert "no reference snapshot" in capsys.readouterr().err
    assert cli.main(["diff", "a.json"]) == 3
    assert cli.main(["diff", "a.json", "--reference", "b.json"]) == 3
