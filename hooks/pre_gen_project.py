"""Cookiecutter's pre-generation hook: Copier validates the answers and renders the project.

Cookiecutter renders this file with its answers before running it (in the new project's folder),
so the line below is where they arrive; a non-zero exit makes cookiecutter remove that folder.
The work is in hooks/cookiecutter_bridge.py.
"""

import importlib.util
import json
import sys
from pathlib import Path

CONTEXT = json.loads(r"""{{ cookiecutter | jsonify }}""")

project_dir = Path.cwd()
root = Path(CONTEXT["__cwd"], CONTEXT["_repo_dir"]).resolve()
spec = importlib.util.spec_from_file_location("cookiecutter_bridge", root / "hooks/cookiecutter_bridge.py")
bridge = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bridge)
sys.exit(bridge.generate(CONTEXT, project_dir))
