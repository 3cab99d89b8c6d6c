"""Commands as the benchmarks run them: logged, failing loudly, timed, and the machine they run on."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def sh(cmd: list[str], cwd=None, env: dict | None = None) -> str:
    """Run cmd with BuildKit; a failure ends the benchmark with the command's last output."""
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "DOCKER_BUILDKIT": "1", **(env or {})})
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{(result.stdout + result.stderr)[-4000:]}")
    return result.stdout


def quiet(cmd: list[str]) -> None:
    """Tidying that may find nothing to tidy: its failure is not the benchmark's."""
    subprocess.run(cmd, capture_output=True)


def timed(cmd: list[str], cwd=None, env: dict | None = None) -> float:
    start = time.monotonic()
    sh(cmd, cwd=cwd, env=env)
    return time.monotonic() - start


def machine(docker: str) -> dict:
    """What a figure depends on besides the code: recorded with every group's figures."""
    return {"cpus": os.cpu_count(), "docker": sh([docker, "version", "--format", "{{.Server.Version}}"]).strip(),
            "kernel": platform.release()}
