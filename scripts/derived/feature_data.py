"""What the features take from data/versions.yml: env-doctor's copy of it (env-doctor ships alone),
the cuda and cudnn features' pins and supported versions (versions.sh) and the version proposals
of their devcontainer-feature.json."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from scripts.derived.common import DATA, FEATURES, header
from scripts.derived.facts import Facts


def shell_case(function: str, rows: dict[str, str], usage: str) -> str:
    lines = [f"{function}() {{  # {usage}", '    case "$1" in']
    lines += [f"        {key}) echo {value} ;;" for key, value in rows.items()]
    lines += ["        *) return 1 ;;", "    esac", "}"]
    return "\n".join(lines) + "\n"


def cuda_versions_sh(facts: Facts) -> str:
    releases = facts.data["cuda"]["releases"]
    return (
        header("data/versions.yml")
        + "# shellcheck shell=sh disable=SC2034  # (its variables are used by install.sh and select.sh)\n"
        + "# The cuda feature's supported CUDA releases and exact PyPI pins (newest patch release of each).\n\n"
        + f'CUDA_SUPPORTED="{" ".join(facts.cuda_supported)}"\n'
        + f"CUDA_DEFAULT={facts.cuda_default}   # when \"auto\" finds no NVIDIA wheels in the project environment\n\n"
        + "# NVIDIA's CUDA runtime wheel.\n"
        + shell_case("cuda_runtime_wheel", {v: releases[v]["runtime_wheel"] for v in facts.cuda_supported},
                     "cuda_runtime_wheel X.Y")
        + "\n# nvcc with its front ends, NVVM and the crt headers: a PyPI toolkit exists from CUDA 13 on\n"
        + "# (NVIDIA's CUDA 12 nvcc wheels hold only ptxas and libnvvm, for JIT compilers).\n"
        + shell_case("cuda_toolkit_wheels",
                     {v: " ".join(releases[v]["toolkit_wheels"]) for v in facts.cuda_supported
                      if releases[v].get("toolkit_wheels")}, "cuda_toolkit_wheels X.Y")
    )


def cudnn_versions_sh(facts: Facts) -> str:
    majors = facts.data["cudnn"]["cuda_majors"]
    return (
        header("data/versions.yml")
        + "# shellcheck shell=sh disable=SC2034  # (its variables are used by install.sh and select.sh)\n"
        + "# The cudnn feature's CUDA majors and exact PyPI pins (cuDNN 9 has one build per CUDA major).\n\n"
        + f'CUDNN_CUDA_SUPPORTED="{" ".join(facts.cudnn_majors)}"\n'
        + f"CUDNN_CUDA_DEFAULT={facts.cudnn_default}   # the major of the cuda feature's default\n\n"
        + "# cuDNN itself, and cuBLAS, which cuDNN's kernels need.\n"
        + shell_case("cudnn_wheel", {m: majors[m]["cudnn_wheel"] for m in facts.cudnn_majors}, "cudnn_wheel MAJOR")
        + shell_case("cublas_wheel", {m: majors[m]["cublas_wheel"] for m in facts.cudnn_majors}, "cublas_wheel MAJOR")
    )


def feature_json(path: Path, option: str, proposals: list[str], description: str) -> Callable[[], str]:
    def render() -> str:
        spec = json.loads(path.read_text())
        spec["options"][option]["proposals"] = proposals
        spec["options"][option]["description"] = description
        return compact_lists(json.dumps(spec, indent=4, ensure_ascii=False)) + "\n"
    return render


def compact_lists(text: str) -> str:
    """Lists of plain values on one line, as the hand-written feature files have them."""
    return re.sub(r"\[\s*(?:(?:\"[^\"]*\"|[\d.]+|true|false)(?:,\s*(?:\"[^\"]*\"|[\d.]+|true|false))*)\s*\]",
                  lambda m: json.dumps(json.loads(m[0]), ensure_ascii=False), text)


def files(facts: Facts) -> dict[Path, Callable[[], str]]:
    return {
        FEATURES / "env-doctor/env_doctor/data/versions.yml": lambda: header("data/versions.yml") + DATA.read_text(),
        FEATURES / "cuda/versions.sh": lambda: cuda_versions_sh(facts),
        FEATURES / "cudnn/versions.sh": lambda: cudnn_versions_sh(facts),
        FEATURES / "cuda/devcontainer-feature.json": feature_json(
            FEATURES / "cuda/devcontainer-feature.json", "version", ["auto", *facts.cuda_supported],
            "CUDA major.minor. 'auto': the CUDA of the NVIDIA wheels already in pythonEnv (the framework's), "
            f"else {facts.cuda_default}."),
        FEATURES / "cudnn/devcontainer-feature.json": feature_json(
            FEATURES / "cudnn/devcontainer-feature.json", "cudaVersion", ["auto", *facts.cudnn_majors],
            "CUDA major cuDNN is built for. 'auto': the project's cuDNN wheel, else the image's CUDA "
            f"(cuda feature or project wheels), else {facts.cudnn_default}."),
    }
