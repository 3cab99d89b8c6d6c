"""Cookiecutter's pre-generation hook: Copier validates the answers and renders the project.

Cookiecutter renders this file with its answers before running it (in the new project's folder),
so the line below is where they arrive; a non-zero exit makes cookiecutter remove that folder.
The work is in cookiecutter/cookiecutter_bridge.py.
"""

import json
import sys
from pathlib import Path

CONTEXT = json.loads(r"""{{ cookiecutter | jsonify }}""")

project_dir = Path.cwd()
# Cookiecutter runs this file as a script from a folder of its own: the template's folder (this
# file's parent's parent, which `_repo_dir` names, relative to where cookiecutter was started) goes
# on sys.path so that the bridge imports as it does in cookiecutter's process.
sys.path.insert(0, str(Path(CONTEXT["__cwd"], CONTEXT["_repo_dir"]).resolve()))
import cookiecutter_bridge  # noqa: E402

sys.exit(cookiecutter_bridge.generate(CONTEXT, project_dir))
