"""The command line: `env-doctor [check]`, `env-doctor snapshot`, `env-doctor diff`, `env-doctor watch`,
`env-doctor bench`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import readings, runtime
from .bench import DEFAULT_SECONDS, BenchError, render_bench, run_bench
from .checks import evaluate, exit_code
from .common import EXIT_NO_GPU, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, PROBLEMS, REFERENCE_FILE, SCHEMA_VERSION, load_settings, load_versions
from .facts import DEFAULT_VENV_PYTHON, collect, project_python
from .report import render_problems, render_report
from .snapshot import diff, host_comparable, render_diff, snapshot, without_own_project


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own exit code 2 would collide with --require-gpu
        self.print_usage(sys.stderr)
        print(f"env-doctor: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parsers() -> dict[str, Parser]:
    env = Parser(add_help=False)
    env.add_argument("--python", help="project interpreter (default: feature option projectPython, "
                                      f"else {DEFAULT_VENV_PYTHON}, else python3 on PATH)")
    env.add_argument("--project", help="project folder holding uv.lock (default: current folder or a "
                                       "parent, else the single /workspaces/* folder)")
    epilog = "exit codes: 0 all good, 1 problems found, 2 GPU required but none visible, 3 usage error"
    check_p = Parser(prog="env-doctor [check]", parents=[env], epilog=epilog,
                     description="Check GPUs, driver, CUDA libraries, framework, /dev/shm and CPUs.")
    check_p.add_argument("--json", action="store_true", help="machine-readable output")
    check_p.add_argument("--quiet", action="store_true", help="print only problems (nothing when all is well)")
    check_p.add_argument("--require-gpu", action="store_true", help="exit 2 when no GPU is visible")
    check_p.add_argument("--on-start", action="store_true",
                         help="container start: honour the checkOnStart option, imply --quiet, always exit 0")
    snap_p = Parser(prog="env-doctor snapshot", parents=[env],
                    description="Write a JSON fingerprint of this environment, to diff with a colleague's.")
    snap_p.add_argument("-o", "--output", help="file to write (default: stdout)")
    snap_p.add_argument("--at-build", action="store_true",
                        help="mark the snapshot as taken at image build (no host: driver and GPUs are not compared)")
    snap_p.add_argument("--bench", action="store_true",
                        help="also run `env-doctor bench` and store its figures: a diff then reports speed changes")
    snap_p.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help=argparse.SUPPRESS)
    diff_p = Parser(prog="env-doctor diff", parents=[env], epilog="exit codes: 0 identical, 1 differences, 3 usage error",
                    usage="env-doctor diff A.json B.json [--json] | env-doctor diff --reference [REF.json] [--json]",
                    description="Compare two snapshots and explain each difference; with --reference, compare "
                                "the reference (default: the snapshot of this image, taken when it was built) "
                                "with this container now.")
    diff_p.add_argument("a", nargs="?", help="snapshot A")
    diff_p.add_argument("b", nargs="?", help="snapshot B")
    diff_p.add_argument("--reference", nargs="?", const=str(REFERENCE_FILE), metavar="REF.json",
                        help=f"compare REF.json (default: {REFERENCE_FILE}) with this container now")
    diff_p.add_argument("--json", action="store_true", help="machine-readable output")
    diff_p.add_argument("--bench", action="store_true",
                        help="with --reference: measure this container now too, to compare speed with the "
                             "reference's figures (an image built with referenceBench)")
    diff_p.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help=argparse.SUPPRESS)
    watch_p = Parser(prog="env-doctor watch", epilog="exit code: the command's own (3 on a usage error)",
                     usage="env-doctor watch [--interval S] [--json FILE] -- COMMAND... | env-doctor watch --pid PID",
                     description="Run COMMAND, sample its processes and the GPUs until it ends, then print a summary "
                                 "and a verdict (on stderr): is it using the CPUs and GPUs it has?")
    watch_p.add_argument("--interval", default="1", help="seconds between samples (default 1)")
    watch_p.add_argument("--json", metavar="FILE", help="write the summary and verdict as JSON to FILE")
    watch_p.add_argument("--pid", type=int, help="watch this running process (and its children) until it ends or "
                                                 "Ctrl-C, instead of a command")
    bench_p = Parser(prog="env-doctor bench", parents=[env],
                     description="Measure this environment with the project's framework: matmul throughput, "
                                 "host-device copy bandwidth on GPUs, a CPU figure; median and spread of each.")
    bench_p.add_argument("--seconds", type=float, default=DEFAULT_SECONDS,
                         help=f"time to spend, about (default {DEFAULT_SECONDS:g})")
    bench_p.add_argument("--json", action="store_true", help="machine-readable output")
    return {"check": check_p, "snapshot": snap_p, "diff": diff_p, "watch": watch_p, "bench": bench_p}


def read_snapshot(path: str) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"env-doctor: cannot read snapshot {path}: {error}") from None
    if data.get("schema_version") != SCHEMA_VERSION:
        raise SystemExit(f"env-doctor: {path} has schema_version {data.get('schema_version')}, "
                         f"this env-doctor reads {SCHEMA_VERSION}")
    return data


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parsers = build_parsers()
    command = argv[0] if argv and argv[0] in parsers else "check"
    if command == "watch":
        return run_watch(argv[1:], parsers["watch"])
    args = parsers[command].parse_args(argv[1:] if argv and argv[0] in parsers else argv)
    if command == "diff":
        return run_diff(args, parsers["diff"])
    if command == "bench":
        return run_bench_command(args)
    if command == "snapshot":
        snap = snapshot(collect(args.python, args.project, at_build=args.at_build),
                        taken_at="build" if args.at_build else "container")
        if args.bench:
            snap["bench"], code = bench_or_exit_code(args)
            if snap["bench"] is None:
                return code
        text = json.dumps(snap, indent=2) + "\n"
        if args.output:
            Path(args.output).write_text(text)
            print(f"env-doctor: snapshot written to {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return EXIT_OK
    if args.on_start:
        if str(load_settings().get("checkOnStart", True)).lower() == "false":
            return EXIT_OK
        try:  # container start must never fail because of a check
            args.quiet = True
            run_check(args)
        except Exception as error:
            print(f"env-doctor: internal error, skipped ({type(error).__name__}: {error})", file=sys.stderr)
        return EXIT_OK
    return run_check(args)


def run_diff(args, parser) -> int:
    if (args.reference is None) == (args.b is None) or (args.reference is not None and args.a is not None):
        parser.print_usage(sys.stderr)
        print("env-doctor: error: give two snapshots, or --reference [REF.json] alone", file=sys.stderr)
        return EXIT_USAGE
    if args.bench and args.reference is None:
        print("env-doctor: error: --bench measures this container now: use it with --reference", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.reference is not None:
            if args.reference == str(REFERENCE_FILE) and not REFERENCE_FILE.is_file():
                raise SystemExit(f"env-doctor: this image has no reference snapshot ({REFERENCE_FILE}): it is written "
                                 "at build when the env-doctor feature's option referenceSnapshot is true")
            a, name_a = read_snapshot(args.reference), f"{args.reference} (reference)"
            b, name_b = snapshot(collect(args.python, args.project)), "this container now"
            if args.bench:
                b["bench"], code = bench_or_exit_code(args)
                if b["bench"] is None:
                    return code
            a, b = without_own_project(a), without_own_project(b)
        else:
            (a, name_a), (b, name_b) = (read_snapshot(args.a), args.a), (read_snapshot(args.b), args.b)
    except SystemExit as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    items = diff(a, b, load_versions())
    if args.json:
        print(json.dumps({"schema_version": SCHEMA_VERSION, "identical": not items, "differences": items,
                          "host_compared": host_comparable(a, b)}, indent=2))
    else:
        print(render_diff(items, name_a, name_b))
        if not host_comparable(a, b):
            print("(driver and GPUs not compared: the reference was taken at image build, which sees no host; "
                  "`env-doctor` checks this host's driver against the environment)")
    return EXIT_PROBLEMS if items else EXIT_OK


def check_seconds(seconds: float) -> float:
    if not 1 <= seconds <= 600:
        raise ValueError(f"--seconds takes 1 to 600, got {seconds:g}")
    return seconds


def bench_or_exit_code(args) -> tuple[dict | None, int]:
    """(the bench figures, EXIT_OK), or (None, the exit code) once the problem is printed: a bad
    --seconds is a usage error, a bench that could not run a problem."""
    try:
        return run_bench(project_python(args.python), check_seconds(args.seconds)), EXIT_OK
    except ValueError as error:
        print(f"env-doctor: error: {error}", file=sys.stderr)
        return None, EXIT_USAGE
    except BenchError as error:
        print(f"env-doctor: {error}", file=sys.stderr)
        return None, EXIT_PROBLEMS


def run_bench_command(args) -> int:
    bench, code = bench_or_exit_code(args)
    if bench is None:
        return code
    print(json.dumps(bench, indent=2) if args.json else render_bench(bench))
    return EXIT_PROBLEMS if bench["errors"] else EXIT_OK


WATCH_OPTIONS_WITH_VALUE = ("--interval", "--json", "--pid")


def split_command(argv: list[str]) -> tuple[list[str], list[str]]:
    """watch's own options and the command: what follows `--`, else from the first word that is
    neither an option nor an option's value."""
    if "--" in argv:
        split = argv.index("--")
        return argv[:split], argv[split + 1:]
    for i, word in enumerate(argv):
        if not word.startswith("-") and (i == 0 or argv[i - 1] not in WATCH_OPTIONS_WITH_VALUE):
            return argv[:i], argv[i:]
    return argv, []


def run_watch(argv: list[str], parser) -> int:
    options, command = split_command(argv)
    args = parser.parse_args(options)
    try:
        interval = runtime.check_interval(args.interval)
    except ValueError as error:
        parser.error(str(error))
    if bool(command) == (args.pid is not None):
        parser.error("give a command after --, or --pid PID (not both)")
    if args.json and not Path(args.json).resolve().parent.is_dir():
        parser.error(f"--json {args.json}: folder {Path(args.json).resolve().parent} does not exist")
    nvml = readings.load_nvml()
    if args.pid is not None:
        if not Path(f"/proc/{args.pid}").is_dir():
            parser.error(f"no process {args.pid} (is it in another PID namespace?)")
        summary = runtime.watch_pid(args.pid, interval, nvml,
                                    on_ready=lambda: print(f"env-doctor watch: watching PID {args.pid}", file=sys.stderr, flush=True))
        code = EXIT_OK
    else:
        try:
            code, summary = runtime.watch_command(command, interval, nvml)
        except runtime.CommandNotRun as error:
            print(error, file=sys.stderr)
            return 127
    runtime.print_summary(summary)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    return code


def run_check(args) -> int:
    facts = collect(args.python, args.project)
    results = evaluate(facts, load_versions())
    code = exit_code(results, facts, args.require_gpu)
    if args.json:
        report = {k: v for k, v in facts.items() if k != "packages"}
        report.update(kind="check", package_count=len(facts["packages"]), checks=results,
                      problems=sum(r["status"] in PROBLEMS for r in results), exit_code=code)
        print(json.dumps(report, indent=2))
    elif args.quiet:
        text = render_problems(results)
        if code == EXIT_NO_GPU:
            text = "env-doctor: ERROR gpu: a GPU is required (--require-gpu) but none is visible\n" + text
        if text.strip():
            print(text.rstrip())
    else:
        print(render_report(facts, results))
        if code == EXIT_NO_GPU:
            print("\nenv-doctor: a GPU is required (--require-gpu) but none is visible")
    return code
