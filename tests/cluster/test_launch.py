"""A multi-node training's start on a node (`cluster launch`): a static node rank, the head's
address waited for, a port derived from the job."""

from __future__ import annotations

import sys
import time

import pytest
from mlcluster.launch import job_port, node_rank, torchrun_command, wait_for_address
from mlcluster.settings import ClusterError


def test_port_comes_from_the_job_so_two_trainings_on_a_node_differ():
    assert job_port("123") != job_port("124")
    assert all(20000 <= job_port(str(j)) < 40000 for j in (0, 1, 19999, 20000, 987654321))
    assert job_port("") == 29400


def test_node_rank_comes_from_the_engine(monkeypatch):
    for variable in ("SLURM_NODEID", "JOB_COMPLETION_INDEX"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ClusterError, match="no node rank"):
        node_rank()
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "3")
    assert node_rank() == 3
    monkeypatch.setenv("SLURM_NODEID", "1")
    assert node_rank() == 1 and node_rank(0) == 0


def test_head_address_is_waited_for_then_refused_with_the_reason():
    assert wait_for_address("localhost", timeout=1)
    started = time.monotonic()
    with pytest.raises(ClusterError, match="did not resolve in 1 s"):
        wait_for_address("no-such-head.invalid", timeout=1, interval=0.2)
    assert time.monotonic() - started < 10


def test_a_head_that_never_resolves_is_not_a_configuration_error(tmp_path):
    """Exit 2 means a configuration error, which the engines' failure policies do not retry; a head
    whose name never resolves is the cluster's fault, worth a restart: another exit status."""
    from mlcluster.cli import main

    code = main(None, ["launch", "--nodes=2", "--head=no-such-head.invalid", "--node-rank=1",
                       f"--output={tmp_path}", "--wait=0"])
    assert code == 3


def test_torchrun_gets_a_static_rank_and_runs_each_process_as_a_rank():
    command = torchrun_command(2, 4, 1, "node1", 21234, "/out", ["--epochs=3"])
    assert command[1:3] == ["-m", "torch.distributed.run"]
    assert {"--nnodes=2", "--nproc-per-node=4", "--node-rank=1", "--master-addr=node1",
            "--master-port=21234", "--no-python"} <= set(command)
    assert "--rdzv-endpoint" not in " ".join(command)  # no host-name matching
    assert command[-6] == sys.executable and command[-4:] == ["rank", "--output=/out", "--", "--epochs=3"]
