"""Root's steps in a user's folders: a planted link or file makes them fail, never land elsewhere.

These run as root (as the gateway does) with `nobody` as the user; without root they skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from atrium_hub import nofollow
from atrium_hub.dask_gateway import AtriumLocalBackend

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the steps chown to another user")

NOBODY = pwd.getpwnam("nobody")


def _backend(clusters: Path) -> AtriumLocalBackend:
    clusters.mkdir(mode=0o755)
    os.chmod(clusters, 0o755)
    return AtriumLocalBackend(clusters_directory=str(clusters))


def _cluster(name: str = "c1") -> Any:
    return SimpleNamespace(username="nobody", name=name, tls_cert=b"CERT", tls_key=b"KEY", state={})


def _root_only(tmp_path: Path) -> Path:
    target = tmp_path / "root-only"
    target.mkdir(mode=0o700)
    return target


def test_the_work_folder_is_the_users_with_certs_and_logs(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "clusters")
    workdir = Path(backend.setup_working_directory(_cluster()))
    for path in (workdir, workdir / ".certs", workdir / "logs", workdir / ".certs" / "dask.pem"):
        st = path.lstat()
        assert (st.st_uid, st.st_gid) == (NOBODY.pw_uid, NOBODY.pw_gid), path
        assert st.st_mode & 0o077 == 0, path
    assert (workdir / ".certs" / "dask.crt").read_bytes() == b"CERT"
    assert (workdir / ".certs" / "dask.pem").read_bytes() == b"KEY"


def test_a_log_is_made_new_and_owned_by_the_user(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "clusters")
    cluster = _cluster()
    cluster.state["workdir"] = backend.setup_working_directory(cluster)
    fd = backend.open_log(cluster, "worker-a")
    os.close(fd)
    st = (Path(cluster.state["workdir"]) / "logs" / "worker-a.log").lstat()
    assert st.st_uid == NOBODY.pw_uid
    with pytest.raises(FileExistsError):
        backend.open_log(cluster, "worker-a")


def test_a_logs_link_planted_by_the_user_gets_no_file(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "clusters")
    target = _root_only(tmp_path)
    cluster = _cluster()
    workdir = Path(backend.setup_working_directory(cluster))
    cluster.state["workdir"] = str(workdir)
    (workdir / "logs").rename(workdir / "logs.old")
    (workdir / "logs").symlink_to(target)
    with pytest.raises(nofollow.UnsafePath):
        backend.open_log(cluster, "worker-a")
    assert list(target.iterdir()) == []


def test_a_planted_file_or_hard_link_is_never_opened(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "clusters")
    target = _root_only(tmp_path) / "file"
    target.write_text("root's\n")
    cluster = _cluster()
    workdir = Path(backend.setup_working_directory(cluster))
    cluster.state["workdir"] = str(workdir)
    os.link(target, workdir / "logs" / "worker-a.log")
    (workdir / "logs" / "worker-b.log").symlink_to(target)
    for name in ("worker-a", "worker-b"):
        with pytest.raises(FileExistsError):
            backend.open_log(cluster, name)
    assert target.read_text() == "root's\n"
    assert target.stat().st_uid == 0


def test_a_work_folder_link_is_refused(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "clusters")
    target = _root_only(tmp_path)
    (tmp_path / "clusters" / "c1").symlink_to(target)
    with pytest.raises(nofollow.UnsafePath):
        backend.setup_working_directory(_cluster())
    assert list(target.iterdir()) == []
    assert target.stat().st_uid == 0


def test_a_certs_link_in_an_existing_work_folder_is_refused(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "clusters")
    target = _root_only(tmp_path)
    workdir = tmp_path / "clusters" / "c1"
    workdir.mkdir(mode=0o700)
    os.chown(workdir, NOBODY.pw_uid, NOBODY.pw_gid)
    (workdir / ".certs").symlink_to(target)
    with pytest.raises(nofollow.UnsafePath):
        backend.setup_working_directory(_cluster())
    assert list(target.iterdir()) == []
    assert target.stat().st_uid == 0


def test_the_clusters_folder_must_be_roots_alone(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "clusters")
    os.chmod(tmp_path / "clusters", 0o777)
    with pytest.raises(nofollow.UnsafePath, match="writable by root only"):
        backend.setup_working_directory(_cluster())


def test_removing_a_work_folder_does_not_follow_links(tmp_path: Path) -> None:
    # LocalBackend removes the folder with shutil.rmtree; that is only safe where it
    # works on open folders, as it does on Linux.
    assert shutil.rmtree.avoids_symlink_attacks
    backend = _backend(tmp_path / "clusters")
    target = _root_only(tmp_path)
    (target / "keep").write_text("x")
    workdir = Path(backend.setup_working_directory(_cluster()))
    (workdir / "logs" / "link").symlink_to(target)
    backend.cleanup_working_directory(str(workdir))
    assert not workdir.exists()
    assert (target / "keep").read_text() == "x"
