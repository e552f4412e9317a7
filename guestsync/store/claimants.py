"""Who holds a claim or a lease: `host:pid:run` strings (process/batch.py `claimant`,
delivery/lease.py). A holder on this host whose process is gone (killed with -9) holds
nothing: its claims and leases are taken over at once rather than when they expire."""

from __future__ import annotations

import os
import socket


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def process_of(holder: str) -> tuple[str, str]:
    """(host, pid) of a `host:pid:run` holder."""
    host, _, rest = holder.partition(":")
    return host, rest.split(":")[0]


def dead_here(holder: str) -> bool:
    """`holder` is a process of this host that no longer runs."""
    host, pid = process_of(holder)
    return host == socket.gethostname() and pid.isdigit() and not process_alive(int(pid))
