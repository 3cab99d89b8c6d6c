"""Session fixtures: the Docker Engine and the test base image. Helpers live in tests/utils/."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.utils.docker import require_engine, run
from tests.utils.project import HOST_CA_BUNDLE

TEST_BASE_IMAGE = "mltemplate-test-base:bookworm"


@pytest.fixture(scope="session")
def docker(tmp_path_factory) -> str:
    """The docker client, also first on PATH: `devcontainer features test` has no --docker-path."""
    client = require_engine()
    if client != "docker":
        shim = tmp_path_factory.mktemp("docker-shim")
        (shim / "docker").symlink_to(shutil.which(client))
        os.environ["PATH"] = f"{shim}{os.pathsep}{os.environ['PATH']}"
    return client


@pytest.fixture(scope="session")
def test_base_image(docker, tmp_path_factory) -> str:
    """debian:bookworm that trusts this machine's CA bundle, for feature tests outside the template.

    (Generated projects get the same trust through .devcontainer/certs, the template's own way.)
    """
    context = tmp_path_factory.mktemp("test-base")
    shutil.copy(HOST_CA_BUNDLE, context / "host-ca.crt")
    (context / "Dockerfile").write_text(
        "FROM debian:bookworm\n"
        "COPY host-ca.crt /usr/local/share/ca-certificates/host-ca.crt\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates "
        "&& update-ca-certificates && rm -rf /var/lib/apt/lists/*\n"
        "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt\n"
    )
    run([docker, "build", "-q", "-t", TEST_BASE_IMAGE, str(context)])
    return TEST_BASE_IMAGE
