"""`with env_doctor.watch(): ...`: the watch of `env-doctor watch`, for a block of code in a
notebook kernel (or any Python process). It starts `env-doctor watch --pid <this process>`, which
samples from env-doctor's own environment (NVML is there, not in the project's), and stops it when
the block ends. Only the standard library: this module runs in the project's interpreter."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def watch(interval: float = 1.0, json_path: str | None = None, command: str = "env-doctor"):
    """Watch this process while the block runs; print the summary and verdict at its end. Yields a
    dict that holds the summary (the `env-doctor watch --json` document) once the block is done."""
    executable = shutil.which(command)
    if executable is None:
        raise RuntimeError(f"{command} is not on PATH: the env-doctor devcontainer feature installs it")
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="env-doctor-watch-") as folder:
        target = json_path or str(Path(folder) / "watch.json")
        watcher = subprocess.Popen([executable, "watch", "--pid", str(os.getpid()), "--interval", str(interval),
                                    "--json", target], stderr=subprocess.PIPE, text=True)
        watcher.stderr.readline()  # "watching PID ...": sampling has begun
        try:
            yield result
        finally:
            watcher.send_signal(signal.SIGINT)
            _, text = watcher.communicate(timeout=60)
            print(text.rstrip(), file=sys.stdout, flush=True)
            if watcher.returncode == 0 and Path(target).is_file():
                result.update(json.loads(Path(target).read_text()))
