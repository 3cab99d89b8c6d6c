"""The frameworks on the real GPU: the CUDA runtime and cuDNN torch loads, through the cuda/cudnn
features' own probes; each generated project's device code and example notebook; a one-node
torchrun DDP step (NCCL); a JAX project on JAX's CUDA plugin (docs/gpu-check.md). The probe
programs are in tests/gpu/probes/, the judging in tests/utils/gpu_check.py."""

from __future__ import annotations

import pytest

from tests.utils import gpu_check

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def torch(python, log) -> dict | None:
    return gpu_check.torch_facts(python, log)


def test_cuda_and_cudnn_that_torch_loads(torch, python, log, verdict):
    verdict(gpu_check.check_cuda_probes(torch, python, log))


def test_projects_device_code_and_notebook(projects, python, gpu, log, verdict):
    if not projects:
        verdict([gpu_check.result("projects", gpu_check.SKIP, "no project given and copier is not importable: "
                                  "render them first (docs/gpu-check.md)")])
    verdict([r for project in projects for r in gpu_check.check_project(python, project, gpu, log)])


def test_torchrun_ddp_step(torch, python, log, verdict):
    verdict(gpu_check.check_ddp(torch, python, log))


def test_a_jax_project_was_run(projects, python, verdict):
    if "jax" not in [gpu_check.project_framework(p) for p in projects]:
        verdict([gpu_check.result("JAX project", gpu_check.SKIP, "no JAX project given" if gpu_check.can_import(python, "jax")
                                  else f"jax is not importable by {python}, and no JAX project given: the JAX part is skipped")])
