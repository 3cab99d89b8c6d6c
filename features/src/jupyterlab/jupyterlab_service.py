#!/usr/bin/env python3
"""Run the container's JupyterLab server: start, wait until ready, report status and URL, stop.

    jupyterlab-service start [--if-enabled]   start in the background (no-op when already running)
    jupyterlab-service wait [--timeout S]     block until the server answers; print its URL
    jupyterlab-service status                 exit 0 when the server answers (Docker HEALTHCHECK)
    jupyterlab-service url                    print the URL with its token
    jupyterlab-service stop

The server always requires a token: $JUPYTER_TOKEN when set and not empty, else a random one.
The token is kept in a state folder only the server's user can read.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

SETTINGS_FILE = Path("/usr/local/share/jupyterlab/settings.json")
STATE_DIR = Path(os.environ.get("JUPYTERLAB_STATE_DIR", "/tmp/jupyterlab"))
STATE_FILE = STATE_DIR / "server.json"
LOG_FILE = STATE_DIR / "server.log"


def settings() -> dict:
    return json.loads(SETTINGS_FILE.read_text())


def read_state() -> dict | None:
    try:
        return json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return None


def running(state: dict | None) -> bool:
    if not state:
        return False
    try:
        os.kill(state["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def request(port: int, path: str, token: str | None) -> int:
    """HTTP status of GET path on the local server (0 when nothing answers)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        req.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


def url(state: dict) -> str:
    return f"http://127.0.0.1:{state['port']}/lab?token={state['token']}"


def start(args: argparse.Namespace) -> int:
    conf = settings()
    if args.if_enabled and not conf["autostart"]:
        return 0
    if running(read_state()):
        print("JupyterLab is already running")
        return 0
    STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(STATE_DIR, 0o700)
    root_dir = conf["root_dir"] if os.path.isdir(conf["root_dir"]) else str(Path.home())
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    cmd = [
        f"{conf['prefix']}/bin/jupyter-lab", "--no-browser",
        f"--ServerApp.ip={conf['ip']}", f"--ServerApp.port={conf['port']}",
        "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root_dir}",
    ]
    if os.getuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JUPYTER_TOKEN=token)
    with open(LOG_FILE, "ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=root_dir)
    fd = os.open(STATE_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"pid": proc.pid, "port": conf["port"], "token": token, "root_dir": root_dir}, f)
    print(f"JupyterLab starting on port {conf['port']} (log: {LOG_FILE})")
    return 0


def wait(args: argparse.Namespace) -> int:
    conf = settings()
    if not conf["autostart"] and not read_state():
        return 0
    deadline = time.monotonic() + args.timeout
    print("Waiting for JupyterLab", end="", flush=True)
    while time.monotonic() < deadline:
        state = read_state()
        if state and request(state["port"], "/api/status", state["token"]) == 200:
            print(" ready")
            # Never serve without authentication, whatever a config file says.
            if request(state["port"], "/api/contents", None) != 403:
                print("error: JupyterLab answers without a token; stopping it", file=sys.stderr)
                stop(args)
                return 1
            print(f"JupyterLab: {url(state)}")
            return 0
        print(".", end="", flush=True)
        time.sleep(1)
    print(" timed out", file=sys.stderr)
    if LOG_FILE.exists():
        print("".join(LOG_FILE.read_text(errors="replace").splitlines(True)[-20:]), file=sys.stderr)
    return 1


def status(args: argparse.Namespace) -> int:
    state = read_state()
    ok = bool(state) and request(state["port"], "/api/status", state["token"]) == 200
    print("healthy" if ok else "not running")
    return 0 if ok else 1


def show_url(args: argparse.Namespace) -> int:
    state = read_state()
    if not running(state):
        print("JupyterLab is not running: start it with 'jupyterlab-service start'", file=sys.stderr)
        return 1
    print(url(state))
    return 0


def stop(args: argparse.Namespace) -> int:
    state = read_state()
    if running(state):
        os.killpg(state["pid"], signal.SIGTERM)
    STATE_FILE.unlink(missing_ok=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="jupyterlab-service", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start", help="start the server in the background")
    p.add_argument("--if-enabled", action="store_true", help="do nothing when autoStart is off")
    p.set_defaults(func=start)
    p = sub.add_parser("wait", help="wait until the server answers")
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(func=wait)
    sub.add_parser("status", help="exit 0 when healthy").set_defaults(func=status)
    sub.add_parser("url", help="print the URL with the token").set_defaults(func=show_url)
    sub.add_parser("stop", help="stop the server").set_defaults(func=stop)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
