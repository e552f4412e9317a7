"""The baseline the import benchmarks compare with: `sqlite-utils insert --csv` of the
same file, timed in the process that runs it (wall, and the CPU of the command)."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path


def bare_insert(csv_path: Path, db: Path) -> dict[str, float]:
    exe = Path(sys.executable).with_name("sqlite-utils")
    t0 = time.perf_counter()
    subprocess.run([str(exe), "insert", str(db), "rows", str(csv_path), "--csv"], check=True)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": time.perf_counter() - t0, "cpu": kids.ru_utime + kids.ru_stime}
