"""A REAL BottleCRM (django-crm) on 127.0.0.1 for end-to-end tests, not a fake.

Facts from ../shared/reference/platform-apis.md §5 (verified against django-crm 1.35.0):
it needs Python >= 3.12 (on 3.11 pip silently installs the unusable 0.9.0), it has no
manage.py (`django-admin` with DJANGO_SETTINGS_MODULE), and without the in-memory Celery
settings below a contact POST hangs ~19 s and answers 500 after saving the row.

Costly steps run once and are cached under `<cache>/<version>/` (keyed by version):
the venv and install (~30 s), and `migrate` into a template database (~90 s). Each
server copies the template, so a run starts in about 2 s. A file lock makes concurrent
test workers wait for one installer instead of racing.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

VERSION = "1.35.0"
PYTHON_ENV = "GUESTSYNC_PYTHON312"  # an explicit interpreter, if not found on PATH
SECRET_KEY = "guestsync-e2e-not-a-secret-0123456789abcdef"  # signs the local JWTs only

SETTINGS = """\
# Written by guestsync.testing.bottlecrm: SQLite, no Redis, Celery tasks run inline.
import os
from crm.settings import *  # noqa: F401,F403
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.environ["GUESTSYNC_CRM_DB"]}}
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = True
"""


class Unavailable(Exception):
    """No Python 3.12 here: the end-to-end test skips with this message."""


def find_python312() -> str:
    """An interpreter >= 3.12: $GUESTSYNC_PYTHON312, then PATH, then pyenv's versions."""
    candidates = [os.environ.get(PYTHON_ENV, "")]
    candidates += [shutil.which(n) or "" for n in ("python3.12", "python3.13", "python3.14")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python3")))
    if sys.version_info >= (3, 12):
        candidates.append(sys.executable)
    for exe in filter(None, candidates):
        try:
            done = subprocess.run(
                [exe, "-c", "import sys; print(sys.version_info >= (3, 12))"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.strip() == "True":
            return exe
    raise Unavailable(
        f"BottleCRM (django-crm {VERSION}) needs Python >= 3.12 and none was found on PATH, "
        f"in ~/.pyenv/versions or in ${PYTHON_ENV}"
    )


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Install:
    """django-crm installed in its own venv, with a migrated template database."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "venv" / "bin"

    @property
    def template_db(self) -> Path:
        return self.root / "db.template.sqlite3"

    def env(self, db: Path) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL"))},
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(self.root),
            "DJANGO_SETTINGS_MODULE": "local_settings",
            "GUESTSYNC_CRM_DB": str(db),
            "SECRET_KEY": SECRET_KEY,
            "DEBUG": "True",  # devlogin, the only way to a first token, needs it
            "ENV_TYPE": "dev",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CELERY_BROKER_URL": "memory://",
            "CELERY_RESULT_BACKEND": "cache+memory://",
        }

    def admin(self, *args: str, db: Path, cwd: Path, timeout: float = 600) -> str:
        done = subprocess.run(
            [str(self.bin / "django-admin"), *args],
            env=self.env(db),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"django-admin {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout


def ensure_installed(cache: Path, *, python: str | None = None) -> Install:
    """Install and migrate once per version; later calls return at once."""
    cache = cache.resolve()
    inst = Install(cache / VERSION)
    with _locked(cache / f"{VERSION}.lock"):
        stamp = inst.root / "installed"
        if not stamp.exists():
            shutil.rmtree(inst.root / "venv", ignore_errors=True)
            inst.root.mkdir(parents=True, exist_ok=True)
            exe = python or find_python312()
            subprocess.run([exe, "-m", "venv", str(inst.root / "venv")], check=True)
            pip = [str(inst.bin / "python"), "-m", "pip", "install", "--quiet"]
            subprocess.run([*pip, f"django-crm=={VERSION}"], check=True, timeout=1800)
            stamp.write_text(VERSION)
        (inst.root / "local_settings.py").write_text(SETTINGS)
        if not inst.template_db.exists():
            work = inst.root / "migrate"
            work.mkdir(exist_ok=True)
            tmp = work / "db.sqlite3"
            tmp.unlink(missing_ok=True)
            inst.admin("migrate", "--noinput", db=tmp, cwd=work, timeout=1800)
            tmp.replace(inst.template_db)  # only a complete migration becomes the template
    return inst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BottleCrmServer:
    """One CRM on its own copy of the template database; start, stop and restart it.

    `restart()` keeps the database, so a test can kill the server mid-run and go on.
    """

    def __init__(self, install: Install, run_dir: Path, *, port: int | None = None) -> None:
        self.install = install
        self.run_dir = run_dir
        self.db = run_dir / "db.sqlite3"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(install.template_db, self.db)

    def start(self, *, timeout: float = 60) -> BottleCrmServer:
        self.spawn()
        return self.wait_ready(timeout=timeout)

    def spawn(self) -> None:
        """Launch the server process; `wait_ready()` then waits for /healthz/."""
        log = open(self.run_dir / "runserver.log", "ab")  # noqa: SIM115 (lives with proc)
        self.proc = subprocess.Popen(
            [
                str(self.install.bin / "django-admin"),
                "runserver",
                f"127.0.0.1:{self.port}",
                "--noreload",
            ],
            env=self.install.env(self.db),
            cwd=self.run_dir,  # it writes server.log and security_audit.log here
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self, *, timeout: float = 60) -> BottleCrmServer:
        assert self.proc is not None, "spawn() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"BottleCRM exited; see {self.run_dir / 'runserver.log'}")
            try:
                if requests.get(f"{self.url}/healthz/", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"BottleCRM did not answer /healthz/ within {timeout} s")

    def stop(self) -> None:
        """Kill the server by its PID (abruptly: that is the fault tests inject)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> BottleCrmServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- credentials -------------------------------------------------------------------

    def devlogin(self, email: str = "owner@resto.example") -> str:
        """A JWT (no org yet) for a new user. There is no password login; this command
        needs DEBUG and only the database, so it can run while the server boots."""
        out = self.install.admin("devlogin", email, "--create", db=self.db, cwd=self.run_dir)
        return _access_token(out)

    def login(self, jwt: str | None = None, *, org: str = "Demo Bistro") -> str:
        """An org JWT for a new org, whose default country is TW (so local numbers get
        an E.164 form)."""
        jwt = jwt or self.devlogin()
        org_id = self.call("POST", "/api/org/", jwt, {"name": org})["org"]["id"]
        jwt = self.call("POST", "/api/auth/switch-org/", jwt, {"org_id": org_id})["access_token"]
        self.call("PATCH", "/api/org/settings/", jwt, {"default_country": "TW"})
        return jwt

    def create_token(
        self, jwt: str, scopes: tuple[str, ...] = ("contacts:read", "contacts:write")
    ) -> str:
        """A personal access token (bcrm_pat_…); scopes are explicit, [] means all."""
        body = {"name": "guestsync", "scopes": list(scopes)}
        return self.call("POST", "/api/profile/tokens/", jwt, body)["token"]

    def mint_token(self) -> str:
        return self.create_token(self.login())

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        resp = requests.request(
            method,
            self.url + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        if resp.status_code >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {resp.status_code}: {resp.text[:500]}")
        return resp.json()

    def contacts(self, token: str) -> list[dict[str, Any]]:
        """Every contact in the org (pages of 100: the API pages by `count`)."""
        out: list[dict[str, Any]] = []
        while True:
            page = self.call("GET", f"/api/contacts/?limit=100&offset={len(out)}", token)
            out += page["results"]
            if not page["results"] or len(out) >= page["count"]:
                return out


def _access_token(devlogin_output: str) -> str:
    """The access token printed by `devlogin` (JSON, or `access_token: …` lines)."""
    text = devlogin_output.strip()
    try:
        data = json.loads(text)
        return data.get("access_token") or data["access"]
    except (ValueError, KeyError, AttributeError):
        pass
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("access_token", "access", "access token"):
            return value.strip()
    raise RuntimeError(f"no access token in devlogin output: {text[:300]}")
