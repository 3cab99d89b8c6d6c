"""The package index: its JSON API, a wheel's METADATA read by HTTP range requests, and a
recording of what was read (the tests read one instead of the network)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

from packaging.utils import canonicalize_name as normalize  # PEP 503 project names

ROOT = Path(__file__).resolve().parents[2]
JSON_API = "application/vnd.pypi.simple.v1+json"
METADATA_FIELDS = ("Metadata-Version", "Name", "Version", "Requires-Python", "Requires-Dist", "Provides-Extra")
WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")
DISTRIBUTIONS = {"pytorch": "torch", "tensorflow": "tensorflow", "jax": "jax"}  # what the index calls them



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
            self.projects[name] = {"versions": page.get("versions") or sorted({file_version(f) for f in files} - {None}),
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
                              "files": {f: v for f, v in project["files"].items() if file_version(f) in keep}}
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


def file_version(filename: str) -> str | None:
    match = WHEEL.match(filename)
    if match:
        return match["version"]
    match = re.match(r"^[^-]+-(.+?)\.(?:tar\.gz|zip)$", filename)
    return match[1] if match else None
