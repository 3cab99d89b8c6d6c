"""The project's image: the image question's validators, the name colleagues' containers pull, and
the registry it lives in (what `docker login` wants)."""

from __future__ import annotations

import re

from jinja2 import pass_context

# An image name without tag or digest: [registry[:port]/]path, lowercase (what Docker accepts).
IMAGE_NAME = re.compile(r"(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
                        r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")


def image_error(answer: str) -> str:
    """The image question: 'ghcr', 'none', or a name of the user's registry (no tag)."""
    if answer in ("ghcr", "none"):
        return ""
    if ":" in answer.rsplit("/", 1)[-1] or "@" in answer:
        return (f"Give the image name without a tag or digest (got \"{answer}\"): CI adds an immutable "
                "tag for the environment and one for the branch.")
    if not IMAGE_NAME.fullmatch(answer) or "/" not in answer:
        return (f"\"{answer}\" is not an image name: use 'ghcr', 'none', or registry/path/name in lowercase, "
                "e.g. registry.example.com/team/vision-lab or ghcr.io/acme/vision-lab.")
    return ""


def github_repository_error(answer: str) -> str:
    if answer == "" or GITHUB_REPOSITORY.fullmatch(answer):
        return ""
    return f"Give the repository as owner/name, e.g. acme/vision-lab (got \"{answer}\"), or leave it empty."


def published_image(image: str, github_repository: str = "") -> str:
    """The image colleagues' containers pull ("" when unknown or not published). 'ghcr' is
    ghcr.io/<owner>/<name> of the repository; registries want lowercase names."""
    if image == "none":
        return ""
    if image == "ghcr":
        return f"ghcr.io/{github_repository.lower()}" if github_repository else ""
    return image


@pass_context
def project_image(context) -> str:
    return published_image(context["image"], context.get("github_repository") or "")


def registry_host(image: str) -> str:
    """The registry of an image name, as `docker login` wants it (Docker Hub when the name has none)."""
    if image == "ghcr":
        return "ghcr.io"
    first = image.split("/", 1)[0]
    return first if "/" in image and ("." in first or ":" in first or first == "localhost") else "docker.io"


@pass_context
def image_registry_host(context) -> str:
    return registry_host(context["image"])


@pass_context
def unused_prebuilt_dir(context) -> str:
    """For copier.yml's _exclude: the image-based configuration needs a published image name."""
    return "" if project_image(context) else ".devcontainer/prebuilt"
