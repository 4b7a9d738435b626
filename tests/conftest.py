"""Shared fixtures: storage backends, including a PostgreSQL server the tests start.

PostgreSQL: ``HUBAO_TEST_PG_URL`` (a superuser URL to an existing server) is used when
set; otherwise a throwaway server is started from the local ``initdb``/``pg_ctl`` on
127.0.0.1. Without those binaries the PostgreSQL cases are skipped, except under CI
(``CI`` set), where that is a failure: ``.ci/postgres-deps`` installs them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from flows.storage import Storage
from flows.storage_factory import open_storage

PG_USER = "postgres"


def _postgres_bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    # Debian keeps the server binaries off PATH.
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    candidates.sort(key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if candidates and (Path(candidates[-1]).parent / "initdb").exists():
        return Path(candidates[-1]).parent
    return None


def _run_as() -> list[str]:
    """initdb and postgres refuse to run as root: use the postgres system user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", PG_USER], check=True
        )
    return ["runuser", "-u", PG_USER, "--"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A superuser URL (asyncpg) to a PostgreSQL server for this test session."""
    if external := os.environ.get("HUBAO_TEST_PG_URL"):
        yield external
        return
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run .ci/postgres-deps first", pytrace=False)
        pytest.skip(f"{reason}; install them (.ci/postgres-deps) to test PostgreSQL")
    run_as = _run_as()
    # Not under pytest's tmp_path: its 0700 parents keep the postgres user out.
    root = Path(tempfile.mkdtemp(prefix="hubao-pg-"))
    if run_as:
        entry = pwd.getpwnam(PG_USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    data, log = root / "data", root / "server.log"
    port = _free_port()
    try:
        subprocess.run(
            [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        # Durability settings off: a throwaway server, and the tests assert behaviour.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        started = subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
             "-w", "-t", "60", "start"],
            capture_output=True, text=True,
        )  # fmt: skip
        if started.returncode != 0:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            pytest.fail(f"PostgreSQL did not start:\n{started.stderr}\n{server_log}")
        yield f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


async def _execute_autocommit(server_url: str, sql: str) -> None:
    import asyncpg

    url = make_url(server_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password,
        database=url.database or "postgres",
    )  # fmt: skip
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _database_url(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """A URL to an empty database of ``kind``, in the plain (sync-driver) spelling users
    write, so the mapping to async drivers is exercised too."""
    if kind == "memory":
        yield "memory"
    elif kind == "sqlite":
        # A folder that does not exist yet: opening creates it.
        yield f"sqlite:///{tmp_path / 'data' / 'hubao.sqlite3'}"
    else:
        server = make_url(request.getfixturevalue("postgres_server"))
        name = f"hubao_test_{uuid.uuid4().hex[:12]}"
        await _execute_autocommit(server.render_as_string(False), f'CREATE DATABASE "{name}"')
        yield server.set(drivername="postgresql", database=name).render_as_string(False)
        await _execute_autocommit(
            server.render_as_string(False), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        )


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every backend: "memory", a SQLite file URL, a fresh PostgreSQL database URL."""
    async for url in _database_url(request.param, request, tmp_path):
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The durable backends only, each an empty (unmigrated) database."""
    async for url in _database_url(request.param, request, tmp_path):
        yield url


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    opened = await open_storage(storage_url)
    yield opened
    await opened.close()
