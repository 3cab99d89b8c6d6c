"""A CPU PyTorch project built for real: torch comes from the project's CPU index (a stand-in on
127.0.0.1 serving PyTorch's CPU wheel), the image carries no CUDA library, and torch computes.
One image build; its size is printed (a CUDA PyTorch project's image is about 5.9 GB)."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from tests.test_cpu_torch import AARCH64, UV
from tests.utils.docker import engine, run
from tests.utils.figures import record
from tests.utils.project import render, trust_host_ca
from tests.utils.wheel_index import find_wheel, serve, write_index

pytestmark = pytest.mark.integration

CUDA_LIBRARIES = r"-name 'libcudart*' -o -name 'libcublas*' -o -name 'libcudnn*' -o -name 'libnccl*' -o -name 'libcufft*'"


def test_cpu_torch_image_has_no_cuda_and_runs(docker, tmp_path):
    wheel = find_wheel("torch-2.13.0+cpu-cp311-*.whl")
    assert wheel, "this test needs torch-2.13.0+cpu (cp311) in pip's find-links folder (`pip config list`)"
    write_index(tmp_path / "index", [wheel])
    tag = f"cpu-torch-{uuid.uuid4().hex[:8]}:dev"
    with serve(tmp_path / "index") as url:
        root = render(tmp_path / "cpu-torch", project_name="CPU Torch", framework="pytorch", accelerator="cpu",
                      python_version="3.11", framework_version="2.13.0", base_image="debian:bookworm",
                      torch_cpu_index=url)
        path = root / "pyproject.toml"  # the stand-in has no aarch64 wheel (PyTorch's index has)
        path.write_text(path.read_text().replace(AARCH64, ""))
        subprocess.run([UV, "lock"], cwd=root, check=True, capture_output=True)
        trust_host_ca(root)
        # --network host: 127.0.0.1 in the build is this machine, where the stand-in listens
        run([docker, "build", "--network", "host", "--progress=plain", "-f", ".devcontainer/Dockerfile",
             "--target", "dev", "-t", tag, "."], cwd=root, timeout=3000)
    try:
        client = engine()
        out = client.containers.run(tag, ["python", "-c", (
            "import torch; x = torch.randn(256, 256); y = x @ x.T; "
            "print(torch.__version__, torch.version.cuda, torch.cuda.is_available(), bool((y.diagonal() > 0).all()))")],
            remove=True).decode().split()
        assert out == ["2.13.0+cpu", "None", "False", "True"]
        search = (f"find / -xdev \\( {CUDA_LIBRARIES} \\) -print; "
                  "ls /opt/venv/lib/python3.11/site-packages | grep -i -E '^(nvidia|cuda|triton)' || true")
        found = client.containers.run(tag, ["sh", "-c", search], remove=True, user="root").decode().split()
        assert found == [], f"CUDA libraries in a CPU image: {found}"
        size = client.images.get(tag).attrs["Size"]
        record(f"CPU PyTorch image ({tag}, target dev): {size / 1e9:.2f} GB")
        assert size < 2.5e9
    finally:
        try:
            engine().images.remove(tag, force=True)
        except Exception:
            pass
