"""Scheduled jobs: each source with `schedule:` (a cron expression) syncs on its own.

APScheduler 3.x, with the guarantees cron users expect: the same job never runs twice at
once (`max_instances=1`), runs missed while the process was down or busy collapse into
one (`coalesce`), and a run up to `misfire_grace` seconds late still happens. Each run is
one row in `runs` (kind `schedule:<job>`), written by the sync it performs. Each run opens
its own Hub (and SQLite connection), so jobs on different sources may overlap safely.

`guestsync serve` starts `build_scheduler(...)` in the background; without serve, the
same jobs run from system cron with `guestsync sync --source NAME`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from .config import Config

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from .sync_engine import Hub

log = logging.getLogger(__name__)
MISFIRE_GRACE = 300  # seconds


@dataclass(frozen=True)
class Job:
    id: str  # "source:<name>"; other job kinds (exports) use their own prefix
    cron: str
    run: Callable[[], Any]


def trigger(cron: str, timezone: str) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))


def run_source(hub_factory: Callable[[], Hub], name: str) -> str:
    """One scheduled sync of one source; returns the run's status."""
    hub = hub_factory()
    try:
        summary = hub.sync(sources=[name], kind=f"schedule:source:{name}")
        return "ok" if summary.ok else "partial"
    finally:
        hub.close()


def source_jobs(config: Config, hub_factory: Callable[[], Hub]) -> list[Job]:
    """A job per source that has `schedule:`."""
    jobs = []
    for name, src in config.sources.items():
        if getattr(src, "schedule", None):

            def run(name: str = name) -> str:
                return run_source(hub_factory, name)

            jobs.append(Job(f"source:{name}", src.schedule, run))  # type: ignore[union-attr]
    return jobs


def _guarded(job: Job) -> Callable[[], Any]:
    def run() -> Any:
        try:
            return job.run()
        except Exception:  # a failed run is logged and recorded; the scheduler goes on
            log.exception("scheduled job %s failed", job.id)
            return None

    return run


def build_scheduler(
    jobs: list[Job],
    *,
    timezone: str,
    scheduler: BaseScheduler | None = None,
    misfire_grace: int = MISFIRE_GRACE,
) -> BaseScheduler:
    """A scheduler (not started) with every job added."""
    sched = scheduler or BackgroundScheduler(timezone=ZoneInfo(timezone))
    for job in jobs:
        sched.add_job(
            _guarded(job),
            trigger(job.cron, timezone),
            id=job.id,
            name=job.id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=misfire_grace,
            replace_existing=True,
        )
    return sched


def next_runs(
    jobs: list[Job], *, timezone: str, now: datetime | None = None
) -> list[tuple[str, str, datetime | None]]:
    """(job id, cron, next run time) for each job, soonest first."""
    now = now or datetime.now(ZoneInfo(timezone))
    rows = [(j.id, j.cron, trigger(j.cron, timezone).get_next_fire_time(None, now)) for j in jobs]
    return sorted(rows, key=lambda r: (r[2] is None, r[2] or now))
