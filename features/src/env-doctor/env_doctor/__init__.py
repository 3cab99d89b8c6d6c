"""env-doctor: is my code using the GPUs and CPUs I have, with the right libraries?

    env-doctor [check] [--json] [--quiet] [--require-gpu] [--python PY] [--project DIR]
    env-doctor snapshot [-o FILE] [--python PY] [--project DIR]
    env-doctor diff A.json B.json [--json]
    env-doctor diff --reference [REF.json] [--json]

Exit codes: 0 all good / identical, 1 problems found / differences, 2 a GPU was required
(--require-gpu) but none is visible, 3 usage error or unreadable input.

Runs from its own environment (nvidia-ml-py, pyyaml) as `python -m env_doctor`; facts about the
project's environment come from env_doctor_probe.py, run with the project's interpreter. Version
facts (driver floors, framework builds) come from versions.yml beside this package, never from
this code.

    common    data-file locations, exit codes, statuses, version-string helpers
    facts     what the container has: NVML, CUDA libraries, the probe, resources (collect)
    checks    judging the facts against versions.yml (evaluate, exit_code)
    report    the text report and the --quiet problem list
    snapshot  snapshots and their diff
    cli       the command line (main)
"""

VERSION = "1.2.0"
