"""scripts/gpu_check.py imported as a module (scripts/ is no package), for its unit tests."""

from __future__ import annotations

import importlib.util

from tests.utils.project import REPO

_spec = importlib.util.spec_from_file_location("gpu_check", REPO / "scripts/gpu_check.py")
gpu_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gpu_check)
