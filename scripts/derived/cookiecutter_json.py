"""cookiecutter/cookiecutter.json from copier.yml: the same questions, defaults and choices for
`cookiecutter <this repository> --directory cookiecutter` (cookiecutter/cookiecutter_bridge.py
hands the answers to Copier)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from resolver import extension
from resolver.questions import Questions, computed, placeholders
from scripts.derived.common import COMMAND, ROOT

FOLDER = ROOT / "cookiecutter"  # cookiecutter's template folder: `--directory cookiecutter`
# The Jinja extension cookiecutter loads: cookiecutter puts the template folder on sys.path.
EXTENSION = "cookiecutter_bridge.CookiecutterExtension"


def cookiecutter_json() -> str:
    """Copier's questions for cookiecutter: each answer is free text (or yes/no), its default
    Copier's, its prompt Copier's help naming the choices. Choices are not cookiecutter lists:
    Copier checks every answer, so a refused one gets Copier's message whichever door it came in
    by. Questions Copier never asks (`when: false`) become private `__` variables, rendered but not
    asked; `__project_slug` names the project folder."""
    model = Questions()
    questions = model.all
    variable = {key: f"__{key}" if computed(q) else key for key, q in questions.items()}

    def depends_on_answers(text: str) -> bool:
        return bool(model.answers_in(text))

    def to_cookiecutter(text: str) -> str:
        """Copier's Jinja over answers -> cookiecutter's (answers live under `cookiecutter.`)."""
        names = "|".join(sorted(questions, key=len, reverse=True))
        return re.sub(r"\{\{.*?\}\}", lambda block: re.sub(
            rf"(?<![\w.'\"])({names})(?![\w'\"])", lambda m: f"cookiecutter.{variable[m[1]]}", block[0]), text)

    def text(template: str) -> str:
        """Help text: rendered, or with <answer> placeholders where it quotes other answers."""
        if depends_on_answers(template):
            return " ".join(placeholders(template).split())
        return " ".join(model.render(template).split())

    context: dict = {"_generated_by": f"{COMMAND} from copier.yml: edit that, then run the command",
                     "_extensions": [EXTENSION],
                     "__cwd": "{{ cwd() }}"}
    prompts: dict[str, str] = {}
    for key, question in questions.items():
        default = question.get("default")
        if isinstance(default, str) and "{{" in default and not depends_on_answers(default):
            default = model.render(default)  # a value from the template's data
        context[variable[key]] = to_cookiecutter(default) if isinstance(default, str) else default
        if computed(question):
            continue
        prompt = text(question["help"])
        choices = question.get("choices")
        if isinstance(choices, str) and not depends_on_answers(choices):
            choices = json.loads(model.render(choices))
        if isinstance(choices, dict | list):
            prompt += ". One of: " + "; ".join(value if label == value else f"{value} = {label}"
                                               for label, value in extension.choice_pairs(choices))
        when = question.get("when")
        if isinstance(when, str):
            prompt += f" (used only when {' '.join(when.strip('{} ').split())})"
        prompts[key] = prompt
    context["__prompts__"] = prompts
    return json.dumps(context, indent=2, ensure_ascii=False) + "\n"


def files() -> dict[Path, Callable[[], str]]:
    return {FOLDER / "cookiecutter.json": cookiecutter_json}
