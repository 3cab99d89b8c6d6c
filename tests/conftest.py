"""Session fixtures: the Docker Engine and the test base image. Helpers live in tests/utils/."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.utils.figures import FIGURES

# tests/utils/docker.py and project.py import the Docker SDK and copier: imported by the fixtures
# that need them, so that tests/gpu runs on a GPU machine that has neither.

TEST_BASE_IMAGE = "mltemplate-test-base:bookworm"


@pytest.fixture(scope="session")
def docker(tmp_path_factory):
    """The docker client, also first on PATH: `devcontainer features test` has no --docker-path.
    At the end of the session, the devcontainer CLI's images the tests built are removed."""
    from tests.utils.docker import require_engine

    client = require_engine()
    if client != "docker":
        shim = tmp_path_factory.mktemp("docker-shim")
        (shim / "docker").symlink_to(shutil.which(client))
        os.environ["PATH"] = f"{shim}{os.pathsep}{os.environ['PATH']}"
    before = devcontainer_cli_images()
    yield client
    remove_images(devcontainer_cli_images() - before)


def devcontainer_cli_images() -> set[str]:
    """The images the devcontainer CLI built (it names them vsc-<folder>-<hash>[-features][-uid])."""
    from tests.utils.docker import engine

    try:
        return {tag for image in engine().images.list() for tag in image.tags if tag.startswith("vsc-")}
    except Exception:  # no engine: nothing to tidy
        return set()


def remove_images(tags: set[str]) -> None:
    """Remove what this session's tests built and left (a contributor's own vsc- images from before
    the session are kept), so that repeated runs do not fill the disk."""
    from tests.utils.docker import engine

    for tag in sorted(tags):
        try:
            engine().images.remove(tag, force=True)
        except Exception:  # in use, or already gone
            pass


@pytest.fixture(scope="session")
def test_base_image(docker) -> str:
    """debian:bookworm that trusts this machine's CA bundle, for feature tests outside the template,
    built by testbed/make-feature-test-base.sh (the documented way to run a feature test alone).

    (Generated projects get the same trust through .devcontainer/certs, the template's own way.)
    """
    from tests.utils.docker import run
    from tests.utils.project import HOST_CA_BUNDLE, REPO

    run([str(REPO / "testbed/make-feature-test-base.sh")],
        env={"DOCKER": docker, "FEATURE_TEST_BASE": TEST_BASE_IMAGE, "CA_BUNDLE": str(HOST_CA_BUNDLE)})
    return TEST_BASE_IMAGE


def pytest_terminal_summary(terminalreporter):
    """The figures the integration tests measured (tests/utils/figures.py), in every CI log."""
    if FIGURES:
        terminalreporter.section("figures measured by the tests")
        for line in FIGURES:
            terminalreporter.write_line(line)
