"""Copier migration, after every `copier update`: report conflicts so nobody misses them, then re-lock.

Copier merges the user's edits back in and, where the template changed the same lines, leaves
both versions between `<<<<<<< before updating` and `>>>>>>> after updating` (or a `FILE.rej`
with `--conflict rej`), with exit status 0 and no word about it. This script runs in the updated
project once the merge is done: it locks the dependencies again (unless pyproject.toml itself is
in conflict), then lists the conflicts with what to do and exits 1, so the `copier update`
command fails visibly. The update itself stays applied: nothing is rolled back.

First it removes the documentation that projects made by older template versions still have in
their copies of our features (README.md, NOTES.md, ...): Copier keeps a file that a newer version
excludes, and no update would refresh it again.

    python hooks/after_update.py LOCK   # LOCK: the lock_dependencies answer, "True" or "False"
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lock import lock

TEMPLATE = Path(__file__).resolve().parent.parent
OUR_FEATURES = sorted(p.name for p in (TEMPLATE / "features/src").iterdir() if p.is_dir())
FEATURE_DOCUMENTATION = json.loads((TEMPLATE / "features/publish.json").read_text())["documentation"]


def git_lines(*args: str) -> list[str]:
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    return result.stdout.splitlines() if result.returncode == 0 else []


def remove_vendored_documentation(project: Path = Path(".")) -> list[str]:
    """The documentation files in the project's copies of our features (not in a feature of the
    user's own), removed: they stay in the template, and the environment hash skips them anyway."""
    stale = [project / ".devcontainer/features" / feature / name
             for feature in OUR_FEATURES for name in FEATURE_DOCUMENTATION]
    removed = [path for path in stale if path.is_file() and not path.is_symlink()]
    for path in removed:
        path.unlink()
    return [path.relative_to(project).as_posix() for path in removed]


def conflicts() -> tuple[list[str], list[str]]:
    """(files with inline conflict markers, rejected-hunk files). Copier records an inline conflict
    as an unmerged path in git's index, as `git merge` does."""
    unmerged = git_lines("diff", "--name-only", "--relative", "--diff-filter=U")
    rejects = git_lines("ls-files", "--others", "--", "*.rej")  # ignored ones too: no exclude rules
    return sorted(set(unmerged)), sorted(rejects)


def report(unmerged: list[str], rejects: list[str], relock_pending: bool) -> str:
    count = len(unmerged) + len(rejects)
    lines = ["", "=" * 78,
             f"The update is applied, but {count} file{'s' if count > 1 else ''} need{'' if count > 1 else 's'} "
             "your decision: the template changed lines that you edited.", ""]
    if unmerged:
        lines += [f"    {name}" for name in unmerged]
        lines += ["", "Each holds both versions, between `<<<<<<< before updating` and `>>>>>>> after updating`.",
                  "List them again with:  git diff --name-only --diff-filter=U",
                  "Keep what you want, delete the markers, and `git add` each file."]
    if rejects:
        lines += [f"    {name}" for name in rejects]
        lines += ["", "Each .rej file holds the template's change that did not apply: apply it to the file",
                  "beside it by hand, then delete the .rej file.  List them:  git ls-files --others '*.rej'"]
    if relock_pending:
        lines += ["Then lock again (pyproject.toml was in conflict, so it was not locked):  uv lock"]
    lines += ["Then review and commit:  git diff HEAD && git commit -am 'Update from the template'",
              "(`copier recopy` starts over from your answers if the merge went wrong.)", "=" * 78]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    should_lock = len(argv) > 1 and argv[1].lower() == "true"
    removed = remove_vendored_documentation()
    if removed:
        print("Removed the features' documentation from .devcontainer/features/ (the template keeps it, "
              ".devcontainer/features/README.md says where): " + ", ".join(removed), file=sys.stderr)
    unmerged, rejects = conflicts()
    pyproject_in_conflict = "pyproject.toml" in unmerged or "pyproject.toml.rej" in rejects
    if should_lock and not pyproject_in_conflict:
        status = lock()
        if status != 0:
            return status
    if unmerged or rejects:
        print(report(unmerged, rejects, should_lock and pyproject_in_conflict), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
