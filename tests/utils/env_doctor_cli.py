"""Run env-doctor's command line in-process and read what it printed."""

from __future__ import annotations

import json

from env_doctor.cli import main


def run(capsys, *argv):
    """(exit code, stdout) of `env-doctor ARGV...`."""
    code = main(list(argv))
    return code, capsys.readouterr().out


def report(capsys, *argv):
    """(exit code, parsed JSON) of `env-doctor --json ARGV...`."""
    code, out = run(capsys, "--json", *argv)
    return code, json.loads(out)


def checks(data, name):
    """The results of one check in a --json report."""
    return [c for c in data["checks"] if c["name"] == name]
