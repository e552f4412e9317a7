"""Scheduled jobs: each source with `schedule:` (a cron expression) syncs on its own.

APScheduler 3.x, with the guarantees cron users expect: the same job never runs twice at
once (`max_instances=1`), runs missed while the process was down or busy collapse into
one (`coalesce`), and a run up to `misfire_grace` seconds late still happens. Each run is
one row in `runs` (kind `schedule:<job>`), written by the sync it performs. Each run opens
its own Hub (and SQLite connection), so jobs on different sources may overlap safely.

Export jobs (`exports:` with `schedule:`, actions/export.py) are jobs too.

Several `serve` nodes on one store each fire every job; one of them runs each firing
(`cluster_turn`): the firing's time is claimed in the store (the first claimer runs it,
the others skip), and a lease in the store (delivery/lease.py's) is held while it runs,
so a run that outlasts its interval is not overlapped by the next firing on another
node, as `max_instances=1` keeps it from being overlapped on its own node. A node that
dies mid-run loses that run (as cron on a dead machine does); its lease expires after
JOB_LEASE_TTL (at once for a dead process on the same host) and the next firing runs.

`guestsync serve` runs them (guestsync/service.py: a source job reads and processes
while the worker waits, the worker delivers; export jobs only read the store). Without
serve, the same jobs run from system cron with `guestsync sync --source NAME` or
`guestsync schedule once JOB`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from ..actions.export import export_runner
from ..config import Config
from ..cron import crontab_trigger
from ..delivery.lease import DeliveryLease
from ..store import Store, ts

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from ..sync_engine import Hub

log = logging.getLogger(__name__)
MISFIRE_GRACE = 300  # seconds
JOB_LEASE_TTL = timedelta(minutes=30)  # not renewed during a run: longer than most runs
# (job id, the time it was scheduled for) while the scheduler runs a job: `cluster_turn`
# reads it; a job called directly (`schedule once`) has none and simply runs
_FIRING: ContextVar[tuple[str, datetime] | None] = ContextVar("firing", default=None)


@dataclass(frozen=True)
class Job:
    id: str  # "source:<name>"; other job kinds (exports) use their own prefix
    cron: str
    run: Callable[[], Any]


def trigger(cron: str, timezone: str) -> CronTrigger:
    return crontab_trigger(cron, timezone)  # cron's day numbers, not APScheduler's


def fired_at(
    cron: str, timezone: str, now: datetime, misfire_grace: int = MISFIRE_GRACE
) -> datetime | None:
    """The latest time `cron` fired at or before `now` (within the misfire grace, which
    is as late as the scheduler runs a firing): what every node's run of it agrees on,
    whatever its clock's skew, while that is less than the interval."""
    trig = trigger(cron, timezone)
    last = None
    fire = trig.get_next_fire_time(None, now - timedelta(seconds=misfire_grace + 1))
    while fire is not None and fire <= now:
        last = fire
        fire = trig.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return last


@contextmanager
def cluster_turn(store: Store, job_id: str) -> Iterator[bool]:
    """Whether this node runs the job's current firing (see the module's docstring);
    the lease is held until the block ends. Outside a scheduled firing: True."""
    firing = _FIRING.get()
    if firing is None or firing[0] != job_id:
        yield True
        return
    lease = DeliveryLease(store, job_id, ttl=JOB_LEASE_TTL, key=f"schedule_lease:{job_id}")
    if not lease.take():
        log.info("scheduled job %s is running on %s; this run is skipped", job_id, lease.holder)
        yield False
        return
    try:
        mine = store.claim_firing(job_id, ts(firing[1]))
        if not mine:
            log.info("scheduled job %s ran on another node for %s", job_id, firing[1])
        yield mine
    finally:
        lease.release()


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
            with cluster_turn(hub.store, f"source:{name}") as mine:
                if not mine:
                    return "skipped"
                kind = f"schedule:source:{name}"
                summary = hub.sync(sources=[name], deliver=deliver, kind=kind)
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
        Job(f"export:{name}", job.schedule, once(hub_factory, f"export:{name}", name))
        for name, job in config.exports.items()
        if job.schedule
    ]


def once(hub_factory: Callable[[], Hub], job_id: str, name: str) -> Callable[[], str]:
    """An export's run, by one node of several (`cluster_turn`)."""
    run = export_runner(hub_factory, name)

    def run_once() -> str:
        if _FIRING.get() is None:
            return run()
        hub = hub_factory()  # for the store the turn is taken in
        try:
            with cluster_turn(hub.store, job_id) as mine:
                return run() if mine else "skipped"
        finally:
            hub.close()

    return run_once


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


def guarded(
    job: Job,
    *,
    timezone: str | None = None,
    misfire_grace: int = MISFIRE_GRACE,
    clock: Callable[[], datetime] | None = None,
) -> Callable[[], Any]:
    """The job as the scheduler calls it: never two runs of it at once in this process
    (besides max_instances, this also holds when something else calls it directly), and
    a failure is logged (the run row says `failed`) without stopping the scheduler.
    With `timezone` (the scheduler's), each call is a firing of the job's cron, run by
    one node of several (`cluster_turn`); `clock` tells the time (tests)."""
    running = threading.Lock()

    def run() -> Any:
        if not running.acquire(blocking=False):
            log.warning("scheduled job %s is still running; this run is skipped", job.id)
            return "skipped"
        token = None
        try:
            if timezone is not None:
                now = clock() if clock else datetime.now(ZoneInfo(timezone))
                at = fired_at(job.cron, timezone, now, misfire_grace)
                token = _FIRING.set((job.id, at) if at else None)
            return job.run()
        except Exception:  # a failed run is logged and recorded; the scheduler goes on
            log.exception("scheduled job %s failed", job.id)
            return "failed"
        finally:
            if token is not None:
                _FIRING.reset(token)
            running.release()

    return run


def build_scheduler(
    jobs: list[Job],
    *,
    timezone: str,
    scheduler: BaseScheduler | None = None,
    misfire_grace: int = MISFIRE_GRACE,
    clock: Callable[[], datetime] | None = None,
) -> BaseScheduler:
    """A scheduler (not started) with every job added. `clock`: as `guarded` takes it."""
    sched = scheduler or BackgroundScheduler(timezone=ZoneInfo(timezone))
    for job in jobs:
        sched.add_job(
            guarded(job, timezone=timezone, misfire_grace=misfire_grace, clock=clock),
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
