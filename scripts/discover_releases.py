"""Find the framework releases on the package index that data/versions.yml lacks, and write their facts.

    python scripts/discover_releases.py                  # list what is missing and its facts; exit 1 if anything is
    python scripts/discover_releases.py --write          # also write them into data/versions.yml, then run sync.py
    python scripts/discover_releases.py --write --min-driver 13.2=595.45.04   # a CUDA release new to the data

What counts as missing: for every framework, the newest release of each minor series newer than the
newest release in the data (0.9.2 and 0.10.2 when the data ends at 0.8.1, and 0.8.3 if it exists).
Pre-releases and yanked releases are left out.

Every fact comes from the wheels' own metadata, read from the index the package clients here use
(UV_DEFAULT_INDEX, UV_INDEX_URL, PIP_INDEX_URL, pip's configured index-url, else pip's default):
  - python: the CPython tags of the release's Linux x86_64 wheels (for JAX, of jaxlib's wheels);
  - cuda and cudnn: the CUDA runtime (nvidia-cuda-runtime, or cuda-toolkit[cudart]) and nvidia-cudnn
    requirements of the CUDA build (torch's
    own dependencies, TensorFlow's [and-cuda] extra, the with-cuda extra of JAX's CUDA plugins):
    an exact pin gives major.minor, a range the major alone;
  - JAX's CUDA majors: the cudaNN extras of the jax release.
Two facts are not in any package metadata:
  - a CUDA release's minimum driver: the command stops when a release needs a CUDA the data does not
    know and names NVIDIA's document to read; rerun with --min-driver X.Y=DRIVER;
  - compute capabilities (they live in the binaries): carried forward from the newest earlier
    release of the same framework built for the same CUDA (else for the same CUDA major), said so in
    the output and in a comment on the written line; without such a release the command stops
    (give --compute NAME==VERSION=LOW,HIGH).

--record FILE saves the index metadata it read (file names and the relevant metadata fields, no
URLs) as JSON; --index-record FILE reads such a recording instead of the network (the tests do).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name as normalize  # PEP 503 project names
from packaging.version import InvalidVersion, Version

from scripts.releases.data import write_releases
from scripts.releases.facts import DRIVER_DOC, Refused, Release, discover
from scripts.releases.index import DISTRIBUTIONS, ROOT, WHEEL, LiveIndex, RecordedIndex

DATA = ROOT / "data/versions.yml"


def recorded_versions(index: LiveIndex, data: dict) -> dict[str, set[str]]:
    """Per project, the versions whose files a replay needs: those newer than the data's newest
    (the frameworks, and jaxlib beside jax) and those whose metadata was read."""
    keep: dict[str, set[str]] = {}
    for filename in index.metadata_texts:
        match = WHEEL.match(filename)
        keep.setdefault(normalize(match["name"]), set()).add(match["version"])
    for framework, distribution in DISTRIBUTIONS.items():
        newest = max(Version(v) for v in data["frameworks"][framework]["releases"])
        for name in [distribution, *(["jaxlib"] if distribution == "jax" else [])]:
            if name in index.projects:
                keep.setdefault(name, set()).update(
                    v for v in index.projects[name]["versions"] if _newer(v, newest))
    return keep


def _newer(text: str, than: Version) -> bool:
    try:
        return Version(text) > than
    except InvalidVersion:
        return False


def pairs(values: list[str], what: str) -> dict[str, str]:
    result = {}
    for value in values:
        key, sep, fact = value.partition("=")
        if not sep or not key or not fact:
            sys.exit(f"error: {what} takes KEY=VALUE, got '{value}'")
        result[key] = fact
    return result


def describe(release: Release) -> str:
    compute = f"compute {release.compute[0]} to {release.compute[1]}"
    compute += (f" (carried forward from {release.framework} {release.compute_from}: compute "
                "capabilities are not in package metadata)" if release.compute_from else " (given)")
    return (f"{release.framework} {release.version}: Python {', '.join(release.python)}; CUDA {', '.join(release.cuda)}; "
            f"cuDNN {release.cudnn}; {compute}\n    from: {'; '.join(release.evidence)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the releases into data/versions.yml and run sync.py")
    parser.add_argument("--min-driver", action="append", default=[], metavar="X.Y=DRIVER",
                        help="minimum driver of a CUDA release new to the data (NVIDIA's release notes)")
    parser.add_argument("--compute", action="append", default=[], metavar="NAME==VERSION=LOW,HIGH",
                        help="compute capabilities of a release no earlier release shares its CUDA with")
    parser.add_argument("--data", type=Path, default=DATA, help=argparse.SUPPRESS)
    parser.add_argument("--record", type=Path, help="save the index metadata read, as JSON (test fixtures)")
    parser.add_argument("--index-record", type=Path, help="read a --record file instead of the index")
    args = parser.parse_args(argv)
    drivers = pairs(args.min_driver, "--min-driver")
    compute = {}
    for value in args.compute:
        key, sep, bounds = value.rpartition("=")
        if not sep or bounds.count(",") != 1:
            sys.exit(f"error: --compute takes NAME==VERSION=LOW,HIGH, got '{value}'")
        compute[key] = bounds.split(",")
    text = args.data.read_text()
    data = yaml.safe_load(text)
    index = RecordedIndex(args.index_record) if args.index_record else LiveIndex()
    try:
        releases, new_cuda = discover(data, index, drivers, compute)
    except Refused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 2
    finally:
        if args.record and isinstance(index, LiveIndex):
            args.record.write_text(json.dumps(index.recording(recorded_versions(index, data)), indent=1,
                                              sort_keys=True) + "\n")
            print(f"recorded the index metadata read in {args.record}", file=sys.stderr)
    if not releases:
        print("data/versions.yml has every framework release on the index")
        return 0
    print(f"Releases on the index that data/versions.yml lacks ({len(releases)}):")
    for release in releases:
        print("  " + describe(release))
    for cuda in new_cuda:
        print(f"  CUDA {cuda}: new to the data, minimum driver {drivers[cuda]} (given, from {DRIVER_DOC.split(':', maxsplit=1)[0]})")
    if not args.write:
        print("Write them with: python scripts/discover_releases.py --write")
        return 1
    args.data.write_text(write_releases(text, releases, {c: drivers[c] for c in new_cuda}))
    print(f"wrote {args.data.name}; regenerating what derives from it:")
    if args.data.resolve() == DATA:
        return subprocess.run([sys.executable, str(ROOT / "scripts/sync.py")]).returncode
    print(f"  (not the repository's data: run python scripts/sync.py after copying it to {DATA})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
