"""scripts/discover_releases.py against index metadata recorded on the day the data was brought up
to date (tests/data/index-2026-discovery.json, written by its --record; no network here).

The recording was made with data/versions.yml as it stood before the discovery wrote into it, so
replaying it against today's data minus what it added must give back today's data, byte for byte.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from scripts import discover_releases as discovery
from scripts.releases.data import write_releases
from scripts.releases.facts import Refused, discover, missing_versions
from scripts.releases.index import RecordedIndex, file_version
from tests.utils.project import REPO

RECORDING = REPO / "tests/data/index-2026-discovery.json"
# What the discovery added on that day, and the one fact given by hand (NVIDIA's release notes).
ADDED = {"pytorch": ["2.15.0"], "tensorflow": ["2.21.0"], "jax": ["0.12.0.1", "0.11.2", "0.10.2", "0.9.2", "0.8.3"]}
DRIVERS = {"13.2": "595.45.04"}


def data_before(text: str) -> str:
    """Today's data without what the discovery added (its releases and the CUDA release new then)."""
    added = {v for versions in ADDED.values() for v in versions} | set(DRIVERS)
    return "".join(line for line in text.splitlines(keepends=True)
                   if not (m := re.match(r'\s*"([\d.]+)":', line)) or m[1] not in added)


@pytest.fixture
def index():
    return RecordedIndex(RECORDING)


@pytest.fixture
def before() -> str:
    return data_before((REPO / "data/versions.yml").read_text())


def test_finds_every_missing_release_with_facts_from_the_metadata(index, before):
    releases, new_cuda = discover(yaml.safe_load(before), index, DRIVERS)
    assert {f: [r.version for r in releases if r.framework == f] for f in ADDED} == ADDED
    torch = next(r for r in releases if r.version == "2.15.0")
    # Pythons from the Linux x86_64 wheel tags (free-threaded cp314t/cp315t builds are not Pythons)
    assert torch.python == ["3.11", "3.12", "3.13", "3.14", "3.15"]
    # CUDA from the exact cuda-toolkit[cudart] pin, cuDNN from the exact nvidia-cudnn-cu13 pin
    assert (torch.cuda, torch.cudnn) == (["13.2"], "9.26") and new_cuda == ["13.2"]
    tensorflow = next(r for r in releases if r.framework == "tensorflow")
    # ranges in the [and-cuda] extra: the major only
    assert (tensorflow.python, tensorflow.cuda, tensorflow.cudnn) == (["3.10", "3.11", "3.12", "3.13"], ["12"], "9")
    jax = next(r for r in releases if r.version == "0.12.0.1")
    # JAX: Pythons from jaxlib's wheels, one CUDA plugin per cudaNN extra
    assert (jax.python, jax.cuda, jax.cudnn) == (["3.12", "3.13", "3.14", "3.15"], ["12", "13"], "9")


def test_compute_capabilities_are_carried_forward_and_said_so(index, before):
    releases, _ = discover(yaml.safe_load(before), index, DRIVERS)
    torch = next(r for r in releases if r.version == "2.15.0")
    assert torch.compute == ["7.5", "12.0"] and torch.compute_from.startswith("2.14.1 (CUDA 13.0, same major)")
    assert "compute carried forward from 2.14.1" in torch.line()
    tensorflow = next(r for r in releases if r.framework == "tensorflow")
    assert tensorflow.compute_from == "2.20.0"  # same CUDA


def test_written_data_is_todays_data(index, before):
    releases, new_cuda = discover(yaml.safe_load(before), index, DRIVERS)
    written = write_releases(before, releases, {c: DRIVERS[c] for c in new_cuda})
    assert written == (REPO / "data/versions.yml").read_text()


def test_nothing_missing_once_written(index):
    releases, new_cuda = discover(yaml.safe_load((REPO / "data/versions.yml").read_text()), index)
    assert (releases, new_cuda) == ([], [])


def test_unknown_cuda_is_refused_with_the_document_to_read(index, before, tmp_path, capsys):
    data = tmp_path / "versions.yml"
    data.write_text(before)
    code = discovery.main(["--write", "--data", str(data), "--index-record", str(RECORDING)])
    assert code == 2
    err = capsys.readouterr().err
    assert "pytorch 2.15.0 needs CUDA 13.2, which data/versions.yml does not know" in err
    assert "CUDA Toolkit Release Notes" in err and "docs.nvidia.com/cuda/cuda-toolkit-release-notes" in err
    assert "--min-driver 13.2=DRIVER" in err
    assert data.read_text() == before  # nothing written, nothing guessed


def test_compute_without_a_release_of_that_cuda_major_is_refused(index, before):
    data = yaml.safe_load(before)
    for version in [v for v, r in data["frameworks"]["pytorch"]["releases"].items() if r["cuda"][0].startswith("13")]:
        del data["frameworks"]["pytorch"]["releases"][version]
    with pytest.raises(Refused, match=r"--compute pytorch==2.15.0=LOWEST,HIGHEST"):
        discover(data, index, DRIVERS)
    releases, _ = discover(data, index, DRIVERS, compute={"pytorch==2.15.0": ["7.5", "12.0"]})
    torch = next(r for r in releases if r.framework == "pytorch")
    assert torch.compute_from is None and "carried" not in torch.line()


def test_listing_exits_1_when_something_is_missing_and_writes_nothing(before, tmp_path, capsys):
    data = tmp_path / "versions.yml"
    data.write_text(before)
    code = discovery.main(["--data", str(data), "--index-record", str(RECORDING), "--min-driver", "13.2=595.45.04"])
    out = capsys.readouterr().out
    assert code == 1 and data.read_text() == before
    assert "pytorch 2.15.0: Python 3.11, 3.12, 3.13, 3.14, 3.15; CUDA 13.2; cuDNN 9.26" in out
    assert "cuda-toolkit[" in out and "==13.2.2" in out  # the requirement each fact comes from


def test_prereleases_yanked_and_older_series_are_not_missing():
    files = {f"x-{v}-py3-none-any.whl": {"requires-python": None, "yanked": v == "1.3.1"}
             for v in ["1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.3.1", "1.4.0rc1", "1.3.2.dev1"]}
    versions = [file_version(f) for f in files]
    assert missing_versions(versions, ["1.2.0"], files) == ["1.3.0", "1.2.1"]


def test_recording_holds_no_urls():
    recorded = RECORDING.read_text()
    assert "://" not in recorded
    assert set(json.loads(recorded)) == {"projects", "metadata"}
