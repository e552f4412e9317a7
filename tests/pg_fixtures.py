"""PostgreSQL for the tests: the server the machine runs (or the one `make test` started,
whose URL it left in .venv/pg/url), a migrated template database per test session, and a
throwaway database per test (CREATE DATABASE gs_test_<random> TEMPLATE it, dropped after),
so that parallel runs never share a database. Without a reachable server the PostgreSQL
tests skip, saying why.

`store_url` and `any_store` are parametrized over both backends: a test that takes them
runs once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from guestsync.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", "postgresql"]


def server_url() -> str:
    """The maintenance database URL of the test server: $GUESTSYNC_TEST_PG, else what
    `make test` wrote in .venv/pg/url, else the default local server."""
    if os.environ.get("GUESTSYNC_TEST_PG"):
        return os.environ["GUESTSYNC_TEST_PG"]
    written = ROOT / ".venv" / "pg" / "url"
    if written.is_file():
        return written.read_text().strip()
    return DEFAULT_URL


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


class PgServer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = psycopg.connect(url, autocommit=True, connect_timeout=3)
        self.template = f"gs_test_{uuid.uuid4().hex[:10]}_tmpl"
        self.admin.execute(f"CREATE DATABASE {self.template}")
        open_store(with_database(url, self.template)).close()  # migrated once per session

    def create(self) -> str:
        name = f"gs_test_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return name

    def drop(self, name: str) -> None:
        self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        self.drop(self.template)
        self.admin.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    url = server_url()
    try:
        server = PgServer(url)
    except psycopg.OperationalError as exc:
        pytest.skip(
            f"no PostgreSQL at {url} ({str(exc).strip().splitlines()[0]}): `make test` starts"
            " one from Debian's postgresql package; or set GUESTSYNC_TEST_PG"
        )
    yield server
    server.close()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of its own for this test."""
    name = pg_server.create()
    yield with_database(pg_server.url, name)
    pg_server.drop(name)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh store is: a SQLite file, or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        return str(tmp_path / "hub.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def any_store(store_url: str) -> Iterator[Store]:
    """A fresh store on each backend in turn."""
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture
def store(any_store: Store) -> Store:
    """The store-level tests' store, on each backend in turn: a SQLite file (WAL, as the
    hub runs it), then a PostgreSQL database of its own."""
    return any_store


@pytest.fixture(autouse=True)
def _every_store_on_postgresql(request: pytest.FixtureRequest) -> Iterator[None]:
    """GUESTSYNC_TEST_ALL_ON_PG=1: every SQLite store a test opens (Store.open) is a
    PostgreSQL database instead, one per path: a sweep of the whole suite on PostgreSQL.
    Tests about SQLite itself (WAL, locks, files) fail under it by design."""
    if os.environ.get("GUESTSYNC_TEST_ALL_ON_PG") != "1":
        yield
        return
    server: PgServer = request.getfixturevalue("pg_server")
    made: dict[str, str] = {}
    opened: list[Store] = []
    real = Store.open.__func__  # type: ignore[attr-defined]

    def open_on_pg(cls: type[Store], path: str | Path) -> Store:
        key = str(Path(path).resolve()) if str(path) != ":memory:" else uuid.uuid4().hex
        if key not in made:
            made[key] = server.create()
        opened.append(cls.open_postgres(with_database(server.url, made[key])))
        return opened[-1]

    Store.open = classmethod(open_on_pg)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Store.open = classmethod(real)  # type: ignore[method-assign,assignment]
        for store in opened:  # SQLite's connections close unseen when dropped; psycopg's warn
            store.close()
        for name in made.values():
            server.drop(name)
