# shellcheck shell=bash
# Sourced by the batch scripts: in_image [SRUN-OPTIONS...] -- COMMAND... runs COMMAND with srun
# inside the project's job image, through the site's container runtime (CLUSTER_RUNTIME):
#   pyxis      srun --container-image (NVIDIA pyxis + enroot); runs as the calling user
#   apptainer  srun apptainer exec (a .sif, or docker://IMAGE); runs as the calling user
#   none       the nodes themselves run the job image (cluster/local, the test cluster)
# The output folder (CLUSTER_OUTPUT) and CLUSTER_MOUNTS (';'-separated SRC:DST[:ro]: the
# settings' data_dir at the data path, read-only, cache_dir at /cache, and extra mounts) are mounted.
# run_step runs in_image so that the job survives its time limit: see below.
# `python3 cluster sweep|train slurm` sets every CLUSTER_* variable.

: "${CLUSTER_RUNTIME:?submit with python3 cluster (it sets CLUSTER_RUNTIME)}"
: "${CLUSTER_OUTPUT:?submit with python3 cluster (it sets CLUSTER_OUTPUT)}"

# The image's Python, not the submitting shell's: sbatch passes that shell's environment on
# (--export=ALL, which the batch shell needs for PATH and the site's variables).
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONUSERBASE
export PYTHONNOUSERSITE=1
# Since Slurm 22.05 srun no longer takes --cpus-per-task from the job: without this every step
# would get one CPU, whatever was allocated.
if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then export SRUN_CPUS_PER_TASK="$SLURM_CPUS_PER_TASK"; fi

in_image() {
    local srun_options=()
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do srun_options+=("$1"); shift; done
    [ "$#" -gt 0 ] && shift  # the --
    local mounts="$CLUSTER_OUTPUT:$CLUSTER_OUTPUT"
    [ -z "${CLUSTER_MOUNTS:-}" ] || mounts="$mounts,${CLUSTER_MOUNTS//;/,}"
    case "$CLUSTER_RUNTIME" in
        pyxis)
            # The image's own environment (PATH=/opt/venv/bin..., HOME=/tmp) and working folder.
            srun "${srun_options[@]}" --container-image="$CLUSTER_IMAGE" \
                --container-mounts="$mounts" --container-workdir=/app --no-container-mount-home \
                "$@" ;;
        apptainer)
            local gpu=()
            [ -z "${SLURM_GPUS_ON_NODE:-}${SLURM_GPUS_PER_NODE:-}" ] || gpu=(--nv)
            # A clean environment without the home folder; each task passes in what the job
            # needs (its own SLURM_* values are set by srun, so the list is made in the task).
            srun "${srun_options[@]}" bash -c "$(declare -f apptainer_exec); apptainer_exec \"\$@\"" \
                apptainer_exec "${gpu[@]}" --bind "$mounts" --pwd /app "$CLUSTER_IMAGE" "$@" ;;
        none)
            srun "${srun_options[@]}" "$@" ;;
        *)
            echo "error: CLUSTER_RUNTIME=$CLUSTER_RUNTIME: use pyxis, apptainer or none" >&2
            return 2 ;;
    esac
}

# apptainer exec --cleanenv --no-home with the job's variables: Slurm's, the accelerators' and
# networks' (CUDA_*, NVIDIA_*, NCCL_*, UCX_*, FI_*), and CLUSTER_JOB_VARIABLES (storage).
apptainer_exec() {
    local name
    for name in $(compgen -e); do
        case " $name " in
            " SLURM_"* | " CUDA_"* | " NVIDIA_"* | " NCCL_"* | " UCX_"* | " FI_"* | " CLUSTER_"* \
                | " PYTHONNOUSERSITE " | " TMPDIR ")
                export "APPTAINERENV_$name=${!name}" ;;
        esac
    done
    for name in ${CLUSTER_JOB_VARIABLES:-}; do
        [ -z "${!name+set}" ] || export "APPTAINERENV_$name=${!name}"
    done
    exec apptainer exec --cleanenv --no-home "$@"
}

# run_step IN_IMAGE-ARGS...: in_image in the background, so that this shell can act on a signal
# while the step runs (bash runs a trap only between commands).
# - CLUSTER_WARNING_SIGNAL (USR2), sent to this shell only (sbatch --signal=B:USR2@SECONDS,
#   slurm.warning_seconds before the time limit): the step's tasks get SIGTERM from Slurm
#   (scancel --signal, not srun's: srun turns a SIGTERM it gets into SIGKILL, see _srun_signal_mgr in
#   https://github.com/SchedMD/slurm/blob/master/src/srun/srun_job.c); the trial runner
#   passes it to the training, torchrun to its workers; the training checkpoints and exits,
#   and the job requeues itself; its next run resumes from the checkpoint.
# - SIGTERM (scancel, preemption, a requeue, the time limit): Slurm signals the step itself;
#   this shell waits for its end. Slurm requeues a preempted job itself (--requeue), never a
#   cancelled one.
# The step's exit status is returned; after the warning, the job is requeued unless it succeeded.
run_step() {
    CLUSTER_WARNED=0
    in_image "$@" &
    CLUSTER_STEP=$!
    trap 'CLUSTER_WARNED=1; echo "$(date +%T) warning signal: stopping the step"
          scancel --signal=TERM "$SLURM_JOB_ID"' "${CLUSTER_WARNING_SIGNAL:-USR2}"
    trap 'echo "$(date +%T) SIGTERM: waiting for the step"' TERM
    local status
    while true; do
        status=0
        wait "$CLUSTER_STEP" || status=$?
        kill -0 "$CLUSTER_STEP" 2>/dev/null || break  # else a trap interrupted the wait
    done
    echo "$(date +%T) step ended with status $status"
    if [ "$CLUSTER_WARNED" = 1 ] && [ "$status" != 0 ]; then
        requeue_self
    fi
    return "$status"
}

# This job (an array task by its own ID) back into the queue, its log kept (--open-mode=append),
# at most CLUSTER_MAX_REQUEUES times (slurm.max_requeues): a training that never gets past its
# warning stops there, its checkpoint kept for `python3 cluster resubmit`.
requeue_self() {
    local job="$SLURM_JOB_ID"
    [ -z "${SLURM_ARRAY_TASK_ID:-}" ] || job="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
    if [ "${SLURM_RESTART_COUNT:-0}" -ge "${CLUSTER_MAX_REQUEUES:-20}" ]; then
        echo "$(date +%T) not requeued: job $job ran ${SLURM_RESTART_COUNT:-0} times already (slurm.max_requeues)"
        return
    fi
    echo "$(date +%T) requeueing job $job (restart $((${SLURM_RESTART_COUNT:-0} + 1)))"
    scontrol requeue "$job"
    exit 0
}

# A banner for each run of the job: a requeued job runs the whole batch script again.
run_banner() {
    echo "$(date +%T) $* on $(hostname), restart ${SLURM_RESTART_COUNT:-0}"
}
