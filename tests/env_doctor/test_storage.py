"""env-doctor's storage facts and checks: the data path (missing, empty, slow, nearly full) and the
cache folder (a volume of its own, or the container's layer that a rebuild loses). The mount table
is a real /proc/self/mountinfo excerpt of a devcontainer (Docker Engine, overlay2), written to a file."""

from __future__ import annotations

from env_doctor import checks, storage

from tests.utils.env_doctor_cli import checks as checks_named
from tests.utils.env_doctor_cli import report

# Root overlay, a read-only bind of a host folder at /data, the cache volume at /cache, /dev/shm.
MOUNTINFO = """\
1180 1001 0:57 / / rw,relatime master:471 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/A
1185 1180 254:0 /srv/data\\040sets /data ro,relatime - ext4 /dev/vda rw
1186 1180 254:0 /var/lib/docker/volumes/vision-lab-cache/_data /cache rw,relatime master:1 - ext4 /dev/vda rw
1190 1180 0:60 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=8388608k
"""


def facts_for(tmp_path, environ, mountinfo=MOUNTINFO):
    table = tmp_path / "mountinfo"
    table.write_text(mountinfo)
    return storage.storage_facts(environ, str(table))


def test_mountinfo_names_the_volume_and_the_read_only_bind():
    mounts = {m["mount_point"]: m for m in storage.parse_mountinfo(MOUNTINFO)}
    assert mounts["/cache"]["volume"] == "vision-lab-cache" and not mounts["/cache"]["read_only"]
    assert mounts["/data"]["read_only"] and mounts["/data"]["volume"] is None
    assert storage.mount_of("/cache/huggingface/hub", list(mounts.values()))["mount_point"] == "/cache"
    assert storage.mount_of("/home/dev/.cache", list(mounts.values()))["mount_point"] == "/"


def test_nothing_is_checked_where_the_project_names_no_storage(tmp_path):
    assert facts_for(tmp_path, {}) == {"data": None, "cache": None}
    assert checks.storage_checks({"data": None, "cache": None}) == []


def test_an_unset_host_folder_says_what_to_set(tmp_path):
    (tmp_path / "data").mkdir()
    facts = facts_for(tmp_path, {"PROJECT_DATA_DIR": str(tmp_path / "data"), "PROJECT_DATA_SOURCE": ""})
    [result] = checks.storage_checks(facts)
    assert result["status"] == "warn" and "is empty: no host folder is bound there" in result["message"]
    assert "ML_DATA_DIR" in result["hint"]


def test_a_missing_data_path_warns(tmp_path):
    facts = facts_for(tmp_path, {"PROJECT_DATA_DIR": str(tmp_path / "absent")})
    [result] = checks.storage_checks(facts)
    assert result["status"] == "warn" and "does not exist" in result["message"]


def test_a_bound_data_folder_with_data_is_ok_and_says_read_only(tmp_path):
    data = tmp_path / "data"
    (data / "example").mkdir(parents=True)
    table = MOUNTINFO.replace(" /data ", f" {data} ")
    facts = facts_for(tmp_path, {"PROJECT_DATA_DIR": str(data), "PROJECT_DATA_SOURCE": "/srv/data sets"}, table)
    assert facts["data"]["own_mount"] and facts["data"]["host_folder"] == "/srv/data sets"
    [result] = checks.storage_checks(facts)
    assert result["status"] == "ok"
    assert result["message"] == f"data path {data}: 1 entries, read-only (host folder /srv/data sets)"


def test_data_on_a_network_or_nearly_full_file_system_warns():
    data = {"path": "/data", "exists": True, "entries": 3, "total_bytes": 100 << 30, "free_bytes": 2 << 30,
            "own_mount": True, "host_folder": "/mnt/nas",
            "mount": {"mount_point": "/data", "fstype": "nfs4", "source": "nas:/export", "read_only": True,
                      "volume": None}}
    names = {r["name"]: r for r in checks.storage_checks({"data": data, "cache": None})}
    assert names["data"]["status"] == "ok"
    assert names["data-speed"]["status"] == "warn" and "nfs4" in names["data-speed"]["message"]
    assert names["data-space"]["status"] == "warn" and "2.0 GiB free of 100.0 GiB" in names["data-space"]["message"]


def test_a_cache_in_the_container_layer_warns_and_names_the_volume_to_mount(tmp_path):
    facts = facts_for(tmp_path, {"PROJECT_CACHE_DIR": "/home/dev/.cache", "PROJECT_CACHE_VOLUME": "vision-lab-cache"})
    [result] = checks.storage_checks(facts)
    assert result["status"] == "warn" and "a rebuild loses" in result["message"]
    assert "source=vision-lab-cache,target=/home/dev/.cache,type=volume" in result["hint"]


def test_a_cache_on_its_volume_is_ok(tmp_path):
    facts = facts_for(tmp_path, {"PROJECT_CACHE_DIR": "/cache"})
    assert facts["cache"]["mount"]["volume"] == "vision-lab-cache"
    [result] = checks.storage_checks(facts)
    assert result["status"] == "ok" and "volume vision-lab-cache" in result["message"]


def test_the_report_and_the_exit_code_carry_the_storage_checks(env, capsys, monkeypatch, tmp_path):
    """In a project container (PROJECT_DATA_DIR set) an empty data path makes the exit code 1."""
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PROJECT_DATA_DIR", str(tmp_path / "empty"))
    code, data = report(capsys)
    assert code == 1 and data["storage"]["data"]["path"] == str(tmp_path / "empty")
    assert checks_named(data, "data")[0]["status"] == "warn"
    (tmp_path / "empty" / "train.csv").write_text("x,y\n")
    code, data = report(capsys)
    assert code == 0 and checks_named(data, "data")[0]["status"] == "ok"


def test_diff_names_a_different_data_path(env, capsys, monkeypatch, tmp_path):
    """Two runs that read their datasets from different paths: `env-doctor diff` says so, and the
    diff still matches the schema."""
    import json

    from tests.utils.env_doctor_cli import run

    for name, path in (("a", "/data"), ("b", "/datasets")):
        monkeypatch.setenv("PROJECT_DATA_DIR", path)
        run(capsys, "snapshot", "-o", str(tmp_path / f"{name}.json"))
    code, out = run(capsys, "diff", "--json", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    (item,) = [d for d in json.loads(out)["differences"] if d["group"] == "data"]
    assert code == 1 and item["what"] == "data path /data vs /datasets"
