"""The hub: builds connectors and compiled mappings from the config once, and runs the
four stages. `sync()` is one pass of all of them, recorded as a row in `runs`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from . import activity
from .activity import ActivitySettings
from .config import Config
from .connectors import SOURCES, TARGETS, CsvSource
from .connectors.base import Target
from .delivery import DeliveryStats, deliver
from .errors import BadRecordError, ConfigError
from .ingest import IngestStats, ingest_csv
from .mapping import CompiledMapping, load_mapping
from .mapping.transforms import Context
from .privacy import install_log_masking
from .process import ProcessStats, process_pending
from .store import Store


@dataclass
class SyncSummary:
    run_id: int
    ingest: IngestStats
    process: ProcessStats
    deliveries: list[DeliveryStats] = field(default_factory=list)
    guests_total: int = 0

    @property
    def ok(self) -> bool:
        return (
            not self.ingest.rejected_files
            and not self.process.rejected
            and all(d.stopped is None and not d.dead for d in self.deliveries)
        )

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
    ) -> None:
        self.config = config
        self.sleep = sleep
        ctx = Context(region=config.defaults.region, timezone=config.defaults.timezone)
        self.mappings: dict[str, CompiledMapping] = {
            name: load_mapping(config.resolve(src.mapping), ctx)
            for name, src in config.sources.items()
        }
        self.sources: dict[str, CsvSource] = {
            name: SOURCES[src.type](name, src, base_dir=config.path.parent)
            for name, src in config.sources.items()
        }
        self.targets: dict[str, Target] = {
            name: TARGETS[t.type](name, t, session=session_factory())
            for name, t in config.targets.items()
        }
        self._store = store
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
            self._store = Store.open(self.config.store_path)
        activity.attach(self._store, self.activity)  # segments, CRM properties from config
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def mapping_for(self, source: str, stream: str) -> CompiledMapping:
        try:
            return self.mappings[source]
        except KeyError:
            raise BadRecordError(
                f"source {source!r} is no longer in the config; add it back to process this row"
            ) from None

    def source(self, name: str) -> CsvSource:
        if name not in self.sources:
            known = ", ".join(sorted(self.sources)) or "none configured"
            raise ConfigError(
                f"unknown source {name!r} (known: {known})", file=str(self.config.path)
            )
        return self.sources[name]

    # -- stages ------------------------------------------------------------------------

    def import_csv(
        self, source: str, paths: list[Path], stats: IngestStats | None = None
    ) -> IngestStats:
        src = self.source(source)
        stats = stats or IngestStats()
        for path in paths:
            ingest_csv(self.store, src, self.mappings[source], path, stats)
        return stats

    def ingest_configured(self, sources: list[str] | None = None) -> IngestStats:
        stats = IngestStats()
        for name in sources or list(self.sources):
            self.import_csv(name, self.source(name).files(), stats)
        return stats

    def process(self) -> ProcessStats:
        stats = process_pending(self.store, self.mapping_for, self.targets, settings=self.activity)
        # Segments and upcoming birthdays move with the calendar: once a day, everyone.
        stats.queued += activity.daily_refresh(self.store, self.targets, self.activity)
        return stats

    def deliver(self, targets: list[str] | None = None) -> list[DeliveryStats]:
        out = []
        for name in targets or list(self.targets):
            target = self.targets[name]
            out.append(
                deliver(self.store, target, self.config.targets[name].retry, sleep=self.sleep)
            )
        return out

    def sync(
        self,
        *,
        sources: list[str] | None = None,
        targets: list[str] | None = None,
        deliver: bool = True,
    ) -> SyncSummary:
        """One pass: ingest configured files, process the inbox, deliver the outbox."""
        run_id = self.store.start_run("sync")
        summary = SyncSummary(run_id, IngestStats(), ProcessStats())
        status = "failed"
        try:
            summary.ingest = self.ingest_configured(sources)
            summary.process = self.process()
            if deliver:
                summary.deliveries = self.deliver(targets)
            summary.guests_total = self.store.count_guests()
            status = "ok" if summary.ok else "partial"
        finally:
            self.store.finish_run(run_id, status=status, stats=summary.as_dict())
        return summary
