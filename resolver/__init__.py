"""The template's own logic: its questions (questions.py), the answer validators, slug and image
names and which features a project gets (extension.py, Copier's Jinja extension), and the version
resolver over data/versions.yml and features/releases.json (versions.py).

Copier loads extension.py by its path (copier.yml's _jinja_extensions), cookiecutter's door imports it
from the repository (cookiecutter/cookiecutter_bridge.py), and the repository's tools and tests import this package (installed editable
by testbed/dev-env.sh).
"""
