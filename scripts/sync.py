"""Writes every file derived from a single source, or checks that they are current.

    python scripts/sync.py           # regenerate
    python scripts/sync.py --check   # change nothing; exit 1 naming each stale file (CI runs this)

Sources and what is derived from them:
  data/versions.yml    -> features/src/env-doctor/env_doctor/data/versions.yml (env-doctor ships alone: a copy),
                          features/src/{cuda,cudnn}/versions.sh (the features' pins and supported
                          versions), the version proposals of their devcontainer-feature.json,
                          and the <!-- sync:NAME --> blocks in the Markdown files listed below
  features/lib/*.sh    -> a copy in each feature that uses it (a published feature carries only its
                          own folder), and the shared checks of the cuda and cudnn feature tests
  copier.yml           -> cookiecutter/cookiecutter.json: the same questions, defaults and choices
                          for `cookiecutter <this repository> --directory cookiecutter`
                          (cookiecutter/cookiecutter_bridge.py hands the answers to Copier)
  features/src/<id>/devcontainer-feature.json + NOTES.md, features/publish.json (the namespace)
                       -> features/src/<id>/README.md, written by the devcontainer CLI's
                          `devcontainer features generate-docs` (the CLI must be on PATH)
  features/src/<id>/   -> features/releases.json: each feature's version and a digest of its files
                          (all but the documentation that features/publish.json lists).
                          A feature whose files changed while its version stayed the same is refused:
                          bump "version" in its devcontainer-feature.json (a published version is
                          never published again, so the change would never reach users).

Adding a CUDA or framework release: edit data/versions.yml, run this, commit what changed.
Each derived thing has its module in scripts/derived/; this is the command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from scripts.derived import cookiecutter_json, copies, feature_data, markdown
from scripts.derived.common import COMMAND, DATA, ROOT
from scripts.derived.facts import Facts
from scripts.derived.published import published_features

if ROOT != Path(__file__).resolve().parent.parent:  # the package found is another checkout's
    sys.exit(f"scripts.derived was imported from {ROOT}, not from this checkout: "
             f"run `PYTHONPATH={Path(__file__).resolve().parent.parent} python scripts/sync.py`")


def derived_files() -> dict[Path, Callable[[], str]]:
    """Every derived file but the published features' and how to make it."""
    facts = Facts(yaml.safe_load(DATA.read_text()))
    return {**cookiecutter_json.files(), **feature_data.files(facts), **markdown.files(facts), **copies.files(facts)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a derived file is stale")
    args = parser.parse_args(argv)
    wanted = {path: render() for path, render in derived_files().items()}
    features, unbumped = published_features(wanted)
    wanted.update(features)
    stale = []
    for path, text in wanted.items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    failed = False
    if args.check and stale:
        print(f"Stale derived files (edit their source, then run `{COMMAND}`):", file=sys.stderr)
        for path in stale:
            print(f"  {path}", file=sys.stderr)
        failed = True
    if unbumped:
        print("Features changed without a new version: bump \"version\" in their devcontainer-feature.json "
              f"(patch for fixes, minor for new options, major for breaking changes), then run `{COMMAND}`:",
              file=sys.stderr)
        for feature in unbumped:
            print(f"  {feature}", file=sys.stderr)
        failed = True
    if not stale and not failed:
        print("all derived files are current")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
