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
import io
import json
import os
import re
import subprocess
import sys
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as normalize  # PEP 503 project names
from packaging.version import InvalidVersion, Version

# Run by its path, so only its own folder is on sys.path: the repository root goes there too, for
# the template's own modules under hooks/ (hooks/versions.py: the version data and its sort key).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hooks.versions import version_key

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data/versions.yml"
JSON_API = "application/vnd.pypi.simple.v1+json"
# Where the facts that package metadata cannot give come from.
DRIVER_DOC = ("NVIDIA's CUDA Toolkit Release Notes, table 'CUDA Toolkit and Corresponding Driver Versions', "
              "Linux x86_64 driver of the GA release: https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/")
COMPAT_DOC = ("NVIDIA's CUDA Compatibility guide, minor-version compatibility driver of the major: "
              "https://docs.nvidia.com/deploy/cuda-compatibility/")
METADATA_FIELDS = ("Metadata-Version", "Name", "Version", "Requires-Python", "Requires-Dist", "Provides-Extra")
WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")
RUNTIME = re.compile(r"^nvidia-cuda-runtime(?:-cu(\d+))?$")
CUDNN = re.compile(r"^nvidia-cudnn-cu(\d+)$")
DISTRIBUTIONS = {"pytorch": "torch", "tensorflow": "tensorflow", "jax": "jax"}  # what the index calls them


class Refused(Exception):
    """A fact that cannot be derived: the message says where a maintainer finds it."""


# --- the index --------------------------------------------------------------------------------------

def index_url() -> str:
    """The simple index the package clients here use; nothing hard-coded."""
    for variable in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"):
        if os.environ.get(variable):
            return os.environ[variable].rstrip("/")
    configured = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                                capture_output=True, text=True)
    if configured.returncode == 0 and configured.stdout.strip():
        return configured.stdout.strip().rstrip("/")
    try:
        from pip._internal.models.index import PyPI  # pip's own default index
    except ImportError:
        sys.exit("error: no package index configured: set UV_DEFAULT_INDEX (or install pip)")
    return PyPI.simple_url.rstrip("/")


class RangeFile(io.RawIOBase):
    """A remote file read with HTTP range requests: zipfile finds a wheel's METADATA without
    downloading the wheel (some wheels are gigabytes; indexes without PEP 658 files need this)."""

    BLOCK = 1 << 18

    def __init__(self, url: str, size: int):
        super().__init__()
        self.url, self.size, self.pos = url, size, 0
        self.buffer_start, self.buffer = 0, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.pos = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence] + offset
        return self.pos

    def readinto(self, target) -> int:
        wanted = min(len(target), self.size - self.pos)
        if wanted <= 0:
            return 0
        end = self.pos + wanted
        if not (self.buffer_start <= self.pos and end <= self.buffer_start + len(self.buffer)):
            start = self.pos if end - self.pos >= self.BLOCK else max(0, min(self.pos, self.size - self.BLOCK))
            stop = min(self.size, max(end, start + self.BLOCK))
            request = urllib.request.Request(self.url, headers={"Range": f"bytes={start}-{stop - 1}"})
            with urllib.request.urlopen(request, timeout=120) as response:
                if response.status != 206:
                    raise OSError(f"the index does not answer range requests for {self.url.rsplit('/', 1)[-1]}")
                self.buffer_start, self.buffer = start, response.read()
        offset = self.pos - self.buffer_start
        target[:wanted] = self.buffer[offset:offset + wanted]
        self.pos = end
        return wanted


def filtered_metadata(text: str) -> str:
    return "".join(line + "\n" for line in text.splitlines() if line.split(":", 1)[0] in METADATA_FIELDS)


class LiveIndex:
    """The package index over its JSON simple API (PEP 691); remembers what it read for --record."""

    def __init__(self, url: str | None = None):
        self.url = url or index_url()
        self.projects: dict[str, dict] = {}
        self.metadata_texts: dict[str, str] = {}
        self._urls: dict[str, tuple[str, int, bool]] = {}

    def project(self, name: str) -> dict:
        """{"versions": [...], "files": {filename: {"requires-python", "yanked"}}}."""
        name = normalize(name)
        if name not in self.projects:
            request = urllib.request.Request(f"{self.url}/{name}/", headers={"Accept": JSON_API})
            with urllib.request.urlopen(request, timeout=120) as response:
                page = json.loads(response.read())
            files = {}
            for entry in page["files"]:
                files[entry["filename"]] = {"requires-python": entry.get("requires-python"),
                                            "yanked": bool(entry.get("yanked"))}
                self._urls[entry["filename"]] = (entry["url"], entry.get("size") or 0,
                                                 bool(entry.get("core-metadata") or entry.get("data-dist-info-metadata")))
            self.projects[name] = {"versions": page.get("versions") or sorted({_file_version(f) for f in files} - {None}),
                                   "files": files}
        return self.projects[name]

    def metadata(self, filename: str) -> str:
        if filename not in self.metadata_texts:
            url, size, has_metadata_file = self._urls[filename]
            if has_metadata_file:
                with urllib.request.urlopen(url + ".metadata", timeout=120) as response:
                    text = response.read().decode()
            else:
                with zipfile.ZipFile(RangeFile(url, size)) as wheel:
                    member = next(n for n in wheel.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
                    text = wheel.read(member).decode()
            self.metadata_texts[filename] = filtered_metadata(text)
        return self.metadata_texts[filename]

    def recording(self, versions_of: dict[str, set[str]]) -> dict:
        """What was read, small: every version list, the files of the versions looked at, and the
        metadata fields used. No URLs."""
        projects = {}
        for name, project in self.projects.items():
            keep = versions_of.get(name, set())
            projects[name] = {"versions": project["versions"],
                              "files": {f: v for f, v in project["files"].items() if _file_version(f) in keep}}
        return {"projects": projects, "metadata": dict(sorted(self.metadata_texts.items()))}


class RecordedIndex:
    """Index metadata recorded by --record (tests/data/): the same questions, no network."""

    def __init__(self, path: Path):
        recorded = json.loads(Path(path).read_text())
        self.projects, self.metadata_texts = recorded["projects"], recorded["metadata"]

    def project(self, name: str) -> dict:
        return self.projects[normalize(name)]

    def metadata(self, filename: str) -> str:
        return self.metadata_texts[filename]


def _file_version(filename: str) -> str | None:
    match = WHEEL.match(filename)
    if match:
        return match["version"]
    match = re.match(r"^[^-]+-(.+?)\.(?:tar\.gz|zip)$", filename)
    return match[1] if match else None


# --- deriving the facts -----------------------------------------------------------------------------

@dataclass
class Release:
    framework: str
    version: str
    python: list[str]
    cuda: list[str]
    cudnn: str
    compute: list[str] | None = None
    compute_from: str | None = None  # the earlier release the compute capabilities are carried from
    evidence: list[str] = field(default_factory=list)  # the requirements the facts come from

    def line(self) -> str:
        """The release as a line of data/versions.yml, in the file's style."""
        def items(values):
            return "[" + ", ".join(f'"{v}"' for v in values) + "]"
        text = (f'"{self.version}": {{python: {items(self.python)}, cuda: {items(self.cuda)}, '
                f'cudnn: "{self.cudnn}", compute: {items(self.compute)}}}')
        if self.compute_from:
            text += f"  # compute carried forward from {self.compute_from}: not in package metadata"
        return text


def missing_versions(all_versions: list[str], known: list[str], files: dict) -> list[str]:
    """Newest release of each minor series newer than the newest known release, newest first."""
    newest_known = max((Version(v) for v in known), default=Version("0"))
    series: dict[tuple[int, int], Version] = {}
    for text in all_versions:
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if version.is_prerelease or version.is_devrelease or version <= newest_known:
            continue
        release_files = [f for f, info in files.items() if _file_version(f) == text]
        if not release_files or all(files[f]["yanked"] for f in release_files):
            continue
        key = (version.major, version.minor)
        series[key] = max(series.get(key, version), version)
    return [str(v) for v in sorted(series.values(), reverse=True) if str(v) not in known]


def linux_x86_64_wheels(project: dict, version: str) -> dict[str, str]:
    """Python ('3.12') -> the release's CPython wheel for Linux x86_64 (free-threaded builds left out)."""
    found = {}
    for filename, info in project["files"].items():
        match = WHEEL.match(filename)
        if not match or match["version"] != version or info["yanked"]:
            continue
        if "linux" not in match["plat"] or "x86_64" not in match["plat"]:
            continue
        for py in match["py"].split("."):
            tag = re.fullmatch(r"cp3(\d+)", py)
            if tag and match["abi"] in (py, "abi3"):
                if match["abi"] == "abi3":
                    raise Refused(f"{filename}: an abi3 wheel does not name its newest Python")
                found[f"3.{tag[1]}"] = filename
    return found


def any_wheel(project: dict, version: str) -> str | None:
    return next((f for f in sorted(project["files"]) if _file_version(f) == version and f.endswith("-none-any.whl")), None)


def requirements(metadata: str, extra: str | None, python: str) -> list[Requirement]:
    """Requires-Dist entries that apply on Linux x86_64 for that Python (and extra)."""
    environment = {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                   "os_name": "posix", "python_version": python, "python_full_version": f"{python}.0",
                   "implementation_name": "cpython", "platform_python_implementation": "CPython",
                   "extra": extra or ""}
    found = []
    for line in metadata.splitlines():
        if line.startswith("Requires-Dist:"):
            requirement = Requirement(line.split(":", 1)[1].strip())
            if requirement.marker is None or requirement.marker.evaluate(environment):
                if extra is None or (requirement.marker is not None and "extra" in str(requirement.marker)):
                    found.append(requirement)
    return found


def extras(metadata: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Provides-Extra:")]


def level(requirement: Requirement, major: str) -> str:
    """An exact pin gives major.minor ('13.0' of ==13.0.96); any range only the major."""
    pins = [s.version for s in requirement.specifier if s.operator in ("==", "===") and "*" not in s.version]
    if pins:
        parts = pins[0].split(".")
        return f"{parts[0]}.{parts[1]}"
    return major


def cuda_facts(reqs: list[Requirement], where: str) -> tuple[str | None, str | None, list[str]]:
    """(cuda, cudnn, evidence) from the nvidia-cuda-runtime and nvidia-cudnn requirements."""
    cuda = cudnn = None
    evidence = []
    for requirement in reqs:
        name = normalize(requirement.name)
        toolkit = name == "cuda-toolkit" and "cudart" in requirement.extras  # NVIDIA's meta-package (torch 2.15 on)
        if toolkit or (match := RUNTIME.match(name)):
            bounds = [s.version for s in requirement.specifier if s.operator in ("==", "===", ">=", "~=", ">")]
            major = (None if toolkit else match[1]) or (bounds[0].split(".")[0] if bounds else None)
            if major is None:
                raise Refused(f"{where}: {requirement} does not say which CUDA major it is")
            cuda = level(requirement, major)
            evidence.append(str(requirement).split(";")[0])
        elif CUDNN.match(name):
            bounds = [s.version for s in requirement.specifier if s.operator in ("==", "===", ">=", "~=", ">")]
            if not bounds:
                raise Refused(f"{where}: {requirement} does not say which cuDNN it is")
            cudnn = level(requirement, bounds[0].split(".")[0])
            evidence.append(str(requirement).split(";")[0])
    return cuda, cudnn, evidence


def derive(framework: str, version: str, index) -> Release:
    """The facts of one release from its wheels' metadata."""
    if framework == "jax":
        jaxlib = index.project("jaxlib")
        wheels = linux_x86_64_wheels(jaxlib, version)
        jax_wheel = any_wheel(index.project("jax"), version)
        if not wheels or jax_wheel is None:
            raise Refused(f"jax {version}: no jaxlib {version} wheels for Linux x86_64 (or no jax wheel)")
        python = sorted(wheels, key=version_key)
        jax_metadata = index.metadata(jax_wheel)
        cudas, cudnns, evidence = [], set(), []
        for extra in sorted(extras(jax_metadata)):
            if not re.fullmatch(r"cuda\d+", extra):
                continue
            major = extra[4:]
            plugin = next((r for r in requirements(jax_metadata, extra, python[-1])
                           if normalize(r.name) == f"jax-cuda{major}-plugin"), None)
            if plugin is None:
                continue
            plugin_project = index.project(plugin.name)
            plugin_wheel = linux_x86_64_wheels(plugin_project, version).get(python[-1])
            if plugin_wheel is None:
                raise Refused(f"jax {version}: extra {extra} needs {plugin.name} {version}, which has no "
                              f"Linux x86_64 wheel for Python {python[-1]}")
            cuda, cudnn, found = cuda_facts(requirements(index.metadata(plugin_wheel), "with-cuda", python[-1]),
                                            plugin_wheel)
            if cuda is None or cudnn is None:
                raise Refused(f"jax {version}: {plugin_wheel} names no CUDA runtime or cuDNN in its with-cuda extra")
            cudas.append(cuda)
            cudnns.add(cudnn)
            evidence += [f"jax[{extra}] -> {plugin.name}", *found]
        if not cudas:
            raise Refused(f"jax {version}: no cudaNN extra with a CUDA plugin in its metadata")
        if len(cudnns) != 1:
            raise Refused(f"jax {version}: its CUDA plugins need different cuDNNs ({', '.join(sorted(cudnns))})")
        return Release(framework, version, python, sorted(cudas, key=version_key), cudnns.pop(), evidence=evidence)

    distribution, extra = {"pytorch": ("torch", None), "tensorflow": ("tensorflow", "and-cuda")}[framework]
    wheels = linux_x86_64_wheels(index.project(distribution), version)
    if not wheels:
        raise Refused(f"{framework} {version}: no CPython wheels for Linux x86_64")
    python = sorted(wheels, key=version_key)
    newest = wheels[python[-1]]
    cuda, cudnn, evidence = cuda_facts(requirements(index.metadata(newest), extra, python[-1]), newest)
    if cuda is None or cudnn is None:
        raise Refused(f"{framework} {version}: {newest} requires no nvidia-cuda-runtime or nvidia-cudnn"
                      + (f" in its [{extra}] extra" if extra else ""))
    return Release(framework, version, python, [cuda], cudnn, evidence=evidence)


def add_compute(release: Release, data: dict, given: dict[str, list[str]]) -> None:
    """Compute capabilities: given on the command line, else carried forward (never invented)."""
    key = f"{release.framework}=={release.version}"
    if key in given:
        release.compute = given[key]
        return
    known = data["frameworks"][release.framework]["releases"]
    earlier = [v for v in known if known[v].get("compute") and version_key(v) < version_key(release.version)]
    majors = sorted({c.split(".")[0] for c in release.cuda})
    same_cuda = [v for v in earlier if known[v]["cuda"] == release.cuda]
    same_major = [v for v in earlier if sorted({c.split(".")[0] for c in known[v]["cuda"]}) == majors]
    if not same_cuda and not same_major:
        raise Refused(
            f"{release.framework} {release.version} is built for CUDA {', '.join(release.cuda)}, whose major no earlier "
            "release in the data uses: its compute capabilities are in its binaries, not its metadata. Read the "
            f"framework's release notes (or torch.cuda.get_arch_list() in its build) and rerun with "
            f"--compute {key}=LOWEST,HIGHEST")
    source = max(same_cuda or same_major, key=version_key)
    release.compute = list(known[source]["compute"])
    release.compute_from = source if same_cuda else f"{source} (CUDA {', '.join(known[source]['cuda'])}, same major)"


def check_cuda_known(release: Release, data: dict, drivers: dict[str, str]) -> list[str]:
    """CUDA releases the data must learn first; refuses those whose driver no flag gave."""
    new = []
    for cuda in release.cuda:
        major = cuda.split(".")[0]
        if major not in data["cuda"]["minor_compat_min_driver"]:
            raise Refused(f"{release.framework} {release.version} needs CUDA {cuda}, a major new to data/versions.yml: "
                          f"add its cuda.minor_compat_min_driver (from {COMPAT_DOC}) and its full-support driver "
                          f"(from {DRIVER_DOC}), a cudnn.cuda_majors entry, then rerun")
        if "." in cuda and cuda not in data["cuda"]["releases"]:
            if cuda not in drivers:
                raise Refused(f"{release.framework} {release.version} needs CUDA {cuda}, which data/versions.yml does "
                              f"not know. Its minimum driver is not in any package metadata: read {DRIVER_DOC}, "
                              f"then rerun with --min-driver {cuda}=DRIVER")
            new.append(cuda)
    return new


def discover(data: dict, index, drivers: dict[str, str] | None = None,
             compute: dict[str, list[str]] | None = None) -> tuple[list[Release], list[str]]:
    """(missing releases with their facts, CUDA releases new to the data). Raises Refused."""
    found, new_cuda = [], []
    for framework, spec in data["frameworks"].items():
        project = index.project(DISTRIBUTIONS[framework])
        for version in missing_versions(project["versions"], list(spec["releases"]), project["files"]):
            release = derive(framework, version, index)
            new_cuda += [c for c in check_cuda_known(release, data, drivers or {}) if c not in new_cuda]
            add_compute(release, data, compute or {})
            found.append(release)
    return found, new_cuda


# --- writing the data -------------------------------------------------------------------------------

def write_releases(text: str, releases: list[Release], new_cuda: dict[str, str] | None = None) -> str:
    """data/versions.yml's text with the releases (and new CUDA releases' drivers) added, comments
    and layout kept: each release goes first in its framework's list, newest first."""
    lines = text.splitlines(keepends=True)
    for framework in dict.fromkeys(r.framework for r in releases):
        ours = sorted((r for r in releases if r.framework == framework), key=lambda r: version_key(r.version), reverse=True)
        start = next(i for i, line in enumerate(lines) if line.rstrip() == f"  {framework}:")
        at = next(i for i in range(start + 1, len(lines)) if lines[i].strip() == "releases:") + 1
        while lines[at].lstrip().startswith("#"):
            at += 1
        indent = re.match(r"\s*", lines[at])[0]
        lines[at:at] = [f"{indent}{r.line()}\n" for r in ours]
    for cuda, driver in sorted((new_cuda or {}).items(), key=lambda kv: version_key(kv[0])):
        start = next(i for i, line in enumerate(lines) if line.rstrip() == "  releases:")
        at = start + 1
        while at < len(lines) and lines[at].startswith("    "):
            key = re.match(r'\s*"([\d.]+)"', lines[at])
            if key and version_key(key[1]) > version_key(cuda):
                break
            at += 1
        lines[at:at] = [f'    "{cuda}": {{min_driver: "{driver}"}}  # NVIDIA\'s release notes, {cuda} GA (given to discover_releases.py)\n']
    result = "".join(lines)
    check_written(result, releases, new_cuda or {})
    return result


def check_written(text: str, releases: list[Release], new_cuda: dict[str, str]) -> None:
    data = yaml.safe_load(text)
    for release in releases:
        written = data["frameworks"][release.framework]["releases"][release.version]
        assert written == {"python": release.python, "cuda": release.cuda, "cudnn": release.cudnn,
                           "compute": release.compute}, (release, written)
    for cuda, driver in new_cuda.items():
        assert data["cuda"]["releases"][cuda]["min_driver"] == driver


# --- the command ------------------------------------------------------------------------------------

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
