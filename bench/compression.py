"""gzip against zstd for our layers: the published image as `docker push` writes it (gzip) and the
same image re-compressed to zstd in the registry by skopeo, both pulled by containerd's `ctr`, in
alternating order, each pull into an emptied namespace. Docker 20.10 cannot pull zstd layers
(Docker 23 and newer, and containerd 1.5 and newer, as in Kubernetes, can), so both pulls go
through the containerd that Docker runs: download, decompression and unpacking into the overlay
snapshotter, what a node or a newer Docker does. The decompression alone is timed on the image's
largest layer too, with the reference tools (gzip -d, zstd -d)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.projects import Projects
from bench.shell import log, quiet, sh
from bench.shipping import BENCH_IMAGE, alternating_pulls, published
from testbed.testbed import API, REGISTRY, containerd_socket, layers, require_registry, split

NAMESPACE = "mltemplate-bench"  # containerd namespace of the pulls: never Docker's own (moby)
BLOB_INFO_CACHE = "/var/lib/containers/cache/blob-info-cache-v1.boltdb"  # skopeo's, run as root


def recompress(source: str, target: str) -> None:
    """source's layers as zstd under target, in the registry. Through an uncompressed copy, with
    skopeo's blob cache emptied: skopeo 1.9 (Debian 12) has no option to force a compression and
    would otherwise reuse the gzip blobs it knows are already there (later skopeo has --force-compress-format:
    https://github.com/containers/skopeo/pull/2682). zstd layers need an OCI manifest."""
    if not shutil.which("skopeo"):
        raise SystemExit("compression: skopeo is missing (apt-get install skopeo)")
    plain = "127.0.0.1:5000"  # skopeo speaks plain HTTP to it with --*-tls-verify=false
    with tempfile.TemporaryDirectory(prefix="bench-uncompressed-") as folder:
        sh(["skopeo", "copy", "--quiet", "--src-tls-verify=false", "--dest-decompress",
            f"docker://{source.replace(REGISTRY, plain)}", f"dir:{folder}"])
        Path(BLOB_INFO_CACHE).unlink(missing_ok=True)
        sh(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--format", "oci", "--dest-compress-format", "zstd",
            f"dir:{folder}", f"docker://{target.replace(REGISTRY, plain)}"])


def ctr(socket: str, *args: str) -> list[str]:
    return ["ctr", "--address", socket, "--namespace", NAMESPACE, *args]


def forget(socket: str) -> None:
    """An emptied namespace: images removed with their content and snapshots (--sync waits for
    containerd's garbage collection)."""
    for image in sh(ctr(socket, "images", "ls", "-q")).split():
        quiet(ctr(socket, "images", "rm", "--sync", image))
    for digest in sh(ctr(socket, "content", "ls", "-q")).split():
        quiet(ctr(socket, "content", "rm", digest))


def pull(socket: str, image: str) -> float:
    start = time.monotonic()
    sh(ctr(socket, "images", "pull", "--plain-http", image))
    return time.monotonic() - start


def decompression_seconds(image: str, tool: list[str]) -> float:
    """The image's largest layer, downloaded, then decompressed to nothing by tool."""
    name, _ = split(image)
    digest, _ = max(layers(image), key=lambda layer: layer[1])
    with tempfile.NamedTemporaryFile(prefix="bench-layer-") as blob:
        with urllib.request.urlopen(f"{API}/{name}/blobs/{digest}", timeout=600) as response:
            shutil.copyfileobj(response, blob)
        blob.flush()
        start = time.monotonic()
        subprocess.run([*tool, blob.name], stdout=subprocess.DEVNULL, check=True)
        return time.monotonic() - start


def compare(socket: str, gzip: str, zstd: str, runs: int) -> dict:
    """Pulls of both in alternating order, then the largest layer decompressed by each tool."""
    pulls, order = alternating_pulls("compression", gzip, zstd, runs, lambda: forget(socket), lambda ref: pull(socket, ref))
    forget(socket)
    decompress: dict[str, list] = {"gzip": [], "zstd": []}
    for run in range(1, runs + 1):
        log(f"compression run {run}/{runs}: the largest layer decompressed (gzip -d, zstd -d)")
        decompress["gzip"].append(decompression_seconds(gzip, ["gzip", "-dc"]))
        decompress["zstd"].append(decompression_seconds(zstd, ["zstd", "-dcq"]))
    return {"figures": {"pull_gzip_s": pulls[gzip], "pull_zstd_s": pulls[zstd],
                        "decompress_largest_gzip_s": decompress["gzip"], "decompress_largest_zstd_s": decompress["zstd"],
                        "gzip_bytes": [sum(size for _, size in layers(gzip))], "zstd_bytes": [sum(size for _, size in layers(zstd))]},
            "details": {"pull_order": ["gzip" if ref == gzip else "zstd" for ref in order]}}


def measure_compression(projects: Projects, runs: int) -> dict:
    """The ship group's published image (published again if the registry lost it), gzip vs zstd."""
    require_registry()
    gzip, zstd = published(projects), f"{BENCH_IMAGE}:zstd"
    log(f"compression: {gzip} re-compressed to zstd as {zstd} (skopeo)")
    recompress(gzip, zstd)
    return compare(containerd_socket(), gzip, zstd, runs)
