"""Our devcontainer features, tested the way the official features repo tests its own:
`devcontainer features test` builds each scenario on a real engine and runs its check script."""

from __future__ import annotations

import pytest

from conftest import REPO, run

pytestmark = pytest.mark.integration
FEATURE = REPO / "features/src/jupyterlab"
SCENARIOS = {
    "jupyterlab": ["jupyterlab", "custom_port_no_autostart", "kernel_from_project_env"],
    "env-doctor": ["env-doctor", "project_env"],
}


@pytest.mark.parametrize("feature", list(SCENARIOS))
def test_feature_scenarios(docker, test_base_image, tmp_path, feature):
    log = tmp_path / "features-test.log"
    result = run(["devcontainer", "features", "test", "--project-folder", str(REPO / "features"),
                  "--features", feature, "--base-image", test_base_image,
                  "--log-level", "info"], log=log, check=False, timeout=1800)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    for scenario in SCENARIOS[feature]:
        assert f"Passed:      '{scenario}'" in output, scenario


@pytest.mark.parametrize("env, message", [
    ({"KERNELPYTHON": "/nope/python"}, "is not an executable interpreter"),
    ({"KERNELPYTHON": "/usr/bin/python3"}, "has no ipykernel"),
    ({"PORT": "88a"}, "port must be a number"),
    ({"PORT": "70000"}, "port must be from 1 to 65535"),
    ({"KERNELNAME": "my kernel"}, "kernelName may hold only"),
    ({"AUTOSTART": "yes"}, "autoStart must be true or false"),
])
def test_refused_options_stop_before_changing_anything(docker, test_base_image, env, message):
    flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    script = "apt-get update -qq && apt-get install -y -qq python3 >/dev/null && " \
             "/feature/install.sh; rc=$?; test -e /opt/jupyterlab && echo LEFTOVER; exit $rc"
    result = run([docker, "run", "--rm", *flags, "-v", f"{FEATURE}:/feature:ro", test_base_image,
                  "sh", "-c", script], check=False, timeout=600)
    assert result.returncode != 0
    assert message in result.stderr
    assert "LEFTOVER" not in result.stdout
