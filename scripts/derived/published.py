"""The published features' READMEs (the devcontainer CLI's `features generate-docs`, from each
devcontainer-feature.json + NOTES.md and features/publish.json's namespace) and
features/releases.json, each feature's version and a digest of its files. A feature whose files
changed while its version stayed the same is reported: a published version is never published
again, so the change would never reach users."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.derived.common import COMMAND, FEATURES, PUBLISH, ROOT

# The file names in a feature that never reach an image, the one list the release digest and a
# generated project's environment hash (template/.devcontainer/publish.py.jinja) both skip.
DOCUMENTATION = frozenset(json.loads(PUBLISH.read_text())["documentation"])
RELEASES = ROOT / "features/releases.json"  # generated: version + content digest of each feature
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
def feature_ids() -> list[str]:
    return sorted(p.parent.name for p in FEATURES.glob("*/devcontainer-feature.json"))


def metadata_problems(feature: str, spec: dict) -> list[str]:
    """What `devcontainer features publish` would refuse or publish wrongly."""
    problems = []
    if spec.get("id") != feature:
        problems.append(f"id {spec.get('id')!r} is not the folder name {feature!r}")
    if not SEMVER.fullmatch(str(spec.get("version", ""))):
        problems.append(f"version {spec.get('version')!r} is not MAJOR.MINOR.PATCH")
    for key in ("name", "description"):
        if not spec.get(key):
            problems.append(f"{key} is missing")
    for name, option in spec.get("options", {}).items():
        kind, default = option.get("type"), option.get("default")
        if kind not in ("string", "boolean"):
            problems.append(f"option {name}: type must be string or boolean")
        elif not isinstance(default, str if kind == "string" else bool):
            problems.append(f"option {name}: default {default!r} is not a {kind}")
        elif default not in option.get("enum", [default]):
            problems.append(f"option {name}: default {default!r} is not one of its enum")
        if not option.get("description"):
            problems.append(f"option {name}: description is missing")
    return [f"features/src/{feature}/devcontainer-feature.json: {p}" for p in problems]


def content_digest(folder: Path) -> str:
    """Digest of what `devcontainer features publish` packs: every file's path, mode and bytes, but
    the documentation (DOCUMENTATION), which never reaches an image: a docs-only change needs no
    new version (and README.md follows from the others plus the namespace and the CLI's doc format)."""
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in DOCUMENTATION):
        mode = "x" if path.stat().st_mode & 0o111 else "-"
        lines.append(f"{path.relative_to(folder).as_posix()} {mode} {hashlib.sha256(path.read_bytes()).hexdigest()}\n")
    return "sha256:" + hashlib.sha256("".join(lines).encode()).hexdigest()


def generate_docs(src: Path, namespace: str) -> None:
    cli = shutil.which("devcontainer")
    if cli is None:
        sys.exit("the devcontainer CLI writes the features' README.md (`devcontainer features generate-docs`): "
                 "install it (testbed/prepare-test-machine.sh, or npm install -g @devcontainers/cli)")
    result = subprocess.run([cli, "features", "generate-docs", "--project-folder", str(src), "--namespace", namespace],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"devcontainer features generate-docs failed:\n{result.stdout}{result.stderr}")


def published_features(wanted: dict[Path, str]) -> tuple[dict[Path, str], list[str]]:
    """READMEs and the release record, from the features as the other derived files will leave them.

    Returns those files and the features whose content changed without a version bump."""
    namespace = json.loads(PUBLISH.read_text())["namespace"]
    ids = feature_ids()
    recorded = json.loads(RELEASES.read_text())["features"] if RELEASES.exists() else {}
    files, unbumped, problems = {}, [], []
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "src"
        shutil.copytree(FEATURES, stage, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "README.md"))
        for path, text in wanted.items():
            if path.is_relative_to(FEATURES):
                (stage / path.relative_to(FEATURES)).write_text(text)
        for feature in ids:
            problems += metadata_problems(feature, json.loads((stage / feature / "devcontainer-feature.json").read_text()))
        if problems:
            sys.exit("Feature metadata refused:\n  " + "\n  ".join(problems))
        generate_docs(stage, namespace)
        record = {}
        for feature in ids:
            files[FEATURES / feature / "README.md"] = (stage / feature / "README.md").read_text()
            version = json.loads((stage / feature / "devcontainer-feature.json").read_text())["version"]
            entry = {"version": version, "digest": content_digest(stage / feature)}
            previous = recorded.get(feature)
            if previous and previous["version"] == version and previous["digest"] != entry["digest"]:
                unbumped.append(f"{feature} (still {version})")
                entry = previous
            record[feature] = entry
    files[RELEASES] = json.dumps({
        "comment": f"Generated by {COMMAND}: each feature's version and a digest of its files "
                   "(features/src/<id>). Changed files need a new version in devcontainer-feature.json.",
        "features": record}, indent=4) + "\n"
    return files, unbumped
