"""Answers the template refuses, with (a regular expression of) the message that says why.

One table for both front doors: tests/test_render.py gives them to Copier, tests/test_cookiecutter.py
to cookiecutter.
"""

REFUSED_ANSWERS = [
    ({"package_name": "import"}, "Python keyword"),
    ({"package_name": "2fast"}, "not a valid package name"),
    ({"package_name": "torch"}, "would shadow"),
    ({"project_name": "-bad"}, "starting with a letter"),
    ({"project_name": "Lab " + "x" * 61}, "65 characters long: use at most 64"),
    ({"framework": "mxnet"}, "Invalid choice"),
    ({"accelerator": "rocm"}, "Invalid choice"),
    ({"python_version": "3.9"}, "Invalid choice"),
    ({"base_image": "alpine:3"}, "Invalid choice"),
    ({"jupyter_port": 80}, "1024 to 65535"),
    ({"description": "two\nlines"}, "one line of text, without line breaks"),
    ({"description": ""}, "Give the description as one line of text"),
    ({"author_name": "Doe, Jane"}, "Leave the commas out"),
    ({"author_email": "jane at example.com"}, "not an email address"),
    ({"license": "GPL-3.0"}, "Invalid choice"),
    ({"data_path": "data"}, "not an absolute container path"),
    ({"data_path": "/data:rw"}, "not an absolute container path"),
    ({"data_path": "/usr/share/data"}, "would hide /usr"),
    ({"data_path": "/workspaces"}, "would hide /workspaces"),
    ({"features_registry": "ghcr.io/acme/features/env-doctor:1"}, "without a feature id, tag or digest"),
    ({"features_registry": "./features"}, "is a path: leave the answer empty"),
    ({"features_registry": "Acme/Features"}, "not a registry namespace: use registry-host/path"),
]
