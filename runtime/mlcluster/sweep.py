"""A sweep file (cluster/sweep.toml) expanded into its trials, and where each trial keeps its files."""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path

from .settings import ClusterError

SCALARS = (str, int, float, bool)
TRIALS_FILE = "trials.json"  # the expanded sweep, in the output folder: what the trials read


def expand_sweep(sweep: dict) -> list[dict]:
    """The trials of a sweep file, in order: every combination of [grid] (keys in file order,
    the last key varying fastest), then each [[trials]] entry; [fixed] goes into every trial."""
    unknown = set(sweep) - {"fixed", "grid", "trials"}
    if unknown:
        raise ClusterError(
            f"unknown sweep section(s) {sorted(unknown)}: use [fixed], [grid] and [[trials]]"
        )
    fixed = sweep.get("fixed", {})
    grid = sweep.get("grid", {})
    listed = sweep.get("trials", [])
    if not isinstance(fixed, dict) or not isinstance(grid, dict) or not isinstance(listed, list):
        raise ClusterError("[fixed] and [grid] are tables, [[trials]] is an array of tables")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ClusterError(f"grid.{key} must be a non-empty list of values")
    trials = []
    if grid:
        for combination in itertools.product(*grid.values()):
            trials.append({**fixed, **dict(zip(grid, combination))})
    for entry in listed:
        if not isinstance(entry, dict):
            raise ClusterError("each [[trials]] entry must be a table of parameters")
        trials.append({**fixed, **entry})
    if not trials:
        raise ClusterError("the sweep has no trials: give a [grid] or [[trials]] entries")
    for trial in trials:
        for key, value in trial.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise ClusterError(f"parameter name {key!r}: use letters, digits and '_'")
            if not isinstance(value, SCALARS):
                raise ClusterError(f"parameter {key} = {value!r}: use a string, number or bool")
    return trials


def trials_json(trials: list[dict]) -> str:
    return json.dumps({"trials": trials}, indent=2) + "\n"


def load_trials(path: Path) -> list[dict]:
    try:
        trials = json.loads(Path(path).read_text())["trials"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ClusterError(f"cannot read the trials from {path}: {error}") from None
    if not isinstance(trials, list):
        raise ClusterError(f"{path}: 'trials' is not a list")
    return trials


def trial_dir(output: Path, index: int) -> Path:
    return Path(output) / "trials" / f"{index:04d}"


def index_from_engine(variables: tuple, explicit: int | None, missing: str) -> int:
    """explicit, else the first of the engine's variables that holds a number."""
    if explicit is not None:
        return explicit
    for variable in variables:
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable])
    raise ClusterError(missing)


def engine_index(explicit: int | None = None) -> int:
    """This task's index: --index, else what Slurm (job array) or Kubernetes (Indexed Job) set."""
    return index_from_engine(
        ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"), explicit,
        "no trial index: pass --index, or run under a Slurm job array (SLURM_ARRAY_TASK_ID) "
        "or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)",
    )
