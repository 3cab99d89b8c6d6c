"""env-doctor against the real driver: what NVML sees, its check and its JSON, its facts against
NVML, a snapshot and its diff with a CPU snapshot, `watch` of a GPU load and `bench`
(docs/gpu-check.md). The judging is in tests/utils/gpu_check.py."""

from __future__ import annotations

import pytest

from tests.utils import gpu_check

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def checked(env_doctor, python, lock_project, gpu, out) -> tuple[list[dict], dict | None]:
    return gpu_check.check_env_doctor(env_doctor, python, lock_project, gpu, out)


@pytest.fixture(scope="module")
def snapshot(env_doctor, python, lock_project, nvml, out) -> tuple[list[dict], dict]:
    return gpu_check.check_snapshot(env_doctor, python, lock_project, nvml, gpu_check.CPU_SNAPSHOT, out)


@pytest.fixture(scope="module")
def watch(env_doctor, python, gpu, out) -> tuple[list[dict], dict | None]:
    return gpu_check.check_watch(env_doctor, python, gpu, out)


@pytest.fixture(scope="module")
def bench(env_doctor, python, gpu, out) -> tuple[list[dict], dict | None]:
    return gpu_check.check_bench(env_doctor, python, gpu, out)


def test_nvml_sees_the_gpu(nvml, log, verdict):
    verdict([gpu_check.check_gpu(nvml, nvml["kernel_gpus"])])


def test_env_doctor_check_exits_0(checked, verdict):
    """`env-doctor check --json`, with --require-gpu on a GPU machine."""
    verdict(checked[0])


def test_env_doctor_facts_match_nvml(checked, nvml, verdict):
    report = checked[1]
    if report is None:
        pytest.fail("env-doctor printed no JSON report (see test_env_doctor_check_exits_0)")
    verdict(gpu_check.check_report_facts(report, nvml))


def test_snapshot_and_its_diff_with_a_cpu_snapshot(snapshot, verdict):
    verdict(snapshot[0])


def test_watch_of_a_load(watch, verdict):
    verdict(watch[0])


def test_bench(bench, verdict):
    verdict(bench[0])


@pytest.mark.parametrize("kind", ["check", "snapshot", "diff", "watch", "bench"])
def test_json_matches_the_schema(kind, checked, snapshot, watch, bench, verdict):
    """Each JSON document env-doctor wrote against features/src/env-doctor/report.schema.json."""
    document = {"check": checked[1], "watch": watch[1], "bench": bench[1], **snapshot[1]}.get(kind)
    name = f"env-doctor {kind} JSON schema"
    if document is None:
        pytest.fail(f"env-doctor wrote no {kind} document (see its own test)")
    try:
        errors = gpu_check.schema_errors(document, kind)
    except ImportError:
        verdict([gpu_check.result(name, gpu_check.SKIP, f"jsonschema is not importable by this Python: the {kind} document "
                                  "is kept in the output folder, validate it where jsonschema is (docs/gpu-check.md)")])
        return
    verdict([gpu_check.result(name, gpu_check.FAIL if errors else gpu_check.PASS,
                              "; ".join(errors[:5]) or f"matches $defs/{kind} of {gpu_check.SCHEMA_FILE.name}")])
