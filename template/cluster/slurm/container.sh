# shellcheck shell=bash
# Sourced by the batch scripts: in_image [SRUN-OPTIONS...] -- COMMAND... runs COMMAND with srun
# inside the project's job image, through the site's container runtime (CLUSTER_RUNTIME):
#   pyxis      srun --container-image (NVIDIA pyxis + enroot); runs as the calling user
#   apptainer  srun apptainer exec (a .sif, or docker://IMAGE); runs as the calling user
#   none       the nodes themselves run the job image (cluster/local, the test cluster)
# The output folder (CLUSTER_OUTPUT) and CLUSTER_MOUNTS (';'-separated SRC:DST[:ro]: the
# settings' data_dir at the data path, read-only, cache_dir at /cache, and extra mounts) are mounted.
# `python3 cluster sweep|train slurm` sets every CLUSTER_* variable.

: "${CLUSTER_RUNTIME:?submit with python3 cluster (it sets CLUSTER_RUNTIME)}"
: "${CLUSTER_OUTPUT:?submit with python3 cluster (it sets CLUSTER_OUTPUT)}"

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
            srun "${srun_options[@]}" apptainer exec "${gpu[@]}" --bind "$mounts" --pwd /app \
                "$CLUSTER_IMAGE" "$@" ;;
        none)
            srun "${srun_options[@]}" "$@" ;;
        *)
            echo "error: CLUSTER_RUNTIME=$CLUSTER_RUNTIME: use pyxis, apptainer or none" >&2
            return 2 ;;
    esac
}
