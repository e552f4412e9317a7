"""A bulk import killed (-9) at any point and run again ends with the same store as one
that was never interrupted: a window is one transaction, its rows stay pending until it
commits, and a rerun takes them up."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .test_bulk_lane import _outcome

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_csv_import import make_csv  # noqa: E402  (the benchmark's booking export)

CONFIG = """\
store: {{path: hub.db}}
sources:
  site:
    type: csv
    mapping: {mapping}
targets:
  hubspot: {{type: hubspot, token: x, base_url: "http://127.0.0.1:9"}}
"""


CLI = [sys.executable, "-m", "guestsync.cli", "-c", "guestsync.yaml"]


def _import(workdir: Path, csv_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, "import-csv", "--source", "site", str(csv_path)],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the mapping worker is killed with the importer
    )


def _setup(tmp_path: Path, name: str, csv_path: Path) -> Path:
    workdir = tmp_path / name
    workdir.mkdir()
    mapping = ROOT / "config" / "mappings" / "booking_en.yaml"
    (workdir / "guestsync.yaml").write_text(CONFIG.format(mapping=mapping), "utf-8")
    return workdir


def _state(workdir: Path) -> dict[str, Any]:
    conn = sqlite3.connect(workdir / "hub.db")

    class View:  # what _outcome reads, on a plain connection
        def __init__(self) -> None:
            self.conn = conn

    out = _outcome(View())  # type: ignore[arg-type]
    out["outcomes"] = Counter({k: v for k, v in out["outcomes"].items()})
    bookings: dict[str, set[str]] = {}
    for x, g in conn.execute("SELECT external_id, guest_id FROM reservations"):
        bookings.setdefault(g, set()).add(x)
    out["bookings"] = sorted(sorted(b) for b in bookings.values())
    out["queued"] = conn.execute("SELECT count(*) FROM outbox").fetchone()
    conn.close()
    return out


def test_a_killed_bulk_import_rerun_ends_as_an_uninterrupted_one(tmp_path):
    csv_path = tmp_path / "bookings.csv"
    make_csv(csv_path, 3000, seed=3)
    calm = _setup(tmp_path, "calm", csv_path)
    assert _import(calm, csv_path).wait(120) == 0
    expected = _state(calm)
    assert expected["inbox"]["done"] == 3000

    rng = random.Random(7)
    for attempt in range(3):
        killed = _setup(tmp_path, f"killed{attempt}", csv_path)
        proc = _import(killed, csv_path)
        time.sleep(rng.uniform(0.8, 3.0))  # somewhere in reading, mapping or resolving
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        # the file may be recorded as imported already: take up the pending rows (sync)
        # and import it again (nothing new is stored twice)
        for args in (["sync", "--no-deliver"], ["import-csv", "--source", "site", str(csv_path)]):
            done = subprocess.run(
                [*CLI, *args],
                cwd=killed,
                capture_output=True,
                timeout=120,
            )
            assert done.returncode in (0, 1, 2), done.stderr.decode()[-2000:]
        assert _state(killed) == expected, f"attempt {attempt}"
