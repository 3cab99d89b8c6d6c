"""The project's facts (its hooks module), the settings file, and the errors a user can fix."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from types import ModuleType

DIGEST = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
IMAGE_PYTHON = "/opt/venv/bin/python"  # the locked environment inside the job image
IMAGE_CLUSTER = "/app/cluster"  # the job image's copy of cluster/ (the image's WORKDIR is /app)


class ClusterError(Exception):
    """A problem the user can fix; printed without a traceback."""


class Project:
    """What the runtime needs to know about a project: its cluster/hooks.py, with defaults."""

    def __init__(self, hooks: ModuleType | None = None, cluster_dir: Path | None = None):
        self.hooks = hooks
        if cluster_dir is None:
            cluster_dir = Path(hooks.__file__).resolve().parent if hooks else Path.cwd() / "cluster"
        self.cluster_dir = cluster_dir
        self.name = getattr(hooks, "PROJECT", "project")
        self.training = list(getattr(hooks, "TRAINING", []))
        self.distributed = bool(getattr(hooks, "DISTRIBUTED", False))
        self.data_path = getattr(hooks, "DATA_PATH", "/data")
        self.cache_dir = getattr(hooks, "CACHE_DIR", "/cache")
        self.cache_variables = dict(getattr(hooks, "CACHE_VARIABLES", {}))

    def trial_arguments(self, params: dict) -> list[str]:
        hook = getattr(self.hooks, "trial_arguments", None)
        return list(hook(params)) if hook else default_trial_arguments(params)

    def training_command(self, python: str, output: str, arguments: list[str]) -> list[str]:
        if not self.training:
            raise ClusterError("cluster/hooks.py sets no TRAINING: name what a trial runs")
        return [python, *self.training, f"--output={output}", *arguments]

    def storage_environment(self, cache: bool) -> dict[str, str]:
        """The variables the devcontainer sets for the data path and (when jobs get a cache
        location) the caches: the libraries' own variables, all under the cache folder."""
        variables = {"PROJECT_DATA_DIR": self.data_path}
        if cache:
            variables.update(PROJECT_CACHE_DIR=self.cache_dir, **self.cache_variables)
        return variables


def default_trial_arguments(params: dict) -> list[str]:
    """Parameters as the training's options: {"lr": 0.1, "use_bn": True} -> --lr=0.1 --use-bn=true."""

    def text(value) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    return [f"--{key.replace('_', '-')}={text(value)}" for key, value in params.items()]


def load_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the login node's older python3: the copy of tomli this runtime carries
        from ._vendor import tomli as tomllib
    try:
        return tomllib.loads(Path(path).read_text())
    except OSError as error:
        raise ClusterError(f"cannot read {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ClusterError(f"{path} is not valid TOML: {error}") from None


def load_settings(path: Path) -> dict:
    """cluster/settings.toml, with JOB_IMAGE from the environment overriding `image`."""
    settings = load_toml(path)
    settings.setdefault("slurm", {})
    settings.setdefault("kubernetes", {})
    if os.environ.get("JOB_IMAGE"):
        settings["image"] = os.environ["JOB_IMAGE"]
    return settings


def job_image(settings: dict) -> str:
    """The job image to run: by digest, as published; a tag only with a warning."""
    image = str(settings.get("image", "")).strip()
    if not image or "<digest>" in image or "OWNER" in image:
        raise ClusterError(
            "no job image set: put the published job image, by digest, in cluster/settings.toml "
            '(image = "ghcr.io/org/repo@sha256:..."; `.devcontainer/publish.py push --pin` '
            "writes it) or in JOB_IMAGE"
        )
    if not DIGEST.match(image):
        print(
            f"cluster: warning: {image} is not pinned by digest: nodes may run different images",
            file=sys.stderr,
        )
    return image
