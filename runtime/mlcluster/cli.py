"""The command line: `python3 cluster COMMAND` in a project (cluster/__main__.py passes the
project's hooks), `python /app/cluster trial|rank` inside the job image (the engines start it)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import ModuleType

from . import __version__, kubectl, kubernetes, results, slurm, submission
from .launch import launch
from .settings import ClusterError, Project, load_settings, load_toml
from .sweep import expand_sweep, load_trials
from .trial import run_rank, run_trial

USAGE = """\
  python3 cluster sweep slurm --output /shared/runs/lr-search
  python3 cluster sweep kubernetes --output lr-search --dry-run > sweep.json
  python3 cluster summary /shared/runs/lr-search
  python3 cluster status|cancel|logs|resubmit /shared/runs/lr-search
  python3 cluster status|cancel|logs kubernetes NAME
"""
LIFECYCLE_USAGE = """\
  python3 cluster status /shared/runs/lr-search        # Slurm: the sweep's output folder
  python3 cluster status kubernetes project-lr-search  # Kubernetes: the name it was created with
"""
TRAIN_USAGE = """\
  python3 cluster train slurm --nodes 2 --output /shared/runs/ddp -- --epochs=5
  python3 cluster train kubernetes --nodes 2 --output ddp
"""


def parser(project: Project) -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python3 cluster",
        description=f"Sweeps{' and multi-node trainings' if project.distributed else ''} of "
        f"{project.name} on Slurm or Kubernetes, in its job image (mlcluster {__version__}; "
        "docs: cluster/README.md).",
        epilog=USAGE + (TRAIN_USAGE if project.distributed else ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    main.add_argument("--settings", type=Path, help="settings file (default: cluster/settings.toml)")
    main.add_argument("--version", action="version", version=f"mlcluster {__version__}")
    commands = main.add_subparsers(dest="command", required=True)
    output_help = ("Slurm: a folder on the shared file system; Kubernetes: a folder inside the "
                   "results volume")

    sweep = commands.add_parser("sweep", help="submit the sweep as an array of independent trials")
    sweep.add_argument("engine", choices=["slurm", "kubernetes"])
    sweep.add_argument("--sweep", type=Path, default=project.cluster_dir / "sweep.toml",
                       help="sweep file (default: cluster/sweep.toml)")
    sweep.add_argument("--output", required=True, help=output_help)
    sweep.add_argument("--name", help="Kubernetes object name (default: project and output folder)")
    sweep.add_argument("--wait", action="store_true", help="Slurm: return when all trials ended")
    sweep.add_argument("--dry-run", action="store_true",
                       help="print the sbatch command or the manifests instead of submitting")

    if project.distributed:
        train = commands.add_parser("train", help="submit one training across several nodes (DDP)")
        train.add_argument("engine", choices=["slurm", "kubernetes"])
        train.add_argument("--nodes", type=int, default=2)
        train.add_argument("--nproc-per-node", type=int,
                           help="processes per node (default: the GPUs per node, else 1)")
        train.add_argument("--output", required=True, help=output_help)
        train.add_argument("--name", help="Kubernetes object name")
        train.add_argument("--wait", action="store_true", help="Slurm: return when the job ended")
        train.add_argument("--dry-run", action="store_true")
        train.epilog = "Options after -- go to the training, e.g. -- --epochs=5 --lr=0.01"

    trial = commands.add_parser("trial", help="run one trial (in the image; the engine starts it)")
    trial.add_argument("--output", type=Path, required=True, help="the sweep's output folder")
    trial.add_argument("--trials", type=Path, help="expanded sweep (default: OUTPUT/trials.json)")
    trial.add_argument("--index", type=int, help="default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX")

    rank = commands.add_parser("rank", help="run one rank of a training (in the image, under torchrun)")
    rank.add_argument("--output", type=Path, required=True)

    start = commands.add_parser("launch", help="start torchrun on this node (in the image; the engine starts it)")
    start.add_argument("--nodes", type=int, required=True)
    start.add_argument("--nproc-per-node", type=int, default=1)
    start.add_argument("--node-rank", type=int, help="default: SLURM_NODEID or JOB_COMPLETION_INDEX")
    start.add_argument("--head", required=True, help="the first node's name: it hosts the rendezvous")
    start.add_argument("--port", type=int, help="default: derived from SLURM_JOB_ID, else 29400")
    start.add_argument("--output", required=True)
    start.add_argument("--wait", type=float, default=120, help="seconds to wait for --head to resolve")

    summary = commands.add_parser("summary", help="collect the results of a sweep")
    summary.add_argument("output", type=Path)
    summary.add_argument("--metric", help="metric to rank by (default: the results' objective)")
    summary.add_argument("--maximize", action="store_true", help="higher is better")
    summary.add_argument("--json", action="store_true", help="print summary.json")

    # Slurm: the OUTPUT folder (its submissions are recorded there); Kubernetes: `kubernetes NAME`,
    # the object name a sweep or training was submitted with.
    for name, text in (("status", "the state of the jobs and pods"),
                       ("cancel", "cancel the jobs (Kubernetes: delete them and their pods)"),
                       ("logs", "print the logs (Slurm: a trial's log files; Kubernetes: the pods')")):
        command = commands.add_parser(name, help=text, epilog=LIFECYCLE_USAGE,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_argument("target", metavar="OUTPUT | kubernetes NAME", nargs="+",
                             help="a Slurm sweep's output folder, or `kubernetes` and the job's name")
        if name == "logs":
            command.add_argument("--trial", type=int, help="the trial's index (a training: the node's)")
        command.add_argument("--dry-run", action="store_true", help="Kubernetes: print the kubectl commands")

    resubmit = commands.add_parser("resubmit", help="submit again only the trials not done")
    resubmit.add_argument("output", type=Path)
    resubmit.add_argument("--wait", action="store_true")
    resubmit.add_argument("--dry-run", action="store_true")
    return main


def main(hooks: ModuleType | None = None, argv: list[str] | None = None) -> int:
    project = Project(hooks)
    argv = list(sys.argv[1:] if argv is None else argv)
    passed = []  # after --: options of the training
    if "--" in argv:
        argv, passed = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    commands = parser(project)
    args = commands.parse_args(argv)
    if passed and args.command not in ("train", "rank", "launch"):
        commands.error(f"options after -- are for train, launch and rank only: {' '.join(passed)}")
    try:
        return run(project, args, passed)
    except ClusterError as error:
        print(f"cluster: error: {error}", file=sys.stderr)
        return getattr(error, "exit_code", 2)  # 2: a configuration error, never retried


def run(project: Project, args: argparse.Namespace, passed: list[str]) -> int:
    if args.command == "trial":
        return run_trial(project, args.output, args.trials, args.index)
    if args.command == "rank":
        return run_rank(project, args.output, passed)
    if args.command == "launch":
        return launch(args.nodes, args.nproc_per_node, args.node_rank, args.head, args.port,
                      args.output, passed, args.wait)
    if args.command == "summary":
        summary = results.summarize(args.output, args.metric, args.maximize)
        print(json.dumps(summary, indent=2) if args.json else results.render_summary(summary))
        return 1 if results.unfinished(summary) else 0
    settings_file = args.settings or project.cluster_dir / "settings.toml"
    if args.command in ("status", "cancel", "logs"):
        return lifecycle(project, args, settings_file)
    if args.command == "resubmit":
        return resubmit(project, args, settings_file)
    settings = load_settings(settings_file)
    output = args.output
    if args.command == "sweep":
        trials = expand_sweep(load_toml(args.sweep))
        if args.engine == "slurm":
            return slurm.sweep(project, settings, settings_file, Path(output).resolve(), args.sweep,
                               trials, None, args.dry_run, args.wait)
        name = kubernetes_name(project, args)
        manifests = kubernetes.sweep_manifests(project, settings, trials, output, name)
        print(f"cluster: {len(trials)} trials -> {kubernetes.output_path(output)} on claim "
              f"{settings['kubernetes'].get('output_claim')}; Job {name} "
              f"(python3 cluster status|logs|cancel kubernetes {name})", file=sys.stderr)
        return kubectl.create(manifests, args.dry_run)
    gpus = settings["slurm"].get("gpus_per_node") if args.engine == "slurm" else settings["kubernetes"].get("gpus")
    nproc = args.nproc_per_node or gpus or 1  # one process per GPU, else one
    if args.engine == "slurm":
        return slurm.train(project, settings, settings_file, Path(output).resolve(), args.nodes,
                           nproc, passed, args.dry_run, args.wait)
    name = kubernetes_name(project, args)
    manifests = kubernetes.train_manifests(project, settings, args.nodes, nproc, output, name, passed)
    print(f"cluster: {args.nodes} nodes -> {kubernetes.output_path(output)}; JobSet {name} "
          f"(python3 cluster status|logs|cancel kubernetes {name})", file=sys.stderr)
    return kubectl.create(manifests, args.dry_run)


def kubernetes_name(project: Project, args: argparse.Namespace) -> str:
    """--name, else the project's name and the output folder's, as a Kubernetes name."""
    return kubernetes.k8s_name(args.name or f"{project.name}-{Path(args.output).name}")


def lifecycle(project: Project, args: argparse.Namespace, settings_file: Path) -> int:
    """status, cancel, logs: of a Slurm sweep by its OUTPUT folder, of a Kubernetes sweep or
    training by `kubernetes NAME`."""
    target = args.target
    trial = getattr(args, "trial", None)
    if len(target) == 2 and target[0] == "kubernetes":
        settings = load_settings(settings_file)
        return kubectl.lifecycle(args.command, settings, target[1], trial, project.distributed,
                                    args.dry_run)
    if target == ["kubernetes"]:
        raise ClusterError(f"{args.command} kubernetes NAME: give the name the sweep or training "
                           "was created with (the submission printed it)")
    if len(target) == 2 and target[0] == "slurm":
        target = target[1:]
    if len(target) != 1:
        raise ClusterError(f"{args.command}: give a Slurm sweep's OUTPUT folder, or "
                           f"`kubernetes NAME`, not {' '.join(target)}")
    if args.dry_run:
        raise ClusterError("--dry-run is for Kubernetes (it prints the kubectl commands)")
    output = Path(target[0])
    if args.command == "status":
        return slurm.status(output)
    if args.command == "cancel":
        return slurm.cancel(output)
    files = slurm.log_files(output, trial)
    if not files:
        raise ClusterError(f"no Slurm log in {output} for that trial")
    for path in files:
        print(f"==> {path} <==\n{path.read_text()}")
    return 0


def resubmit(project: Project, args: argparse.Namespace, settings_file: Path) -> int:
    """The trials not done (missing, failed, stopped) of a Slurm sweep, as one new job array,
    with the settings and sweep of its last submission (the same image)."""
    output = args.output.resolve()
    summary = results.collect(output)
    todo = results.unfinished(summary)
    if not todo:
        print(f"cluster: all {summary['trials']} trials are done in {output}", file=sys.stderr)
        return 0
    records = [r for r in submission.all_records(output) if r.get("kind") == "sweep"]
    if not records:
        raise ClusterError(f"no sweep submission recorded in {output}/submissions")
    last = Path(records[-1]["folder"])
    recorded = args.settings or last / "settings.toml"
    settings = load_settings(recorded)
    trials = load_trials(output / "trials.json")
    return slurm.sweep(project, settings, recorded, output, last / "sweep.toml", trials, todo,
                       args.dry_run, args.wait)
