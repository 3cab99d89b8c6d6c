"""A generated project's device code and example notebook, without Jupyter: reads a job (JSON on
stdin: the project's src folder, its package, the notebook's code cells), calls the package's
describe_device(), then runs the cells in order in one namespace, as a kernel runs them. One line:
GPU-CHECK <JSON>."""

import contextlib
import io
import json
import sys
import traceback

job = json.load(sys.stdin)
sys.path.insert(0, job["src"])  # the project's package, as its kernel finds it
result = {"cells": []}
try:
    result["describe_device"] = __import__(job["package"]).describe_device()
except Exception:
    result["describe_device_error"] = traceback.format_exc()
namespace = {"__name__": "__main__"}
for index, source in job["cells"]:
    out = io.StringIO()
    entry = {"cell": index}
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, f"<cell {index}>", "exec"), namespace)
    except Exception:
        entry["error"] = traceback.format_exc()
    entry["stdout"] = out.getvalue()
    result["cells"].append(entry)
    if "error" in entry:
        break
print("GPU-CHECK " + json.dumps(result))
