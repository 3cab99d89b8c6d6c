#!/usr/bin/env bash
# Builds the base image the feature tests run on: debian:bookworm that trusts this machine's CA
# bundle (HTTPS downloads here may go through a TLS-intercepting proxy), tagged
# mltemplate-test-base:bookworm. Run it once before `devcontainer features test` from a clean
# checkout; the pytest fixture and testbed/prepare-test-machine.sh run it too.
#
#   testbed/make-feature-test-base.sh
#   devcontainer features test -p features -f env-doctor -i mltemplate-test-base:bookworm
#
# Environment: DOCKER (client, default docker), FEATURE_TEST_BASE (image to build), FROM_IMAGE
# (default debian:bookworm; must exist locally or be pullable), CA_BUNDLE (default the system
# bundle /etc/ssl/certs/ca-certificates.crt).
set -euo pipefail

DOCKER="${DOCKER:-docker}"
IMAGE="${FEATURE_TEST_BASE:-mltemplate-test-base:bookworm}"
FROM_IMAGE="${FROM_IMAGE:-debian:bookworm}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

[ -r "$CA_BUNDLE" ] || { echo "error: CA bundle $CA_BUNDLE not readable (set CA_BUNDLE)" >&2; exit 1; }
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp "$CA_BUNDLE" "$context/host-ca.crt"
cat >"$context/Dockerfile" <<EOF
FROM $FROM_IMAGE
COPY host-ca.crt /usr/local/share/ca-certificates/host-ca.crt
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \\
    && update-ca-certificates && rm -rf /var/lib/apt/lists/*
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
EOF
echo "==> building $IMAGE from $FROM_IMAGE, trusting $CA_BUNDLE"
"$DOCKER" build -q -t "$IMAGE" "$context" >/dev/null
echo "==> $IMAGE ready"
