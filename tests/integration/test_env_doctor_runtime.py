"""env-doctor's run-time answers in a real container on this machine (no GPU): `watch` of a busy
loop on 2 CPUs, of a two-process load, of a failing command; its overhead; `bench` figures with
their spread; and a `diff` of snapshots taken with --cpus=1 and --cpus=2 that reports the
slowdown and names the changed CPU count.

The image is an image this suite already has with python3 (the stock Debian one of
test_first_command.py, else the cluster job image), with this checkout's env-doctor copied in:
a one-layer build, no network. The machine has 2 CPUs and other jobs: thresholds are generous."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from env_doctor import cli

from tests.utils.docker import run
from tests.utils.figures import record
from tests.utils.project import REPO
from tests.utils.stock_debian import build_image

pytestmark = pytest.mark.integration

IMAGE = "mltemplate-env-doctor-runtime:test"
BASES = ["mltemplate-first-command:bookworm", "mltemplate-cluster-test:job"]
BUSY = "import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass\n"
WORK = "n = 0\nfor i in range({count}): n += i\n"  # a fixed amount of CPU work


@pytest.fixture(scope="module")
def image(docker, tmp_path_factory):
    """BASES[0] (built as test_first_command.py builds it when missing) with env-doctor from this
    checkout as `env-doctor-test`, run by env-doctor's own interpreter where the base has one."""
    present = [b for b in BASES if run([docker, "image", "inspect", b], check=False).returncode == 0]
    context = tmp_path_factory.mktemp("env-doctor-image")
    base = present[0] if present else build_image(BASES[0], ["python3", "ca-certificates"], context)
    shutil.copytree(REPO / "features/src/env-doctor", context / "env-doctor")
    # Its folder first on sys.path (a script's own folder is), nothing in the environment of what it runs.
    (context / "env-doctor" / "run_env_doctor.py").write_text(
        "import sys\nfrom env_doctor.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    (context / "env-doctor-test").write_text(
        "#!/bin/sh\nP=/opt/env-doctor/bin/python; [ -x $P ] || P=python3\nexec $P /opt/env-doctor-test/run_env_doctor.py \"$@\"\n")
    (context / "Dockerfile").write_text(
        f"FROM {base}\nCOPY env-doctor /opt/env-doctor-test\nCOPY --chmod=0755 env-doctor-test /usr/local/bin/\n")
    run([docker, "build", "-q", "-t", IMAGE, str(context)], timeout=600)
    yield IMAGE
    run([docker, "image", "rm", "-f", IMAGE], check=False)


def container(docker, image, cpus, script, volume: Path | None = None, timeout=300):
    """`sh -c script` in a fresh container limited to cpus CPUs."""
    mount = ["-v", f"{volume}:/out"] if volume else []
    return subprocess.run([docker, "run", "--rm", f"--cpus={cpus}", *mount, "--entrypoint", "sh", image, "-c", script],
                          capture_output=True, text=True, timeout=timeout)


def watch(docker, image, command, cpus=2):
    """(summary, stderr) of `env-doctor watch --json` of command, in a container."""
    done = container(docker, image, cpus, f"env-doctor-test watch --json /tmp/w.json -- {command}; cat /tmp/w.json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_watch_of_one_busy_thread_reports_one_of_two_cpus(docker, image):
    summary, text = watch(docker, image, f"python3 -c '{BUSY.format(seconds=6)}'")
    record("env-doctor watch, a busy loop, --cpus=2:\n" + text.strip())
    assert summary["cpu"]["usable_cpus"] == 2 and summary["cpu"]["cgroup_quota_cpus"] == 2.0
    assert 0.6 <= summary["cpu"]["used_mean"] <= 1.3
    assert summary["verdict"][0]["kind"] == "cpu-bound-one-core"
    assert "CPU-bound on one core" in text and "of 2 CPUs used" in text


def test_watch_of_two_processes_reports_about_two(docker, image):
    busy = f"python3 -c '{BUSY.format(seconds=6)}'"
    summary, text = watch(docker, image, f"sh -c \"{busy} & {busy}; wait\"")
    record("env-doctor watch, two busy processes, --cpus=2:\n" + text.strip())
    assert summary["processes_max"] >= 3  # sh and its two pythons
    assert summary["cpu"]["used_mean"] >= 1.3, summary["cpu"]
    assert summary["verdict"][0]["kind"] in ("cpu-bound", "cpu-partly-used")


def test_watch_passes_the_exit_code_back(docker, image):
    done = container(docker, image, 2, "env-doctor-test watch --interval 0.2 -- sh -c 'sleep 1; exit 3'")
    assert done.returncode == 3, done.stderr
    assert "exit code 3" in done.stderr


def test_watch_overhead_is_small(docker, image):
    """The same CPU work (about 4 s) with and without watch (1 s samples), alternated three times in
    one container, and `watch -- true` for env-doctor's own start: the fastest of each, and the
    CPU the watcher itself used while the work ran."""
    work = f"python3 -c '{WORK.format(count=100_000_000)}'"

    def timed(kind, command):
        return f"s=$(date +%s.%N); {command}; echo {kind} $s $(date +%s.%N);"
    script = ("for i in 1 2 3; do " + timed("plain", work)
              + timed("watched", f"env-doctor-test watch --json /tmp/w$i.json -- {work} 2>/dev/null")
              + timed("start", "env-doctor-test watch -- true 2>/dev/null") + " done; cat /tmp/w1.json")
    done = container(docker, image, 2, script, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    times = {"plain": [], "watched": [], "start": []}
    for line in lines[:9]:
        kind, start, end = line.split()
        times[kind].append(float(end) - float(start))
    summary = json.loads("\n".join(lines[9:]))
    plain, watched, start = min(times["plain"]), min(times["watched"]), min(times["start"])
    record(f"env-doctor watch overhead (--cpus=2, 1 s samples), fastest of 3 each: a CPU-bound loop took {plain:.2f} s "
           f"plain and {watched:.2f} s watched ({100 * (watched - plain) / plain:+.1f} % wall); env-doctor's own start "
           f"(watch -- true) {start:.2f} s; the watcher used {summary['overhead']['watcher_cpu_seconds']:.3f} CPU s = "
           f"{summary['overhead']['percent_of_one_cpu']:.2f} % of one CPU while the loop ran")
    assert summary["overhead"]["percent_of_one_cpu"] < 5
    assert watched < plain * 1.2 + start  # generous: other jobs share the CPUs


def test_bench_gives_cpu_figures_with_spread(docker, image):
    done = container(docker, image, 2, "env-doctor-test bench --seconds 6 --json")
    assert done.returncode == 0, done.stderr
    bench = json.loads(done.stdout)
    cpu = next(f for f in bench["figures"] if f["name"] == "cpu")
    assert cpu["repeats"] == 7 and cpu["median"] > 0 and cpu["spread_percent"] is not None
    record("env-doctor bench, --cpus=2: " + "; ".join(
        f"{f['name']} {f['median']:.4g} {f['unit']} ±{f['spread_percent']} %" for f in bench["figures"]))


def test_diff_of_benched_snapshots_names_the_cpu_count(docker, image, tmp_path, capsys):
    """--cpus=2, then --cpus=1: the CPU figure (one process per CPU of the affinity, 2 here in both)
    halves, and the diff names the usable CPUs that changed as its likely cause."""
    tmp_path.chmod(0o777)  # the container's user writes the snapshots
    for name, cpus in (("two.json", 2), ("one.json", 1)):
        done = container(docker, image, cpus, f"env-doctor-test snapshot --bench --seconds 8 -o /out/{name}", tmp_path)
        assert done.returncode == 0, done.stderr
        time.sleep(1)
    code = cli.main(["diff", str(tmp_path / "two.json"), str(tmp_path / "one.json")])
    out = capsys.readouterr().out
    record("env-doctor diff, snapshots --bench at --cpus=2 (A) and --cpus=1 (B):\n" + out.strip())
    assert code == 1
    line = next(x for x in out.splitlines() if x.strip().startswith("cpu (cpu)"))
    assert "% slower" in line
    assert "likely cause: usable CPUs 2 -> 1" in out and "CPU quota 2.0 -> 1.0" in out
    slowdown = float(line.split("%")[0].split()[-1])
    assert slowdown >= 25, line  # about 50 % on an idle machine
