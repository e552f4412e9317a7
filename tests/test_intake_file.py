"""The intake file's WAL (store/intake.py): the webhook commits keep it small (a commit that
finds CHECKPOINT_PAGES pages in it checkpoints), and the worker's mover never checkpoints
inside its commit, only after it, outside the turn (issue 26: a 64 MB checkpoint inside a
webhook commit held every intake process for 50-300 ms)."""

from __future__ import annotations

import os
from pathlib import Path

from guestsync.models import InboxEntry
from guestsync.store import Store
from guestsync.store.intake import CHECKPOINT_PAGES, IntakeFile


def _event(i: int) -> tuple[str, str, list[tuple[InboxEntry, bool]]]:
    record = {"id": f"b-{i}", "name": f"Guest {i}", "email": f"g{i}@example.com", "note": "x" * 300}
    entry = InboxEntry.of(
        source="zap", stream="bookings", external_id=f"b-{i}", record=record, origin="webhook"
    )
    return ("zap", f"e-{i}", [(entry, False)])


def _wal_pages(path: Path, page_size: int) -> int:
    """Frames the WAL file holds (a 32-byte header, then a 24-byte header per page)."""
    wal = Path(f"{path}-wal")
    return (wal.stat().st_size - 32) // (page_size + 24) if wal.exists() else 0


def test_webhook_commits_keep_the_wal_small(tmp_path):
    path = tmp_path / "hub.intake.db"
    writer = IntakeFile.open(path)
    assert writer.autocheckpoint() == CHECKPOINT_PAGES
    page_size = int(writer._one("PRAGMA page_size"))
    largest = 0
    for i in range(3000):  # one commit each, as webhooks arriving one by one
        assert writer.add_webhook_events([_event(i)]) == [True]
        largest = max(largest, _wal_pages(path, page_size))
    # ~3 pages a commit: ~9,000 pages without checkpoints; the WAL starts over instead
    assert largest <= CHECKPOINT_PAGES + 10
    assert writer.waiting() == 3000
    writer.close()


def test_the_movers_commits_never_checkpoint_it_checkpoints_after_the_move(tmp_path):
    path = tmp_path / "hub.intake.db"
    writer = IntakeFile.open(path)
    mover = IntakeFile.open(path, checkpoints=False)
    assert mover.autocheckpoint() == 0
    store = Store.open(tmp_path / "hub.db")
    assert all(writer.add_webhook_events([_event(i) for i in range(300)]))
    assert mover.move_into(store) == 300
    assert writer.waiting() == 0
    assert store.inbox_counts() == {"pending": 300}
    in_log, copied = mover.checkpoint()
    assert in_log == copied  # everything was copied into the file already
    for conn in (writer, mover, store):
        conn.close()
    assert not os.path.exists(f"{path}-journal")
