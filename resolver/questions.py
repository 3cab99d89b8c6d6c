"""copier.yml's questions as the tools other than Copier read them: cookiecutter's door
(cookiecutter/cookiecutter_bridge.py), the cookiecutter.json it reads (scripts/sync.py) and the
documentation's question reference (docs/plugins/reference.py). One reading for all three: the
questions in order, which are computed rather than asked, which earlier answers a Jinja text
uses, a text rendered as Copier renders it, and help text with <answer> placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from jinja2 import Environment, meta

from resolver import extension

COPIER_YML = Path(__file__).resolve().parent.parent / "copier.yml"


class Questions:
    def __init__(self, path: Path = COPIER_YML):
        spec = yaml.safe_load(path.read_text())
        self.all: dict[str, dict] = {key: value for key, value in spec.items() if not key.startswith("_")}
        self.jinja = Environment(extensions=[extension.VersionsExtension])

    def answers_in(self, text: str) -> set[str]:
        """The questions whose answers a Jinja text uses."""
        return meta.find_undeclared_variables(self.jinja.parse(text)) & set(self.all)

    def render(self, text: str, **answers) -> str:
        """A Jinja text as Copier renders it: the template's functions and filters, these answers."""
        return self.jinja.from_string(text).render(**answers)


def questions() -> dict[str, dict]:
    """copier.yml's questions, in order (settings start with '_')."""
    return Questions().all


def computed(question: dict) -> bool:
    """A question Copier never asks (`when: false`): its default is all there is."""
    return question.get("when") is False


def placeholders(text: str) -> str:
    """A text that quotes other answers, with each `{{ answer }}` shown as <answer>."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", r"<\1>", text)
