"""CPU PyTorch projects take torch from PyTorch's CPU wheel index (no CUDA libraries), through a uv
index for torch alone; CUDA projects keep PyPI's build. The lock is made against a stand-in index
on 127.0.0.1 serving a wheel with the real CPU release's metadata (PyTorch's own index cannot be
reached from the test machines; tests/integration/test_cpu_torch_image.py installs the real wheel)."""

from __future__ import annotations

import hashlib
import subprocess
import tomllib
from urllib.parse import quote

import pytest

from tests.utils.project import LOCK_PYTHON, REPO, layer_groups, render
from tests.utils.tools import tool
from tests.utils.wheel_index import metadata_wheel, serve, write_index

UV = tool("uv")
PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
AARCH64 = "    \"sys_platform == 'linux' and platform_machine == 'aarch64'\",\n"


def pyproject(root) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())


def test_cpu_project_takes_torch_from_pytorchs_cpu_index(tmp_path):
    uv = pyproject(render(tmp_path / "p", framework="pytorch", accelerator="cpu"))["tool"]["uv"]
    assert uv["index"] == [{"name": "pytorch-cpu", "url": PYTORCH_CPU_INDEX, "explicit": True}]
    assert uv["sources"] == {"torch": {"index": "pytorch-cpu"}}  # torch alone
    assert len(uv["required-environments"]) == 2  # the product still locks for x86_64 and aarch64


@pytest.mark.parametrize("framework, accelerator", [("pytorch", "cuda"), ("jax", "cpu"), ("tensorflow", "cpu")])
def test_other_projects_have_no_extra_index(tmp_path, framework, accelerator):
    root = render(tmp_path / "p", framework=framework, accelerator=accelerator)
    assert "index" not in pyproject(root)["tool"]["uv"] and "sources" not in pyproject(root)["tool"]["uv"]


def test_mirror_answer_is_used(tmp_path):
    mirror = "https://pypi-mirror.corp.example/pytorch/whl/cpu"
    root = render(tmp_path / "p", framework="pytorch", accelerator="cpu", torch_cpu_index=mirror)
    assert pyproject(root)["tool"]["uv"]["index"][0]["url"] == mirror
    assert (root / ".copier-answers.yml").read_text().count(mirror) == 1  # kept for `copier update`


@pytest.mark.parametrize("bad", ["download.pytorch.org/whl/cpu", "ftp://mirror/whl", 'https://x/"; rm', "https://"])
def test_bad_index_url_is_refused(tmp_path, bad):
    with pytest.raises(ValueError, match="is not an index URL"):
        render(tmp_path / "p", framework="pytorch", accelerator="cpu", torch_cpu_index=bad)
    assert not (tmp_path / "p").exists()


def test_lock_takes_the_cpu_wheel_with_its_hash_from_the_index(tmp_path):
    cp = "cp" + LOCK_PYTHON.replace(".", "")
    wheel = metadata_wheel(tmp_path / "wheels", REPO / "tests/data/torch-2.13.0+cpu.METADATA", f"{cp}-{cp}-manylinux_2_28_x86_64")
    write_index(tmp_path / "index", [wheel])
    with serve(tmp_path / "index") as url:
        root = render(tmp_path / "p", framework="pytorch", accelerator="cpu", python_version=LOCK_PYTHON,
                      framework_version="2.13.0", torch_cpu_index=url)
        # The stand-in serves only the x86_64 wheel; PyTorch's real CPU index has aarch64 ones too.
        path = root / "pyproject.toml"
        path.write_text(path.read_text().replace(AARCH64, ""))
        subprocess.run([UV, "lock"], cwd=root, check=True, capture_output=True)
    lock = tomllib.loads((root / "uv.lock").read_text())
    torch = next(p for p in lock["package"] if p["name"] == "torch")
    assert torch["version"] == "2.13.0+cpu" and torch["source"] == {"registry": url}
    assert [w["hash"] for w in torch["wheels"]] == [f"sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}"]
    names = {p["name"] for p in lock["package"]}
    assert not any(n.startswith(("nvidia-", "cuda-", "triton")) for n in names), names
    others = [p for p in lock["package"] if p["name"] not in ("torch", root.name) and "registry" in p["source"]]
    assert others and all(p["source"]["registry"] != url for p in others)  # only torch from that index
    # The image's framework layer installs torch from the wheel's URL on that index, as locked
    # (.devcontainer/layer_pins.py): no index is asked, so none can offer PyPI's CUDA build instead.
    groups = layer_groups(root, tmp_path / "pins", "torch", "--with", "numpy")
    framework = tomllib.loads(groups["pylock.framework.toml"].decode())["packages"]
    assert [(p["name"], p["version"]) for p in framework] == [("torch", "2.13.0+cpu")]
    assert framework[0]["wheels"][0]["url"] == f"{url.removesuffix('/simple')}/files/{quote(wheel.name)}"
