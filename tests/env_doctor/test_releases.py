"""The releases check: a project whose uv.lock is behind the newest framework release in the
template's data (env-doctor's copy of versions.yml) is told so, with the command that rolls it in."""

from __future__ import annotations

import pytest
from env_doctor.common import EXIT_OK, EXIT_PROBLEMS, load_versions

from resolver.versions import version_key
from tests.utils.env_doctor_cli import checks, report, run


def newest(framework: str, python: str) -> str:
    releases = load_versions()["frameworks"][framework]["releases"]
    return max((v for v, r in releases.items() if python in r["python"]), key=version_key)


def project(tmp_path, answer: str, locked: str, framework: str = "pytorch", package: str = "torch") -> None:
    """A generated project in the current folder: its answers and a uv.lock (as uv writes it)."""
    (tmp_path / ".copier-answers.yml").write_text(
        f"_commit: 1.0.0\n_src_path: gh:team/ml-template\nframework: {framework}\n"
        f"framework_version: {answer}\npython_version: '3.12'\naccelerator: cuda\n")
    (tmp_path / "uv.lock").write_text(
        'version = 1\nrequires-python = "==3.12.*"\n\n[[package]]\nname = "numpy"\nversion = "2.1.0"\n'
        f'source = {{ registry = "https://index.example/simple" }}\n\n[[package]]\nname = "{package}"\n'
        f'version = "{locked}"\nsource = {{ registry = "https://index.example/simple" }}\n')


def test_pinned_project_behind_the_template_is_told_how_to_roll_in(env, tmp_path, capsys):
    project(tmp_path, answer="2.10.0", locked="2.10.0")
    code, data = report(capsys)
    [release] = checks(data, "releases")
    assert release["status"] == "info" and code == EXIT_OK  # a deliberate pin is not a problem
    assert f"the template has torch {newest('pytorch', '3.12')} for Python 3.12" in release["message"]
    assert "uv.lock has 2.10.0" in release["message"]
    assert "copier update --trust --data framework_version=latest" in release["message"]
    _, out = run(capsys)
    assert "releases" in out and "framework_version=latest" in out  # in the report users read


def test_latest_project_behind_is_a_warning_shown_at_container_start(env, tmp_path, capsys):
    project(tmp_path, answer="latest", locked="2.10.0")
    code, data = report(capsys)
    [release] = checks(data, "releases")
    assert release["status"] == "warn" and code == EXIT_PROBLEMS
    assert "copier update --trust" in release["hint"]
    run(capsys, "--on-start")
    out = capsys.readouterr().out + run(capsys, "--quiet")[1]
    assert "WARN releases" in out and "copier update --trust" in out


@pytest.mark.parametrize("locked", ["newest", "newest+cpu"])
def test_current_project_is_ok(env, tmp_path, capsys, locked):
    project(tmp_path, answer="latest", locked=locked.replace("newest", newest("pytorch", "3.12")))
    code, data = report(capsys)
    assert [c["status"] for c in checks(data, "releases")] == ["ok"] and code == EXIT_OK


def test_jax_project_reads_its_own_package(env, tmp_path, capsys):
    project(tmp_path, answer="0.8.1", locked="0.8.1", framework="jax", package="jax")
    _, data = report(capsys)
    assert f"the template has jax {newest('jax', '3.12')}" in checks(data, "releases")[0]["message"]


def test_no_template_answers_no_check(env, tmp_path, capsys):
    (tmp_path / "uv.lock").write_text('version = 1\n')
    _, data = report(capsys)
    assert checks(data, "releases") == []
