#!/bin/sh
# slurm-node controller|node: munge, then slurmctld or slurmd in the foreground.
set -eu
runuser -u munge -- munged
case "${1:-node}" in
    controller) exec slurmctld -D ;;
    node) exec slurmd -D -N "$(hostname)" ;;
    *) echo "usage: slurm-node controller|node" >&2; exit 2 ;;
esac
