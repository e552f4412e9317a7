"""Scheduled jobs: each source with `schedule:` (a cron expression) syncs on its own.

APScheduler 3.x, with the guarantees cron users expect: the same job never runs twice at
once (`max_instances=1`), runs missed while the process was down or busy collapse into
one (`coalesce`), and a run up to `misfire_grace` seconds late still happens. Each run is
one row in `runs` (kind `schedule:<job>`), written by the sync it performs. Each run opens
its own Hub (and SQLite connection), so jobs on different sources may overlap safely.

Export jobs (`exports:` with `schedule:`, actions/export.py) are jobs too.

`guestsync serve` runs them (guestsync/service.py: a source job reads and processes
while the worker waits, the worker delivers; export jobs only read the store). Without
serve, the same jobs run from system cron with `guestsync sync --source NAME` or
`guestsync schedule once JOB`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from ..actions.export import export_runner
from ..config import Config
from ..cron import crontab_trigger

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from ..sync_engine import Hub

log = logging.getLogger(__name__)
MISFIRE_GRACE = 300  # seconds


@dataclass(frozen=True)
class Job:
    id: str  # "source:<name>"; other job kinds (exports) use their own prefix
    cron: str
    run: Callable[[], Any]


def trigger(cron: str, timezone: str) -> CronTrigger:
    return crontab_trigger(cron, timezone)  # cron's day numbers, not APScheduler's


def run_source(
    hub_factory: Callable[[], Hub],
    name: str,
    *,
    exclusive: AbstractContextManager[Any] | None = None,
    deliver: bool = True,
) -> str:
    """One scheduled sync of one source; returns the run's status. `exclusive` (a lock
    shared by the jobs of one process) is held for the whole run. `deliver=False` under
    serve: its worker delivers (one deliverer per process, with its metrics and pauses)."""
    with exclusive or nullcontext():
        hub = hub_factory()
        try:
            summary = hub.sync(sources=[name], deliver=deliver, kind=f"schedule:source:{name}")
            return "ok" if summary.ok else "partial"
        finally:
            hub.close()


def source_jobs(
    config: Config,
    hub_factory: Callable[[], Hub],
    *,
    exclusive: AbstractContextManager[Any] | None = None,
) -> list[Job]:
    """A job per source that has `schedule:`."""
    jobs = []
    for name, src in config.sources.items():
        schedule = getattr(src, "schedule", None)  # pull and CSV sources may have one
        if schedule:

            def run(name: str = name) -> str:
                return run_source(hub_factory, name, exclusive=exclusive)

            jobs.append(Job(f"source:{name}", schedule, run))
    return jobs


def export_jobs(config: Config, hub_factory: Callable[[], Hub]) -> list[Job]:
    """A job per export (`exports:`) that has `schedule:`."""
    return [
        Job(f"export:{name}", job.schedule, export_runner(hub_factory, name))
        for name, job in config.exports.items()
        if job.schedule
    ]


def all_jobs(
    config: Config,
    hub_factory: Callable[[], Hub],
    *,
    exclusive: AbstractContextManager[Any] | None = None,
) -> list[Job]:
    return source_jobs(config, hub_factory, exclusive=exclusive) + export_jobs(config, hub_factory)


def unscheduled(config: Config, hub_factory: Callable[[], Hub]) -> dict[str, Job]:
    """Every source and export as a job, scheduled or not (for `schedule once`)."""
    jobs = {}
    for name in config.sources:
        jobs[f"source:{name}"] = Job(f"source:{name}", "", partial(run_source, hub_factory, name))
    for name in config.exports:
        jobs[f"export:{name}"] = Job(f"export:{name}", "", export_runner(hub_factory, name))
    return jobs


def guarded(job: Job) -> Callable[[], Any]:
    """The job as the scheduler calls it: never two runs of it at once in this process
    (besides max_instances, this also holds when something else calls it directly), and
    a failure is logged (the run row says `failed`) without stopping the scheduler."""
    running = threading.Lock()

    def run() -> Any:
        if not running.acquire(blocking=False):
            log.warning("scheduled job %s is still running; this run is skipped", job.id)
            return "skipped"
        try:
            return job.run()
        except Exception:  # a failed run is logged and recorded; the scheduler goes on
            log.exception("scheduled job %s failed", job.id)
            return "failed"
        finally:
            running.release()

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
            guarded(job),
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
