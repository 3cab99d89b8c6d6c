"""A multi-node training's start on each node: torchrun with a static node rank and an explicit
head address and port, never torchrun's host-name matching (which fails on nodes that report an
FQDN or an interconnect alias, pytorch/pytorch#73656), and only once the head's name resolves
(a Kubernetes headless service's record can appear seconds after the pod, pytorch/pytorch#73682)."""

from __future__ import annotations

import os
import socket
import sys
import time

from .settings import ClusterError
from .sweep import index_from_engine

FIRST_PORT, PORTS = 20000, 20000  # ports derived from the job ID: 20000-39999


class HeadNotFound(ClusterError):
    """The head's name did not resolve in time: the cluster's fault (DNS, a lost pod), worth a
    restart, unlike a configuration error (exit 2, which the engines do not retry)."""

    exit_code = 3


def job_port(job_id: str | None = None) -> int:
    """A rendezvous port derived from the job, so that two trainings sharing a node differ; a
    requeued Slurm job (same ID) takes the next one, its previous run's may still be held."""
    job_id = job_id if job_id is not None else os.environ.get("SLURM_JOB_ID", "")
    restarts = os.environ.get("SLURM_RESTART_COUNT", "0")
    restarts = int(restarts) if restarts.isdigit() else 0
    return FIRST_PORT + (int(job_id) + 7919 * restarts) % PORTS if job_id.isdigit() else 29400


def node_rank(explicit: int | None = None) -> int:
    """This node's rank: --node-rank, else Slurm's node index or the Indexed Job's completion index."""
    return index_from_engine(("SLURM_NODEID", "JOB_COMPLETION_INDEX"), explicit,
                             "no node rank: pass --node-rank, or run under srun or an Indexed Job")


def wait_for_address(host: str, timeout: float, interval: float = 1.0) -> str:
    """host's address, once it resolves; a clear error after timeout seconds."""
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        try:
            address = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0]
        except socket.gaierror:
            if time.monotonic() >= deadline:
                raise HeadNotFound(f"the head node's name {host} did not resolve in {timeout:.0f} s") from None
            if not waited:
                print(f"cluster: waiting for {host} to resolve", file=sys.stderr, flush=True)
                waited = True
            time.sleep(interval)
            continue
        if waited:
            print(f"cluster: {host} is {address}", file=sys.stderr, flush=True)
        return address


def torchrun_command(nodes: int, nproc: int, rank: int, head: str, port: int, output: str,
                     train_args: list[str]) -> list[str]:
    """torchrun (static rendezvous) running each process as `cluster rank`: its snapshot, then the
    watched training."""
    return [sys.executable, "-m", "torch.distributed.run", f"--nnodes={nodes}",
            f"--nproc-per-node={nproc}", f"--node-rank={rank}", f"--master-addr={head}",
            f"--master-port={port}", "--no-python", sys.executable, cluster_entry(), "rank",
            f"--output={output}", "--", *train_args]


def cluster_entry() -> str:
    """The folder `python` runs this runtime from (the project's cluster/, /app/cluster in the image)."""
    main = sys.modules["__main__"].__file__ or ""
    return os.path.dirname(os.path.abspath(main))


def launch(nodes: int, nproc: int, rank: int | None, head: str, port: int | None, output: str,
           train_args: list[str], wait: float) -> int:
    rank = node_rank(rank)
    port = port or job_port()
    wait_for_address(head, wait)
    command = torchrun_command(nodes, nproc, rank, head, port, output, train_args)
    print(f"cluster: node {rank} of {nodes}, head {head}:{port}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os.execv(command[0], command)  # torchrun in this process: the engine's signals reach it
    return 0  # not reached
