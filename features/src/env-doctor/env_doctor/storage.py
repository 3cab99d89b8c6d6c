"""Storage facts: the data path the project reads datasets from and the cache folder the model and
data caches live in (both named by the project's containerEnv), and the mounts behind them, read
from /proc/self/mountinfo. A folder that is no mount of its own is in the container's writable
layer, which a rebuild throws away."""

from __future__ import annotations

import os
import re

from .common import disk_usage

MOUNTINFO = "/proc/self/mountinfo"
# Set by the project (devcontainer.json containerEnv, cluster jobs); env-doctor checks nothing
# about storage in a container without them.
DATA_DIR_VARIABLE = "PROJECT_DATA_DIR"  # where datasets are read
DATA_SOURCE_VARIABLE = "PROJECT_DATA_SOURCE"  # the host folder bound there ("" when none is set)
CACHE_DIR_VARIABLE = "PROJECT_CACHE_DIR"  # the folder holding HF_HOME, TORCH_HOME, ...
CACHE_VOLUME_VARIABLE = "PROJECT_CACHE_VOLUME"  # the volume meant to be mounted there
# Docker keeps a named volume in <data-root>/volumes/<name>/_data: the mount's root says its name.
VOLUME_ROOT = re.compile(r"/volumes/([^/]+)/_data$")


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (\\040...)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[dict]:
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields[6:]:
            continue
        dash = fields.index("-", 6)
        root, mount_point, options = _unescape(fields[3]), _unescape(fields[4]), fields[5].split(",")
        fstype, source = fields[dash + 1], _unescape(fields[dash + 2]) if len(fields) > dash + 2 else ""
        volume = VOLUME_ROOT.search(root)
        mounts.append({"mount_point": mount_point, "root": root, "fstype": fstype, "source": source,
                       "read_only": "ro" in options, "volume": volume.group(1) if volume else None})
    return mounts


def read_mounts(path: str = MOUNTINFO) -> list[dict]:
    try:
        with open(path) as handle:
            return parse_mountinfo(handle.read())
    except OSError:
        return []


def mount_of(path: str, mounts: list[dict]) -> dict | None:
    """The mount a path lives on: the last-mounted one with the longest matching mount point."""
    best = None
    for mount in mounts:
        point = mount["mount_point"]
        if path == point or path.startswith(point.rstrip("/") + "/"):
            if best is None or len(point) >= len(best["mount_point"]):
                best = mount
    return best


def folder_facts(path: str, mounts: list[dict]) -> dict:
    facts = {"path": path, "exists": os.path.isdir(path), "entries": None, "total_bytes": None,
             "free_bytes": None, "mount": None, "own_mount": False}
    if facts["exists"]:
        try:
            facts["entries"] = len(os.listdir(path))
        except OSError:
            pass
        usage = disk_usage(path)
        if usage:
            facts["total_bytes"], facts["free_bytes"] = usage["total"], usage["free"]
    mount = mount_of(os.path.realpath(path), mounts)
    if mount is not None:
        facts["mount"] = {k: mount[k] for k in ("mount_point", "fstype", "source", "read_only", "volume")}
        facts["own_mount"] = mount["mount_point"] != "/"
    return facts


def storage_facts(environ=os.environ, mountinfo: str = MOUNTINFO) -> dict:
    """The data path and the cache folder this container uses, where the project names them."""
    mounts = read_mounts(mountinfo)
    out = {"data": None, "cache": None}
    if environ.get(DATA_DIR_VARIABLE):
        out["data"] = {**folder_facts(environ[DATA_DIR_VARIABLE], mounts),
                       "host_folder": environ.get(DATA_SOURCE_VARIABLE) or None}
    if environ.get(CACHE_DIR_VARIABLE):
        out["cache"] = {**folder_facts(environ[CACHE_DIR_VARIABLE], mounts),
                        "volume_wanted": environ.get(CACHE_VOLUME_VARIABLE) or None}
    return out
