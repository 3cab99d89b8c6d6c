#!/bin/sh
# Pins the Dockerfile's base image to the digest it has now, so every build starts from the same
# bytes: `ARG BASE_IMAGE=debian:bookworm` becomes `ARG BASE_IMAGE=debian:bookworm@sha256:...`.
# Run it again to move to a newer base. Needs docker and a reachable registry; without one it
# changes nothing and says so.
set -eu
cd "$(dirname "$0")"

line="$(grep -m1 '^ARG BASE_IMAGE=' Dockerfile)" || { echo "error: no 'ARG BASE_IMAGE=' line in .devcontainer/Dockerfile" >&2; exit 1; }
image="${line#ARG BASE_IMAGE=}"
image="${image%@*}"   # re-pinning: drop the old digest

echo "Pulling $image to read its digest..."
if ! docker pull -q "$image" >/dev/null 2>&1; then
    echo "error: could not pull $image: no registry reachable (offline, or blocked by a proxy)." >&2
    echo "       The Dockerfile is unchanged and still uses the tag $image, unpinned." >&2
    echo "       Run this script again where the registry can be reached." >&2
    exit 1
fi
digest="$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$image" | head -n 1)"
if [ -z "$digest" ]; then
    echo "error: $image has no registry digest (it was built or imported locally); nothing to pin." >&2
    exit 1
fi
pinned="$image@${digest#*@}"
sed "s|^ARG BASE_IMAGE=.*|ARG BASE_IMAGE=$pinned|" Dockerfile > Dockerfile.pinning && mv Dockerfile.pinning Dockerfile
echo "Pinned: ARG BASE_IMAGE=$pinned"
