"""The GPU checks' pure parts (tests/utils/gpu_check.py): notebook cell extraction, the answers
file, the arch list against a compute capability. (The schema check is tested in
tests/env_doctor/test_schema.py; the whole suite, tests/gpu/, runs in
tests/integration/test_project.py, inside the default project's devcontainer.)"""

from __future__ import annotations

import json

import pytest

from tests.utils import gpu_check
from tests.utils.project import render


def test_notebook_code_cells_in_order_sources_joined():
    notebook = {"cells": [
        {"cell_type": "markdown", "source": ["# title\n", "import nothing"]},
        {"cell_type": "code", "source": ["import sys\n", "x = 1\n", "print(x)"]},
        {"cell_type": "code", "source": "   \n"},
        {"cell_type": "raw", "source": "print('raw')"},
        {"cell_type": "code", "source": "print(x + 1)"},
    ]}
    assert gpu_check.notebook_code_cells(notebook) == [(1, "import sys\nx = 1\nprint(x)"), (4, "print(x + 1)")]


def test_template_notebook_cells_are_found(tmp_path):
    project = render(tmp_path / "p", project_name="Cell Lab")
    cells = gpu_check.notebook_code_cells(json.loads((project / "notebooks/example.ipynb").read_text()))
    assert [i for i, _ in cells] == [1, 2, 4]
    assert "from cell_lab import describe_device" in cells[0][1] and "matmul on {device}" in cells[1][1]
    answers = gpu_check.read_answers((project / ".copier-answers.yml").read_text())
    assert answers["framework"] == "pytorch" and answers["package_name"] == "cell_lab"


def test_read_answers_strips_quotes():
    text = "# comment\n_commit: abc\nframework: jax\npython_version: '3.12'\nproject_name: \"A b\"\n"
    assert gpu_check.read_answers(text) == {"_commit": "abc", "framework": "jax", "python_version": "3.12",
                                            "project_name": "A b"}


@pytest.mark.parametrize(("arches", "capability", "covered"), [
    (["sm_80", "sm_90", "sm_100", "sm_120"], "9.0", True),
    (["sm_80", "sm_86"], "8.9", True),        # same-major older cubin
    (["sm_75", "sm_80"], "9.0", False),       # no sm_9x, no PTX
    (["sm_80", "compute_80"], "9.0", True),   # PTX JIT
    (["sm_90a"], "9.0", True),
    (["sm_90a"], "10.0", False),              # arch-specific cubins run on that arch only
    (["sm_100", "sm_120"], "12.1", True),
    ([], "9.0", False),
])
def test_arch_covers(arches, capability, covered):
    assert gpu_check.arch_covers(arches, capability) is covered
