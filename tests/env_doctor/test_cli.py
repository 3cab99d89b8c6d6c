"""env-doctor's command line (env_doctor/cli.py): --quiet, --on-start, usage errors, the JSON
report."""

from __future__ import annotations

import pytest
from env_doctor import cli, common
from env_doctor.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, STATUS_ORDER

from tests.utils.env_doctor_cli import report, run
from tests.utils.fake_nvml import H100, FakeNVML, torch_fw


def test_quiet_prints_nothing_when_all_is_well(env, capsys):
    code, out = run(capsys, "--quiet")
    assert (code, out) == (EXIT_OK, "")


def test_on_start_never_fails_and_honours_check_on_start(env, capsys, monkeypatch):
    env.shm = 64 * 2**20
    code, out = run(capsys, "--on-start")
    assert code == 0 and "WARN shm" in out
    common.SETTINGS_FILE.write_text('{"projectPython": "", "checkOnStart": false}')
    assert run(capsys, "--on-start") == (0, "")
    common.SETTINGS_FILE.write_text('{"projectPython": "", "checkOnStart": true}')
    monkeypatch.setattr(cli, "collect", lambda *a: 1 / 0)
    assert cli.main(["--on-start"]) == 0
    assert "internal error" in capsys.readouterr().err


def test_missing_project_python_is_an_error(env, capsys):
    env.python_error = "project interpreter /opt/venv/bin/python not found"
    code, out = run(capsys)
    assert "not found" in out and "projectPython" in out
    assert code == EXIT_PROBLEMS


def test_project_python_option_is_used(env, capsys):
    common.SETTINGS_FILE.write_text('{"projectPython": "/srv/env/bin/python", "checkOnStart": true}')
    _, data = report(capsys)
    assert data["project_python"]["path"] == "/srv/env/bin/python"


def test_usage_error_exits_3(env, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--no-such-option"])
    assert exit_info.value.code == EXIT_USAGE == 3


def test_json_schema_keys(env, capsys):
    env.nvml = FakeNVML(gpus=[H100])
    env.frameworks = [torch_fw()]
    code, data = report(capsys)
    assert set(data) >= {"schema_version", "kind", "env_doctor", "project_python", "driver", "gpus",
                         "cuda_libraries", "frameworks", "shm", "cpu", "os", "lockfile", "package_count",
                         "checks", "problems", "exit_code"}
    assert data["schema_version"] == 1 and data["kind"] == "check" and data["exit_code"] == code
    assert set(data["gpus"][0]) == {"index", "name", "uuid", "memory_total_bytes", "memory_used_bytes",
                                    "utilization_percent", "compute_capability"}
    assert data["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3" and data["gpus"][0]["compute_capability"] == "9.0"
    assert data["driver"] == {"available": True, "version": "550.54.14", "cuda": "12.4", "error": None}
    assert all(set(c) == {"name", "status", "message", "hint"} for c in data["checks"])
    assert all(c["status"] in STATUS_ORDER for c in data["checks"])
