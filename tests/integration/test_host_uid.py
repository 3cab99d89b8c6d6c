"""A host user whose UID/GID are not the image's 1000:1000, as a colleague on a Linux host has.

`devcontainer up` runs as that user (uidtest, UID 1234, in the docker group: made by
testbed/prepare-test-machine.sh), so updateRemoteUserUID gives the container user `dev` UID 1234
exactly as VS Code's "Reopen in Container" would. The project folder's name has a space.
The job image is run as an arbitrary user (`docker run --user 4242:4242`), and has no sudo.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.utils.docker import DevContainer, engine, remove_volumes, run
from tests.utils.figures import record
from tests.utils.project import render, trust_host_ca

pytestmark = pytest.mark.integration

HOST_USER, HOST_UID = "uidtest", 1234
VOLUMES = ("uid-lab-cache", "uid-lab-data")  # the project's cache volume, and its data volume: no ML_DATA_DIR
ANSWERS = {"project_name": "UID Lab", "framework": "none", "accelerator": "cpu",
           "python_version": "3.13", "base_image": "debian:trixie"}


def as_host_user() -> list[str]:
    """Prefix that runs a command as the test's host user, with that user's HOME."""
    prefix = ["runuser", "-u", HOST_USER, "--"] if os.geteuid() == 0 else ["sudo", "-n", "-u", HOST_USER, "--"]
    return [*prefix, "env", f"HOME={pwd.getpwnam(HOST_USER).pw_dir}", "DOCKER_BUILDKIT=1"]


class HostUserDevContainer(DevContainer):
    """`devcontainer up`/`exec` run as the host user; inspecting and removing stay with this process."""

    def _cli(self, *args: str) -> list[str]:
        return [*as_host_user(), *super()._cli(*args)]


@pytest.fixture(scope="module")
def host_user() -> pwd.struct_passwd:
    try:
        user = pwd.getpwnam(HOST_USER)
    except KeyError:
        pytest.fail(f"no host user {HOST_USER}: run testbed/prepare-test-machine.sh first")
    assert user.pw_uid == HOST_UID, f"{HOST_USER} has UID {user.pw_uid}, the test needs {HOST_UID}"
    return user


@pytest.fixture(scope="module")
def workspace(host_user):
    """The project in a folder the host user owns (pytest's own temporary folders are root's only)."""
    parent = Path(tempfile.mkdtemp(prefix="host-uid-", dir="/tmp"))
    root = render(parent / "UID Lab", lock=True, **ANSWERS)
    trust_host_ca(root)  # this machine's TLS proxy
    run(["git", "-C", str(root), "init", "-q"])  # a colleague's clone: postCreate installs the git hook
    run(["chown", "-R", f"{host_user.pw_uid}:{host_user.pw_gid}", str(parent)])
    yield root
    shutil.rmtree(parent)


@pytest.fixture(scope="module")
def container(docker, workspace):
    remove_volumes(*VOLUMES)  # a cache left by an earlier run would prove nothing
    devcontainer = HostUserDevContainer(workspace, docker, workspace.parent / "devcontainer.log")
    try:
        started = time.monotonic()
        devcontainer.up()  # fails unless postCreateCommand (`uv sync --locked`) succeeded
        record(f"devcontainer up as {HOST_USER} in {time.monotonic() - started:.0f}s")
        # Size of the container's own layer right after start, before any test installs anything.
        devcontainer.size_after_start = int(run([docker, "container", "inspect", "--size", "--format",
                                                 "{{.SizeRw}}", devcontainer.container_id]).stdout)
        yield devcontainer
    finally:
        devcontainer.remove()
        remove_volumes(*VOLUMES)


def test_container_user_has_the_host_uid_and_the_environment_group(container):
    uid, groups = container.exec("id -u; id -nG").stdout.splitlines()
    assert uid == str(HOST_UID) and "venv" in groups.split()


def test_sudo_works_for_the_renumbered_user(container):
    """Passwordless sudo is granted by user name: it survives updateRemoteUserUID's new UID."""
    assert container.exec("sudo -n true && id -u && sudo -n id -u").stdout.split() == [str(HOST_UID), "0"]


def test_post_create_installed_the_project_into_the_environment(container):
    out = container.exec("python -c 'import sys, uid_lab; print(sys.prefix, uid_lab.__file__)'").stdout
    assert out.split("\n")[0] == "/opt/venv /workspaces/UID Lab/src/uid_lab/__init__.py"


def test_start_copies_nothing_of_the_environment(container):
    """A recursive chown of /opt/venv at start would copy every file into the container's layer."""
    environment = int(container.exec("du -sb /opt/venv | cut -f1").stdout.split()[0])
    assert container.size_after_start < environment / 10, (container.size_after_start, environment)


def test_uv_add_installs_a_package_that_imports(container):
    container.exec("uv add idna")
    assert container.exec("python -c 'import idna; print(idna.encode(\"bücher.example\").decode())'"
                          ).stdout.strip() == "xn--bcher-kva.example"
    container.exec("uv remove idna && uv sync --locked")
    assert container.exec("python -c 'import idna'", check=False).returncode != 0


def test_post_create_installed_the_pre_commit_hook(container, host_user):
    hook = container.folder / ".git/hooks/pre-commit"
    assert hook.is_file() and "pre-commit" in hook.read_text()
    assert hook.stat().st_uid == host_user.pw_uid


def test_files_made_in_the_container_belong_to_the_host_user(container, host_user):
    container.exec("mkdir -p made-here && echo result > made-here/out.txt")
    for path in (container.folder / "made-here", container.folder / "made-here/out.txt"):
        assert (path.stat().st_uid, path.stat().st_gid) == (host_user.pw_uid, host_user.pw_gid), path


def test_jupyterlab_answers_with_its_token_and_runs_the_project_kernel(container):
    probe = ("import json, sys, urllib.request as u, urllib.error as e\n"
             "base = 'http://127.0.0.1:8888'\n"
             "def call(path, token=None, method='GET'):\n"
             "    headers = {'Authorization': 'token ' + token} if token else {}\n"
             "    body = b'{\"name\": \"uid-lab\"}' if method == 'POST' else None\n"
             "    req = u.Request(base + path, method=method, headers=headers, data=body)\n"
             "    try:\n"
             "        with u.urlopen(req, timeout=10) as r: return r.status, json.loads(r.read() or b'null')\n"
             "    except e.HTTPError as err: return err.code, None\n"
             "token = sys.argv[1].split('token=')[1]\n"
             "print(call('/api/contents')[0], call('/api/contents', 'wrong')[0], call('/api/contents', token)[0])\n"
             "status, kernel = call('/api/kernels', token, 'POST')\n"
             "print(status, kernel['name'], call('/api/kernels/' + kernel['id'], token, 'DELETE')[0])\n")
    out = container.exec(f"python3 -c \"$(cat <<'EOF'\n{probe}EOF\n)\" \"$(jupyterlab-service url)\"").stdout
    assert out.split() == ["403", "403", "200", "201", "uid-lab", "204"]
    notebook = json.loads(container.exec("jupyter nbconvert --to notebook --execute --stdout "
                                         "notebooks/example.ipynb 2>/dev/null").stdout)
    printed = "".join("".join(o.get("text", "")) for c in notebook["cells"] if c["cell_type"] == "code"
                      for o in c["outputs"])
    assert "interpreter: /opt/venv/bin/python" in printed


def test_without_a_data_folder_it_starts_and_env_doctor_says_what_to_set(container):
    """No ML_DATA_DIR on the host: the data path is the project's (empty, read-only) data volume."""
    assert container.exec("ls -A /data | wc -l; echo $PROJECT_DATA_SOURCE.").stdout.split() == ["0", "."]
    report = json.loads(container.exec("env-doctor --json", check=False).stdout)
    (data,) = [c for c in report["checks"] if c["name"] == "data"]
    assert data["status"] == "warn" and "/data is empty: no host folder is bound there" in data["message"]
    assert "set ML_DATA_DIR on the host" in data["hint"]
    problems = container.exec("env-doctor --quiet", check=False).stdout
    assert "WARN data" in problems and "ML_DATA_DIR" in problems


def test_cache_survives_a_rebuild_and_spares_the_download(container, host_user):
    """uv's own package cache (UV_CACHE_DIR=/cache/uv on the project's cache volume) written as UID
    1234, kept by `devcontainer up --remove-existing-container`, then installs offline."""
    install = "uv venv -q --python /opt/venv/bin/python /tmp/probe && uv pip install -q --python /tmp/probe{} numpy"
    report = json.loads(container.exec("env-doctor --json", check=False).stdout)
    (cache,) = [c for c in report["checks"] if c["name"] == "cache"]
    assert cache["status"] == "ok" and "volume uid-lab-cache" in cache["message"], cache
    size = "mkdir -p /cache/uv && du -sb /cache/uv | cut -f1"
    empty = int(container.exec(size).stdout)
    started = time.monotonic()
    container.exec(install.format(""))
    cold = time.monotonic() - started
    downloaded = int(container.exec(size).stdout) - empty
    owner = container.exec("stat -c %u /cache/uv").stdout.strip()
    old_id = container.container_id
    container.up("--remove-existing-container")
    assert container.container_id != old_id
    assert int(container.exec(size).stdout) - empty >= downloaded and owner == str(HOST_UID)
    started = time.monotonic()
    container.exec(install.format(" --offline"))  # nothing left to download: served from the volume
    warm = time.monotonic() - started
    record(f"cache volume after a rebuild: `uv pip install numpy` {cold:.1f}s with the download "
           f"({downloaded / 1e6:.1f} MB into /cache/uv), {warm:.1f}s offline from the kept cache")


@pytest.fixture(scope="module")
def job_image(docker, tmp_path_factory):
    root = render(tmp_path_factory.mktemp("job") / "uid-lab", lock=True, **ANSWERS)
    trust_host_ca(root)
    tag = "uid-lab-test:job"
    run([docker, "build", "-f", ".devcontainer/Dockerfile", "--target", "job", "-t", tag, "."],
        cwd=root, timeout=1800)
    yield tag
    engine().images.remove(tag, force=True)


def test_job_image_runs_as_any_user_with_a_read_only_root(docker, job_image, tmp_path):
    """Read-only root file system, a tmpfs /tmp and a results volume: the Kubernetes-style setup."""
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    os.chown(outputs, 4242, 4242)
    script = ("set -e; python -m uid_lab; id -u; echo $HOME; "
              "mkdir -p \"$(uv cache dir)\"; touch \"$(uv cache dir)/probe\"; "
              "python -c 'import jupyter_core.paths as p, os; os.makedirs(p.jupyter_runtime_dir()); "
              "os.makedirs(os.path.expanduser(\"~/.config/matplotlib\"))'; "
              "echo done > /outputs/result.txt")
    result = run([docker, "run", "--rm", "--user", "4242:4242", "--read-only", "--tmpfs", "/tmp",
                  "-v", f"{outputs}:/outputs", job_image, "sh", "-c", script])
    lines = result.stdout.split()
    assert result.stdout.startswith("python 3.13") and lines[-2:] == ["4242", "/tmp"], result.stdout
    assert (outputs / "result.txt").read_text() == "done\n"
    assert (outputs / "result.txt").stat().st_uid == 4242


def test_job_image_environment_is_read_only_to_other_users(docker, job_image):
    script = ("python -m uid_lab; echo > /outputs/result.txt && echo outputs-writable; "
              "touch /opt/venv/lib/python3.13/site-packages/x 2>/dev/null || echo env-read-only; "
              "touch /app/x 2>/dev/null || echo code-read-only")
    out = run([docker, "run", "--rm", "--user", "4242:4242", job_image, "sh", "-c", script]).stdout
    assert out.split("\n")[1:] == ["outputs-writable", "env-read-only", "code-read-only", ""], out


def test_job_image_has_no_sudo(docker, job_image):
    """sudo is the devcontainer's alone: the job stage is built from the stage before it."""
    script = "if command -v sudo || dpkg-query -W sudo || test -e /etc/sudoers.d/devcontainer-user; then exit 1; fi; echo no-sudo"
    result = run([docker, "run", "--rm", "--user", "root", job_image, "sh", "-c", script], check=False)
    assert result.stdout == "no-sudo\n", result.stdout + result.stderr
