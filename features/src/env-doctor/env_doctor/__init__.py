"""env-doctor: is my code using the GPUs and CPUs I have, with the right libraries?

    env-doctor [check] [--json] [--quiet] [--require-gpu] [--python PY] [--project DIR]
    env-doctor snapshot [-o FILE] [--bench] [--python PY] [--project DIR]
    env-doctor diff A.json B.json [--json]
    env-doctor diff --reference [REF.json] [--json]
    env-doctor watch [--interval S] [--json FILE] -- COMMAND... | --pid PID
    env-doctor bench [--seconds N] [--json]

Exit codes: 0 all good / identical, 1 problems found / differences, 2 a GPU was required
(--require-gpu) but none is visible, 3 usage error or unreadable input.

The distribution env-doctor (pyproject.toml beside this package), installed into its own
environment (nvidia-ml-py, pyyaml) and run as `python -I -m env_doctor`; facts about the project's
environment come from data/env_doctor_probe.py, run by path with the project's interpreter. Version
facts (driver floors, framework builds) come from data/versions.yml, never from this code. The
image's settings and reference snapshot are in /usr/local/share/env-doctor (common.SHARE_DIR).

    common    data-file locations, exit codes, statuses, version-string helpers
    facts     what the container has: NVML, CUDA libraries, the probe, resources (collect)
    checks    judging the facts against versions.yml (evaluate, exit_code)
    report    the text report and the --quiet problem list
    snapshot  snapshots and their diff
    runtime   `watch`: sampling a process tree, the summary and its verdict
    bench     `bench`: running data/env_doctor_bench.py, its statistics, explaining speed changes in a diff
    notebook  `with env_doctor.watch(): ...` for a block of code in a notebook kernel
    cli       the command line (main)
"""

# The distribution's version (pyproject.toml reads it): equal to devcontainer-feature.json's "version".
__version__ = "1.7.0"


def watch(interval: float = 1.0, json_path: str | None = None):
    """`with env_doctor.watch(): train()`: samples this process while the block runs and prints the
    verdict of `env-doctor watch` at its end (see notebook.py)."""
    from .notebook import watch as notebook_watch

    return notebook_watch(interval, json_path)
