"""Cookiecutter's entry point into this Copier template: one template, two front doors.

`cookiecutter <this repository> --directory cookiecutter` reads cookiecutter/cookiecutter.json
(written by scripts/sync.py from copier.yml: the same questions, defaults and choices) and then runs
cookiecutter/hooks/pre_gen_project.py, which calls `generate` below: it hands the answers to Copier,
which validates them with the template's own validators (same messages; nothing is written when one
is refused) and renders the project from the repository root, .copier-answers.yml included, so
`copier update` works on it later. Cookiecutter itself renders nothing: its template folder holds
only a file whose name renders empty.

Two pieces run in different processes:
  - CookiecutterExtension, loaded by cookiecutter (cookiecutter.json's `_extensions`) while it
    asks the questions: the template's own `slug` filter and `cwd()`, the folder cookiecutter was
    started from (hooks run elsewhere, and a local template path is relative to it);
  - generate(), called by the pre_gen_project hook, which runs in the new project's folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jinja2.ext import Extension

# The repository this folder belongs to (the local one, or cookiecutter's clone or unpacked copy):
# Copier renders from it, and the template's logic package, resolver/, is imported from it.
# Cookiecutter puts only this folder on sys.path (and the hook, only this folder too).
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from resolver.answers import slug  # noqa: E402
from resolver.questions import computed, questions  # noqa: E402

# Template references Copier resolves itself (and records as given in .copier-answers.yml).
COPIER_PREFIXES = ("gh:", "gl:", "git@", "git+", "https://", "http://", "ssh://", "file://")


class CookiecutterExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["slug"] = slug
        environment.globals["cwd"] = os.getcwd


def copier_answers(context: dict) -> dict:
    """Cookiecutter's answers as Copier data: every question Copier could ask. Copier casts them
    to the questions' types and ignores those whose `when` is false for these answers."""
    return {key: context[key] for key, question in questions().items() if not computed(question) and key in context}


def source(context: dict) -> str:
    """The template reference to give Copier: the one the user gave cookiecutter where Copier
    understands it (a local path, relative to where cookiecutter was started, or a git URL,
    gh:/gl: included), so .copier-answers.yml records what `copier copy` would; otherwise (a zip,
    another abbreviation) the repository cookiecutter unpacked or cloned it into."""
    template = context["_template"]
    if Path(template).expanduser().is_dir() or template.startswith(COPIER_PREFIXES):
        return template
    return str(ROOT)


def generate(context: dict, project_dir: Path) -> int:
    """Render the project into project_dir with Copier; 0, or 1 with Copier's message."""
    try:
        import copier
    except ImportError:
        print("error: this cookiecutter template renders through Copier, which is not installed here.\n"
              "  Install it next to cookiecutter (pip install \"copier>=9.4,<10\" copier-template-extensions uv)\n"
              "  and run cookiecutter again.", file=sys.stderr)
        return 1
    os.chdir(context["__cwd"])  # where cookiecutter was started: a relative template path is relative to it
    try:
        copier.run_copy(
            source(context), project_dir, data=copier_answers(context), defaults=True, unsafe=True,
            overwrite=True, vcs_ref=context.get("_checkout"),
        )
    except (ValueError, copier.errors.CopierError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
