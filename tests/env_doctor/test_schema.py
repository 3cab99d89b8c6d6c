"""features/src/env-doctor/report.schema.json against what env-doctor prints (fake NVML, with and
without a GPU), checked by jsonschema as the GPU checks check it (tests/utils/gpu_check.py
schema_errors): it accepts the real output and refuses a broken report, saying where."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from tests.utils.env_doctor_cli import report, run
from tests.utils.fake_nvml import H100, FakeNVML, torch_fw
from tests.utils.gpu_check import SCHEMA_FILE, schema_errors

SCHEMA = json.loads(SCHEMA_FILE.read_text())


def jsonschema_errors(document, kind):
    validator = jsonschema.Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": SCHEMA["$defs"]})
    return list(validator.iter_errors(document))


def test_schema_file_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.fixture
def gpu_report(env, capsys, monkeypatch, tmp_path):
    """A real `env-doctor --json` report (fake NVML: one H100, torch with CUDA), in a project that
    names its data path and cache folder."""
    monkeypatch.setenv("PROJECT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PROJECT_CACHE_DIR", str(tmp_path / "absent"))
    env.nvml = FakeNVML(gpus=[H100])
    env.frameworks = [torch_fw(), {"name": "jax", "error": "ImportError: no jaxlib"}]
    return report(capsys)[1]


def test_env_doctor_output_validates_with_and_without_gpu(gpu_report, env, capsys, tmp_path):
    """What env-doctor prints (check, snapshot, diff) matches the schema."""
    _, gpu_snapshot = run(capsys, "snapshot")
    env.nvml, env.frameworks = FakeNVML(init_error="NVML Shared Library Not Found"), []
    _, cpu_report = report(capsys)
    _, cpu_snapshot = run(capsys, "snapshot")
    (tmp_path / "cpu.json").write_text(cpu_snapshot)
    (tmp_path / "gpu.json").write_text(gpu_snapshot)
    _, differences = run(capsys, "diff", "--json", str(tmp_path / "cpu.json"), str(tmp_path / "gpu.json"))
    differences = json.loads(differences)
    assert cpu_report["gpus"] == [] and {d["group"] for d in differences["differences"]} >= {"driver", "GPUs"}
    for document, kind in [(gpu_report, "check"), (cpu_report, "check"), (json.loads(gpu_snapshot), "snapshot"),
                           (json.loads(cpu_snapshot), "snapshot"), (differences, "diff")]:
        assert schema_errors(document, kind) == [], kind
        assert jsonschema_errors(document, kind) == [], kind


BREAKAGES = {
    "a required key removed": (lambda r: r.pop("driver"), "'driver' is a required property"),
    "an int as a string": (lambda r: r.update(exit_code="0"), "$.exit_code"),
    "a bool as an int": (lambda r: r["driver"].update(available=1), "$.driver.available"),
    "a status outside the enum": (lambda r: r["checks"][0].update(status="fine"), "$.checks[0].status"),
    "a GPU without compute capability key": (lambda r: r["gpus"][0].pop("compute_capability"), "compute_capability"),
    "an undocumented top-level key": (lambda r: r.update(extra=True), "('extra' was unexpected)"),
    "the wrong kind": (lambda r: r.update(kind="snapshot"), "$.kind"),
    "a broken lockfile hash": (lambda r: r.update(lockfile={"path": "uv.lock", "sha256": "xyz"}), "$.lockfile"),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES), ids=str)
def test_schema_validation_refuses_a_broken_report(gpu_report, breakage):
    broken = copy.deepcopy(gpu_report)
    change, where = BREAKAGES[breakage]
    change(broken)
    errors = schema_errors(broken, "check")
    assert errors and any(where in e for e in errors), errors


def test_snapshot_must_leave_out_volatile_gpu_fields(gpu_report, capsys):
    snap = json.loads(run(capsys, "snapshot")[1])
    assert schema_errors(snap, "snapshot") == []
    snap["gpus"][0]["utilization_percent"] = 3
    assert any("utilization_percent" in e for e in schema_errors(snap, "snapshot"))
