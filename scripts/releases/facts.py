"""The facts of a release, derived from its wheels' metadata: Pythons, CUDA, cuDNN, JAX's CUDA
majors; compute capabilities carried forward; what the data lacks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as normalize  # PEP 503 project names
from packaging.version import InvalidVersion, Version

from resolver.versions import version_key

from .index import DISTRIBUTIONS, WHEEL, file_version

# Where the facts that package metadata cannot give come from.
DRIVER_DOC = ("NVIDIA's CUDA Toolkit Release Notes, table 'CUDA Toolkit and Corresponding Driver Versions', "
              "Linux x86_64 driver of the GA release: https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/")
COMPAT_DOC = ("NVIDIA's CUDA Compatibility guide, minor-version compatibility driver of the major: "
              "https://docs.nvidia.com/deploy/cuda-compatibility/")
RUNTIME = re.compile(r"^nvidia-cuda-runtime(?:-cu(\d+))?$")
CUDNN = re.compile(r"^nvidia-cudnn-cu(\d+)$")


class Refused(Exception):
    """A fact that cannot be derived: the message says where a maintainer finds it."""


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
        release_files = [f for f, info in files.items() if file_version(f) == text]
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
    return next((f for f in sorted(project["files"]) if file_version(f) == version and f.endswith("-none-any.whl")), None)


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
