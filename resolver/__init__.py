"""The template's own logic, one module per concern:

    questions.py   copier.yml's questions as data (sync, the reference page, cookiecutter's door)
    answers.py     the slug and package name, the validators of free-text answers, the license text
    images.py      the project's image name and its registry
    features.py    which of our devcontainer features a project gets and how it references them
    versions.py    the version resolver over data/versions.yml and features/releases.json
    extension.py   Copier's Jinja extension: what copier.yml and the templates call, the version
                   questions' choices and the framework build a project gets

Copier loads extension.py by its path (copier.yml's _jinja_extensions), and it loads the modules
beside it the same way; cookiecutter's door (cookiecutter/cookiecutter_bridge.py) and the
repository's tools and tests import the package (installed editable by testbed/dev-env.sh).
"""
