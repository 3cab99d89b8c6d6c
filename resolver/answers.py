"""The free-text answers: the slug and the package name made from the project's name, and the
validators of names, one-line metadata, e-mail, port and data path (each returns "" when an answer
fits and a message naming what would work when it does not); the license text and the TOML
strings the templates write from the answers."""

from __future__ import annotations

import datetime
import json
import keyword
import re
import unicodedata
from pathlib import Path

from jinja2 import pass_context

MAX_NAME_LENGTH = 64  # the name becomes the package, the Jupyter kernel and image names
# Names a project package must not take: it would hide the library (or folder) of that name.
SHADOWED = {"torch", "tensorflow", "jax", "jaxlib", "keras", "numpy", "tests", "test", "notebooks"}


FALLBACK_SLUG = "project"  # for a name with no ASCII letter ("机器学习"): package and image names need one


# Latin letters that NFKD does not decompose into an ASCII letter and a mark.
LATIN_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
                               "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D"})


def slug(name: str) -> str:
    """"Mön Lab 2" -> "mon-lab-2", "Straße" -> "strasse": accents dropped (NFKD, then ASCII only),
    lowercase, runs of other characters one '-', starting with a letter (it names the package, the
    kernel and the images)."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(LATIN_LETTERS)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).lstrip("-0123456789").rstrip("-") or FALLBACK_SLUG


def project_name_error(name: str) -> str:
    """Letters of any script, digits, spaces and ._- (nothing JSON, TOML or YAML strings must
    escape), starting with a letter."""
    allowed = all(c.isalnum() or c in " ._-" or unicodedata.category(c).startswith("M") for c in name)
    if not (name[:1].isalpha() and allowed):
        return f"Use letters, digits, spaces, '.', '_' or '-', starting with a letter (got {name!r})."
    if len(name) > MAX_NAME_LENGTH:
        return (f"The name is {len(name)} characters long: use at most {MAX_NAME_LENGTH} "
                "(it names the package, the Jupyter kernel and the images).")
    return ""


def package_name_error(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return (f"\"{name}\" is not a valid package name: use lowercase letters, digits and '_', "
                "not starting with a digit.")
    if keyword.iskeyword(name):
        return f"\"{name}\" is a Python keyword: choose another package name."
    if name in SHADOWED:
        return f"\"{name}\" would shadow a library or folder of the project: choose another package name."
    if len(name) > MAX_NAME_LENGTH:
        return f"\"{name}\" is {len(name)} characters long: use at most {MAX_NAME_LENGTH}."
    return ""


MAX_LINE_LENGTH = 200  # description and author: one line of pyproject.toml metadata
# An address as pyproject.toml's authors take it: local@domain.tld, nothing that needs quoting.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
LICENSES = Path(__file__).resolve().parent.parent / "data/licenses"  # <SPDX id or Proprietary>.txt


def one_line_error(question: str, text: str, required: bool = False) -> str:
    """Free text that becomes one line of metadata (pyproject.toml, LICENSE): no line breaks or
    other control characters; quotes are fine (the templates escape them)."""
    if required and not text.strip():
        return f"Give the {question} as one line of text."
    if any(ord(character) < 32 or ord(character) == 127 for character in text):
        return f"Give the {question} as one line of text, without line breaks, tabs or control characters."
    if len(text) > MAX_LINE_LENGTH:
        return f"The {question} is {len(text)} characters long: use at most {MAX_LINE_LENGTH}."
    if text != text.strip():
        return f"Remove the spaces around the {question} (got \"{text}\")."
    return ""


def author_name_error(name: str) -> str:
    if "," in name:  # pyproject.toml's authors: a name before an address may not hold commas (PEP 621)
        return f"Leave the commas out of the author's name (got \"{name}\"), e.g. \"ACME Inc.\"."
    return one_line_error("author's name", name)


def email_error(address: str) -> str:
    if address == "" or EMAIL.fullmatch(address):
        return ""
    return f"\"{address}\" is not an email address: give one like jane@example.com, or leave it empty."


def toml_string(text: str) -> str:
    """A TOML basic string of any text: JSON's escapes are TOML's (non-ASCII stays as it is, since
    TOML has no surrogate-pair escapes)."""
    return json.dumps(text, ensure_ascii=False)


def toml_inline_table(fields: dict) -> str:
    """{ key = "value", ... } of the fields that have a value."""
    return "{ " + ", ".join(f"{key} = {toml_string(value)}" for key, value in fields.items() if value) + " }"


def copyright_holder(author_name: str, project_name: str) -> str:
    return author_name or f"The {project_name} authors"


def license_text(license_id: str, holder: str, year: int | None = None) -> str:
    """The LICENSE file: the license's standard text, with the year and holder where it has them.
    The year is the copy's; `copier update` keeps it (it renders both template versions today)."""
    path = LICENSES / f"{license_id}.txt"
    if not path.is_file():
        raise ValueError(f"no license text for {license_id!r} in data/licenses/")
    year = year or datetime.date.today().year
    return path.read_text().replace("<year>", str(year)).replace("<copyright holders>", holder)


@pass_context
def project_license(context) -> str:
    return license_text(context["license"], copyright_holder(context["author_name"], context["project_name"]))


def port_error(port: str) -> str:
    """A text question, so that "abc" gets this message rather than Python's int() error; projects
    copied before recorded the port as a number, which Copier turns into text on update."""
    if re.fullmatch(r"[0-9]+", str(port)) and 1024 <= int(port) <= 65535:
        return ""
    return f"Use a port number from 1024 to 65535 (got \"{port}\")."


CACHE_DIR = "/cache"  # the project's cache volume, in the devcontainer and in cluster jobs
# The variables the model and data libraries read for their caches, all on the cache volume: one
# list for both devcontainer configurations and the cluster jobs.
CACHE_ENVIRONMENT = {
    "XDG_CACHE_HOME": CACHE_DIR,
    "HF_HOME": f"{CACHE_DIR}/huggingface",
    "TORCH_HOME": f"{CACHE_DIR}/torch",
    "KERAS_HOME": f"{CACHE_DIR}/keras",
    "TFDS_DATA_DIR": f"{CACHE_DIR}/tensorflow_datasets",
    "JAX_COMPILATION_CACHE_DIR": f"{CACHE_DIR}/jax",
    "UV_CACHE_DIR": f"{CACHE_DIR}/uv",
}
# Folders of the image (and the mounts the project makes) that a data mount must not hide.
RESERVED_PATHS = ("/bin", "/boot", CACHE_DIR, "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/outputs",
                  "/proc", "/root", "/run", "/sbin", "/sys", "/tmp", "/usr", "/var", "/workspaces")


def data_path_error(path: str) -> str:
    """Where the container reads datasets: an absolute path that a bind mount (`-v SRC:PATH:ro`)
    can take and that hides nothing of the image."""
    if not re.fullmatch(r"(/[A-Za-z0-9._-]+)+", path) or any(p in (".", "..") for p in path.split("/")):
        return (f"\"{path}\" is not an absolute container path: use one like /data or /datasets/vision "
                "(letters, digits, '.', '_', '-' between slashes).")
    for reserved in RESERVED_PATHS:
        if path == reserved or path.startswith(reserved + "/"):
            return f"\"{path}\" would hide {reserved} of the container: choose a folder of its own, e.g. /data."
    return ""
