"""Slurm: a sweep as a job array, a training across nodes; the batch scripts (the project's
cluster/slurm/) copied into the output folder's submission record and submitted from there."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from . import results, submission
from .settings import ClusterError, Project, job_image
from .sweep import TRIALS_FILE, trials_json

RUNTIMES = ("pyxis", "apptainer", "none")
# The early warning before the time limit (sbatch --signal=B:USR2@SECONDS): `B:` delivers it to
# the batch shell only, which stops the step with SIGTERM (the signal the training, the trial
# runner and torchrun all handle), waits for its checkpoint and requeues the job. Never USR1:
# NCCL catches it (submitit moved to USR2 for that, and later discussed SIGHUP), and PyTorch
# Lightning treats USR1 as its own requeue request; torchrun does not forward USR1/USR2 at all.
# (https://github.com/facebookincubator/submitit/pull/1697, https://github.com/pytorch/pytorch/issues/154849)
WARNING_SIGNAL = "USR2"


def pyxis_image(image: str) -> str:
    """enroot names the registry with '#': ghcr.io/org/img@sha256:.. -> ghcr.io#org/img@sha256:.."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return f"{first}#{rest}"
    return image


def container(settings: dict) -> tuple[str, str, str]:
    """(runtime, image as the runtime names it, image reference as published)."""
    slurm = settings["slurm"]
    runtime = slurm.get("runtime", "pyxis")
    if runtime not in RUNTIMES:
        raise ClusterError(f"slurm.runtime = {runtime!r}: use one of {', '.join(RUNTIMES)}")
    image = job_image(settings) if runtime != "none" else str(settings.get("image", ""))
    if runtime == "pyxis":
        return runtime, pyxis_image(image), image
    if runtime == "apptainer":
        return runtime, slurm.get("apptainer_image") or f"docker://{image}", image
    return runtime, image, image


def import_once(settings: dict) -> str | None:
    """Where the submission keeps its own copy of the image, imported once by a first small job
    (import.sbatch) that the trials or the training wait for: a squashfs for pyxis (enroot
    import), a .sif for Apptainer (apptainer build); None when every job pulls for itself."""
    slurm = settings["slurm"]
    if not slurm.get("import_once", False):
        return None
    runtime = container(settings)[0]
    if runtime == "pyxis":
        return "image.sqsh"
    if runtime == "apptainer" and not slurm.get("apptainer_image"):
        return "image.sif"
    return None  # runtime "none", or a .sif built already


def export_variables(project: Project, settings: dict, output: Path, folder: Path) -> dict:
    """What the batch scripts read (CLUSTER_*) and the jobs get (the storage variables)."""
    slurm = settings["slurm"]
    runtime, image, _ = container(settings)
    # The site's data folder at the data path (read-only) and its cache folder at the cache dir:
    # the same paths as in the devcontainer. With runtime "none" the nodes are the image.
    mounts = list(slurm.get("mounts", []))
    if slurm.get("data_dir"):
        mounts.append(f"{slurm['data_dir']}:{project.data_path}:ro")
    if slurm.get("cache_dir"):
        mounts.append(f"{slurm['cache_dir']}:{project.cache_dir}")
    storage = project.storage_environment(cache=bool(slurm.get("cache_dir")))
    export = {
        "CLUSTER_SUBMISSION": str(folder),
        "CLUSTER_RUNTIME": runtime,
        "CLUSTER_IMAGE": image,
        "CLUSTER_OUTPUT": str(output),
        "CLUSTER_MOUNTS": ";".join(mounts),  # container.sh turns ';' into ','
        "CLUSTER_WARNING_SIGNAL": WARNING_SIGNAL,
        "CLUSTER_MAX_REQUEUES": str(max_requeues(settings)),
        # What Apptainer's clean environment lets in, besides Slurm's and NCCL's own variables.
        "CLUSTER_JOB_VARIABLES": " ".join(storage),
        **storage,
    }
    copy = import_once(settings)
    if copy:  # the jobs run the submission's own copy; import.sbatch pulls IMAGE into it
        export.update(CLUSTER_IMAGE=str(folder / copy), CLUSTER_IMPORT_FROM=image)
    for key, value in export.items():
        if "," in value:
            raise ClusterError(f"{key} must not contain ',' (sbatch --export): {value}")
    return export


def max_requeues(settings: dict) -> int:
    """How often a job may requeue itself after the time limit's warning (each run resumes)."""
    value = settings["slurm"].get("max_requeues", 20)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ClusterError(f"slurm.max_requeues = {value!r}: a whole number, 0 = never requeue")
    return value


def resources(settings: dict, nodes: int | None) -> list[str]:
    """A sweep's task (nodes None): cpus_per_task and gpus_per_trial; a training's nodes: one task
    per node with cpus_per_task and gpus_per_node."""
    slurm = settings["slurm"]
    options = []
    if nodes is not None:
        options += [f"--nodes={nodes}", "--ntasks-per-node=1"]
    if slurm.get("cpus_per_task"):
        options.append(f"--cpus-per-task={slurm['cpus_per_task']}")
    if nodes is None and slurm.get("gpus_per_trial"):
        options.append(f"--gpus={slurm['gpus_per_trial']}")
    if nodes is not None and slurm.get("gpus_per_node"):
        options.append(f"--gpus-per-node={slurm['gpus_per_node']}")
    return options


def recovery_options(settings: dict) -> list[str]:
    """Requeued when preempted or when its node fails (Slurm), or by itself after the early
    warning (the batch script); the log appended to, so that it keeps every run."""
    warning = settings["slurm"].get("warning_seconds", 120)
    if not isinstance(warning, int) or isinstance(warning, bool) or warning < 0:
        raise ClusterError(f"slurm.warning_seconds = {warning!r}: a whole number of seconds, 0 = no warning")
    options = ["--requeue", "--open-mode=append"]
    if warning:
        options.append(f"--signal=B:{WARNING_SIGNAL}@{warning}")
    return options


def sbatch_command(settings: dict, script: Path, name: str, options: list[str],
                   export: dict, script_args: list[str]) -> list[str]:
    slurm = settings["slurm"]
    command = ["sbatch", "--parsable", f"--job-name={name}", *recovery_options(settings), *options]
    for option in ("partition", "account", "time"):
        if slurm.get(option):
            command.append(f"--{option}={slurm[option]}")
    command += [str(arg) for arg in slurm.get("extra_args", [])]
    # ALL: the batch shell needs the submitting shell's PATH and the site's variables (modules,
    # proxies, Slurm's own); container.sh removes the Python ones before the step starts.
    command.append("--export=ALL," + ",".join(f"{k}={v}" for k, v in export.items()))
    return [*command, str(script), *script_args]


def import_command(settings: dict, name: str, output: Path, export: dict, script: Path) -> list[str]:
    """The first job of a submission with import_once: one task that imports the image into the
    submission's folder; the trials or the training start after it succeeded."""
    slurm = settings["slurm"]
    command = ["sbatch", "--parsable", f"--job-name={name}-import", "--ntasks=1",
               f"--output={output}/slurm-%j-import.out"]
    for option in ("partition", "account"):
        if slurm.get(option):
            command.append(f"--{option}={slurm[option]}")
    command += [str(arg) for arg in slurm.get("extra_args", [])]
    command.append("--export=ALL," + ",".join(f"{k}={v}" for k, v in export.items()))
    return [*command, str(script)]


def preflight(settings: dict, dry_run: bool) -> None:
    """What would stop a submission, before anything is written."""
    container(settings)
    if not dry_run and shutil.which("sbatch") is None:
        raise ClusterError("sbatch is not on PATH here: run this where sbatch is (a login node)")


def submit(project: Project, settings: dict, settings_file: Path, output: Path, script: str,
           name: str, options: list[str], script_args: list[str], extra_files: dict,
           facts: dict, dry_run: bool, wait: bool) -> int:
    """Record the submission in OUTPUT/submissions/NNN, then sbatch the recorded script."""
    source = project.cluster_dir / "slurm"
    preflight(settings, dry_run)
    if dry_run:
        folder = output / "submissions" / "NNN"
    else:
        output.mkdir(parents=True, exist_ok=True)
        folder = submission.new_folder(output)
    export = export_variables(project, settings, output, folder)
    if wait:
        options = [*options, "--wait"]
    first = None
    if import_once(settings):
        first = import_command(settings, name, output, export, folder / "import.sbatch")
        options = [*options, "--dependency=afterok:IMPORT_JOB"]
    command = sbatch_command(settings, folder / script, name, options, export, script_args)
    if dry_run:
        if first:
            print(shlex.join(first))
        print(shlex.join(command))
        return 0
    files = {script: source / script, "container.sh": source / "container.sh",
             "settings.toml": settings_file, **extra_files}
    if first:
        files["import.sbatch"] = source / "import.sbatch"
    _, _, image = container(settings)
    submission.write(folder, files, {"engine": "slurm", "command": command, "image": image,
                                     "git": submission.git_commit(project.cluster_dir), **facts})
    if first:
        imported = subprocess.run(first, stdout=subprocess.PIPE, text=True)
        import_job = imported.stdout.strip().split(";")[0]
        if imported.returncode != 0 or not re.fullmatch(r"\d+", import_job):
            return imported.returncode or 1
        command = [c.replace("IMPORT_JOB", import_job) for c in command]
        submission.update(folder, import_job_id=import_job, command=command)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    first = process.stdout.readline().strip()  # --parsable: "JOBID[;CLUSTER]" at submission
    job_id = first.split(";")[0]
    if re.fullmatch(r"\d+", job_id):
        submission.update(folder, job_id=job_id)
        print(f"cluster: submitted job {job_id}; record: {folder}", file=sys.stderr)
    rest = process.stdout.read()
    if rest:
        print(rest, end="")
    return process.wait()


def sweep(project: Project, settings: dict, settings_file: Path, output: Path, sweep_file: Path,
          trials: list[dict], indices: list[int] | None, dry_run: bool, wait: bool) -> int:
    """The trials (all, or only `indices`) as one job array; each task runs `trial`."""
    limit = settings["slurm"].get("max_parallel", 0)
    selected = indices if indices is not None else list(range(len(trials)))
    array = ",".join(str(i) for i in selected) if indices is not None else f"0-{len(trials) - 1}"
    options = [f"--array={array}" + (f"%{limit}" if limit else ""), "--ntasks=1",
               f"--output={output}/slurm-%A_%a.out", *resources(settings, nodes=None)]
    preflight(settings, dry_run)
    print(f"cluster: {len(selected)} of {len(trials)} trials -> {output}", file=sys.stderr)
    if not dry_run:
        output.mkdir(parents=True, exist_ok=True)
        if not (output / "trials.json").exists():
            (output / "trials.json").write_text(trials_json(trials))
            shutil.copyfile(sweep_file, output / "sweep.toml")
    return submit(project, settings, settings_file, output, "sweep.sbatch", f"{project.name}-sweep",
                  options, [], {"sweep.toml": sweep_file}, {"kind": "sweep", "trials": selected},
                  dry_run, wait)


def train(project: Project, settings: dict, settings_file: Path, output: Path, nodes: int,
          nproc: int, train_args: list[str], dry_run: bool, wait: bool) -> int:
    options = [f"--output={output}/slurm-%j.out", *resources(settings, nodes)]
    return submit(project, settings, settings_file, output, "train.sbatch", f"{project.name}-train",
                  options, [str(nproc), *train_args], {}, {"kind": "train", "nodes": nodes},
                  dry_run, wait)


def job_ids(output: Path) -> list[str]:
    ids = [r[key] for r in submission.all_records(output) for key in ("import_job_id", "job_id")
           if r.get(key)]
    if not ids:
        raise ClusterError(f"no Slurm job recorded in {output}/submissions")
    return ids


def status(output: Path) -> int:
    """squeue for the recorded jobs still known to the controller, then sacct when accounting runs."""
    ids = ",".join(job_ids(output))
    # --states=all: the ended ones too, while the controller remembers them (MinJobAge)
    queue = subprocess.run(["squeue", "--states=all", "-j", ids, "-o", "%.18i %.9T %.10M %.6D %R"],
                           text=True, capture_output=True)
    print(queue.stdout or queue.stderr, end="")
    if shutil.which("sacct"):
        history = subprocess.run(["sacct", "-X", "-j", ids, "-o", "JobID%20,State,Elapsed,ExitCode,NodeList"],
                                 text=True, capture_output=True)
        if history.returncode == 0:
            print(history.stdout, end="")
    if (output / TRIALS_FILE).is_file():  # a sweep: each trial's own state, from its folder
        trials = results.collect(output)
        print(f"trials: {trials['done']}/{trials['trials']} done; failed {trials['failed']}, "
              f"stopped {trials['stopped']}, missing {trials['missing']}")
    return 0


def cancel(output: Path) -> int:
    return subprocess.run(["scancel", *job_ids(output)]).returncode


def log_files(output: Path, index: int | None) -> list[Path]:
    pattern = f"slurm-*_{index}.out" if index is not None else "slurm-*.out"
    return sorted(output.glob(pattern))
