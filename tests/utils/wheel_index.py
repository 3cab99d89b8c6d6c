"""A stand-in package index on 127.0.0.1 (PEP 503 simple pages + the wheels), served by
`python -m http.server`, for testing a project's own uv index without reaching the real one."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

from packaging.utils import canonicalize_name


def pip_find_links() -> list[Path]:
    """The folders pip is configured to find wheels in (`pip config list`: find-links)."""
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    folders = []
    for line in listing.splitlines():
        key, _, value = line.partition("=")
        if key.endswith("find-links"):
            folders += [Path(v) for v in value.strip().strip("'\"").split()]
    return folders


def find_wheel(pattern: str) -> Path | None:
    """A wheel matching the glob pattern in pip's find-links folders."""
    for folder in pip_find_links():
        found = sorted(folder.glob(pattern))
        if found:
            return found[-1]
    return None


def metadata_wheel(folder: Path, metadata: Path, tag: str) -> Path:
    """A wheel holding only a release's real METADATA (its name, version and dependencies): what a
    lock reads from an index, without the release's hundreds of megabytes of code."""
    fields = dict(line.split(": ", 1) for line in metadata.read_text().splitlines() if line.startswith(("Name:", "Version:")))
    dist_info = f"{fields['Name']}-{fields['Version']}.dist-info"
    files = {f"{dist_info}/METADATA": metadata.read_text(),
             f"{dist_info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: false\nTag: {tag}\n"}
    record = "".join(f"{name},,\n" for name in [*files, f"{dist_info}/RECORD"])
    wheel = folder / f"{fields['Name']}-{fields['Version']}-{tag}.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in {**files, f"{dist_info}/RECORD": record}.items():
            archive.writestr(name, text)
    return wheel


def write_index(root: Path, wheels: list[Path]) -> None:
    """root/simple/<project>/index.html linking root/files/<wheel>#sha256=..., as PEP 503 has it."""
    (root / "files").mkdir(parents=True, exist_ok=True)
    projects: dict[str, list[str]] = {}
    for wheel in wheels:
        target = root / "files" / wheel.name
        if not target.exists():
            target.symlink_to(wheel)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        project = canonicalize_name(wheel.name.split("-")[0])
        href = f"../../files/{urllib.parse.quote(wheel.name)}#sha256={digest}"
        projects.setdefault(project, []).append(f'<a href="{href}">{wheel.name}</a><br>')
    for project, links in projects.items():
        page = root / "simple" / project / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve root on a free 127.0.0.1 port; yields the simple index URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port),
                               "--directory", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/simple"
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(url + "/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
