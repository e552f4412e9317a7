"""The hub: builds connectors and compiled mappings from the config once, and runs the
four stages. `sync()` is one pass of all of them, recorded as a row in `runs`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from .config import Config, plugins
from .config.base import source_mappings
from .connectors import TARGETS, CsvSource
from .connectors.base import Target
from .delivery.batches import DeliveryStats, deliver
from .delivery.rate_budget import pacer_for
from .errors import BadRecordError, ConfigError, ConfigErrors
from .intake.files import IngestStats, finish_imports, ingest_csv
from .intake.pull import PullStats, make_source, pull
from .mapping import CompiledMapping, load_mapping
from .mapping.context import Context
from .process import outbox
from .process.batch import ProcessStats
from .process.mapping_pool import (
    IMPORT_CACHE_MIB,
    IMPORT_WINDOW,
    PARALLEL_MIN_ROWS,
    MappingPool,
    process_inbox,
)
from .restaurant import hooks
from .restaurant.hooks import ActivitySettings
from .restaurant.privacy import install_log_masking
from .store import Store, open_store


@dataclass
class SyncSummary:
    run_id: int
    ingest: IngestStats
    process: ProcessStats
    deliveries: list[DeliveryStats] = field(default_factory=list)
    guests_total: int = 0
    pull: PullStats = field(default_factory=PullStats)

    @property
    def ok(self) -> bool:
        return (
            not self.ingest.rejected_files
            and not self.pull.errors
            and not self.process.rejected
            and all(d.stopped is None and not d.dead for d in self.deliveries)
            and not self.pending_left
        )

    @property
    def pending_left(self) -> int:
        """Records still waiting for a CRM after this run (a target another process was
        delivering to is that process's business, not this run's)."""
        return sum(d.pending_left for d in self.deliveries if not d.skipped)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Hub:
    def __init__(
        self,
        config: Config,
        *,
        store: Store | None = None,
        session_factory: Callable[[], requests.Session] = requests.Session,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self.clock = clock
        ctx = Context(region=config.defaults.region, timezone=config.defaults.timezone)
        self.context = ctx
        self.parallel_min_rows = PARALLEL_MIN_ROWS  # map in a 2nd process above this
        self.process_batch_size = 500  # inbox rows per transaction (serve's worker: fewer)
        # a CSV import's rows per window in the bulk lane, and the page cache meanwhile
        # (import_csv.py; process/mapping_pool.py says why)
        self.import_window, self.import_cache_mib = IMPORT_WINDOW, IMPORT_CACHE_MIB
        self.refresh_chunk = 1000  # guests per transaction of the daily refresh (serve: fewer)
        self.map_ahead = False  # map a batch before its transaction (serve's worker)
        self.bulk: bool | None = None  # the lane: bulk, per record, or by batch size
        # One mapping per (source, stream); `mappings` keeps each source's first one.
        # every broken mapping is reported at once; a profile shared by sources compiles once
        self.stream_mappings = compile_source_mappings(config, ctx)
        self.mappings: dict[str, CompiledMapping] = {}
        for (name, _), m in self.stream_mappings.items():
            self.mappings.setdefault(name, m)
        self.sources: dict[str, Any] = {
            name: make_source(
                name,
                src,
                base_dir=config.path.parent,
                session_factory=_guarded(config, "sources", name, session_factory),
                sleep=sleep,
            )
            for name, src in config.sources.items()
        }
        self.targets: dict[str, Target] = {
            name: plugins.connector("targets", t.type, TARGETS)(
                name, t, session=_guarded(config, "targets", name, session_factory)()
            )
            for name, t in config.targets.items()
        }
        self._store = store
        self._pool: MappingPool | None = None  # a mapping worker started ahead (start_mapping)
        self.activity = ActivitySettings(
            crm=config.crm,
            timezone=config.defaults.timezone,
            target_types={name: t.type for name, t in config.targets.items()},
        )
        if config.crm.privacy.mask_logs:
            install_log_masking()

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.config.store_location)
        hooks.attach(self._store, self.activity)  # segments, CRM properties from config
        return self._store

    def close(self) -> None:
        self._stop_mapping()
        if self._store is not None:
            self._store.close()
            self._store = None

    def mapping_for(self, source: str, stream: str) -> CompiledMapping:
        try:
            return self.stream_mappings.get((source, stream)) or self.mappings[source]
        except KeyError:
            raise BadRecordError(
                f"source {source!r} is no longer in the config; add it back to process this row"
            ) from None

    def source(self, name: str) -> Any:
        if name not in self.sources:
            known = ", ".join(sorted(self.sources)) or "none configured"
            raise ConfigError(
                f"unknown source {name!r} (known: {known})", file=str(self.config.path)
            )
        return self.sources[name]

    def check_targets(self, names: list[str] | None) -> None:
        """A clear error for a `--target` that is not configured (before any work)."""
        unknown = [n for n in names or [] if n not in self.targets]
        if unknown:
            known = ", ".join(sorted(self.targets)) or "none configured"
            raise ConfigError(
                f"unknown target {unknown[0]!r} (known: {known})", file=str(self.config.path)
            )

    # -- stages ------------------------------------------------------------------------

    def import_csv(
        self,
        source: str,
        paths: list[Path],
        stats: IngestStats | None = None,
        *,
        force: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> IngestStats:
        src = self.source(source)
        if not isinstance(src, CsvSource):
            raise ConfigError(f"source {source!r} is not a CSV source", file=str(self.config.path))
        stats = stats or IngestStats()
        mapping = self.mapping_for(source, src.options.stream)
        for path in paths:
            ingest_csv(self.store, src, mapping, path, stats, force=force, progress=progress)
        return stats

    def ingest_configured(self, sources: list[str] | None = None) -> IngestStats:
        stats = IngestStats()
        for name in sources or list(self.sources):
            src = self.source(name)
            if isinstance(src, CsvSource):
                self.import_csv(name, src.files(), stats)
        return stats

    def finish_imports(
        self, ingest: IngestStats, *, archive: str | None = None, rejects: bool | None = None
    ) -> tuple[list[Path], list[Path]]:
        """Rejects CSVs beside the imported files and the files archived, if configured."""
        return finish_imports(
            self.store,
            ingest,
            sources=self.sources,
            mapping_for=self.mapping_for,
            resolve=self.config.resolve,
            archive=archive,
            rejects=rejects,
        )

    def pull(self, sources: list[str] | None = None, *, from_start: bool = False) -> PullStats:
        """Pull every configured pull source (REST, Square, Jiandaoyun) into the inbox;
        `from_start` forgets the stored cursors first (a full backfill)."""
        stats = PullStats()
        for name in sources or list(self.sources):
            src = self.source(name)
            if not isinstance(src, CsvSource) and callable(getattr(src, "read", None)):
                if from_start:
                    with self.store.atomic():
                        self.store.clear_cursors(name)
                pull(self.store, src, stats=stats)
        return stats

    def _mapping_files(self) -> dict[tuple[str, str], str]:
        return {
            (name, stream): str(self.config.resolve(file))
            for name, src in self.config.sources.items()
            for stream, file in source_mappings(src).items()
        }

    def start_mapping(self) -> None:
        """Start the mapping worker now, e.g. before reading a large file: `process` uses
        it if the backlog is large enough for one, and stops it either way."""
        if self._pool is None and (os.cpu_count() or 1) >= 2:
            fields = tuple(self.config.identity.fields)
            self._pool = MappingPool(self._mapping_files(), self.context, fields=fields).start()

    def _stop_mapping(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def process(
        self, progress: Callable[[int, int], None] | None = None, *, batch_size: int | None = None
    ) -> ProcessStats:
        """Map, resolve and queue every pending inbox row (in a mapping worker too from
        `parallel_min_rows` pending rows: 20,000 by default, mapping_pool.py).
        `batch_size`: rows per transaction, if not `process_batch_size`."""
        try:
            return self._process(progress, batch_size or self.process_batch_size)
        finally:
            self._stop_mapping()

    def _process(
        self, progress: Callable[[int, int], None] | None, batch_size: int
    ) -> ProcessStats:
        files = self._mapping_files()
        if not self.store.any_guest():  # nothing to refresh yet: the day is done now, so
            # the refresh below does not re-project every guest this run has just queued
            outbox.daily_refresh(self.store, self.targets, self.activity, chunk=self.refresh_chunk)
        stats = process_inbox(
            self.store,
            self.mapping_for,
            self.targets,
            files=files,
            ctx=self.context,
            parallel_min_rows=self.parallel_min_rows,
            batch_size=batch_size,
            ahead=self.map_ahead,
            identity=self.config.identity,
            settings=self.activity,
            progress=progress,
            pool=self._pool,
            bulk=self.bulk,
        )
        # Segments and upcoming birthdays move with the calendar: once a day, everyone.
        stats.queued += outbox.daily_refresh(
            self.store, self.targets, self.activity, chunk=self.refresh_chunk
        )
        return stats

    def deliver(self, targets: list[str] | None = None) -> list[DeliveryStats]:
        self.check_targets(targets)
        out = []
        for name in targets or list(self.targets):
            target = self.targets[name]
            out.append(
                deliver(
                    self.store,
                    target,
                    self.config.targets[name].retry,
                    sleep=self.sleep,
                    pace=self.pacer(name),
                    clock=self.clock,
                )
            )
        return out

    def pacer(self, target: str) -> Callable[[], object] | None:
        """The shared rate budget of the target's CRM account (None: no rate to keep)."""
        return pacer_for(
            self.store,
            target,
            self.targets[target],
            self.config.targets[target],
            clock=self.clock,
            sleep=self.sleep,
        )

    def sync(
        self,
        *,
        sources: list[str] | None = None,
        targets: list[str] | None = None,
        deliver: bool = True,
        kind: str = "sync",
        stage: Callable[[str], None] | None = None,
        process_progress: Callable[[int, int], None] | None = None,
    ) -> SyncSummary:
        """One pass: ingest configured files, pull APIs, process the inbox, deliver.

        `stage(name)` is told as each stage starts ("read", "pull", "process",
        "deliver:TARGET"), and `process_progress(rows done, rows pending)` while rows are
        mapped: what a progress display on a terminal shows."""
        tell = stage or (lambda _name: None)
        run_id = self.store.start_run(kind)
        summary = SyncSummary(run_id, IngestStats(), ProcessStats())
        status = "failed"
        try:
            tell("read")
            summary.ingest = self.ingest_configured(sources)
            tell("pull")
            summary.pull = self.pull(sources)
            tell("process")
            summary.process = self.process(progress=process_progress)
            self.finish_imports(summary.ingest)  # rejects CSVs and archive, if configured
            if deliver:
                self.check_targets(targets)
                for name in targets or list(self.targets):
                    tell(f"deliver:{name}")
                    summary.deliveries.extend(self.deliver([name]))
            summary.guests_total = self.store.count_guests()
            status = "ok" if summary.ok else "partial"
        finally:
            self.store.finish_run(run_id, status=status, stats=summary.as_dict())
        return summary


class _UnsetSecrets(requests.Session):
    """The session of a connector whose ${VAR}s were left unset (a config loaded with
    secrets=False, for `status` or `report`): any call out is the config error that a
    strict load would have raised, never a request with a placeholder for a token."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__()
        self.errors = errors

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raise ConfigErrors(self.errors)


def _guarded(
    config: Config, section: str, name: str, factory: Callable[[], requests.Session]
) -> Callable[[], requests.Session]:
    unset = config.unset_env(section, name)
    return (lambda: _UnsetSecrets(unset)) if unset else factory


def compile_source_mappings(config: Config, ctx: Context) -> dict[tuple[str, str], CompiledMapping]:
    """{(source, stream): compiled mapping}: each file once (sources may share a profile),
    and every broken one reported (`guestsync validate` lists all of them, each with its
    mapping file, line and field), not just the first."""
    compiled: dict[Path, CompiledMapping] = {}
    failed: dict[Path, list[ConfigError]] = {}
    out: dict[tuple[str, str], CompiledMapping] = {}
    for name, src in config.sources.items():
        for stream, file in source_mappings(src).items():
            path = Path(config.resolve(file)).resolve()
            if path not in compiled and path not in failed:
                try:
                    compiled[path] = load_mapping(config.resolve(file), ctx)
                except ConfigErrors as exc:
                    failed[path] = list(exc.errors)
                except ConfigError as exc:
                    failed[path] = [exc]
            if path in compiled:
                out[(name, stream)] = compiled[path]
    errors = [e for errs in failed.values() for e in errs]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)
    return out
