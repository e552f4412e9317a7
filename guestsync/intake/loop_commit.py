"""Group commit on an asyncio loop (serve's RSGI app, serve/rsgi.py): a request's rows
join the loop's batch and it awaits their commit; one write at a time, made by one
thread beside the loop, carries everything that joined the batch since the previous
write began. A request is answered only after the transaction holding its rows committed;
if it fails, every request in it fails (5xx, the sender retries).

The transaction itself is GroupCommit.write (the lock, the store's call, the metrics):
only how requests wait for it differs from the threads' group commit (group_commit.py).
Not on the loop itself: the loop goes on reading, checking and answering requests while a
transaction commits (issue 26, both on uvloop: 5,483 POST/s against 4,722 writing on
the loop, about the same CPU per request; serve/rsgi.py).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from .group_commit import GroupCommit, Rows


class _Waiting(Rows):
    __slots__ = ("future",)

    def __init__(self, source: str, event_id: str, entries: list, future: asyncio.Future) -> None:
        super().__init__(source, event_id, entries)
        self.future = future


class LoopCommit:
    def __init__(self, writer: GroupCommit) -> None:
        self.writer = writer
        self._batch: list[_Waiting] = []
        self._busy = False  # a write is scheduled or under way
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="guestsync-commit")

    async def submit(self, source: str, event_id: str, entries: list) -> bool:
        """True if the event was new (rows stored), False if its id was seen before."""
        loop = asyncio.get_running_loop()
        item = _Waiting(source, event_id, entries, loop.create_future())
        self._batch.append(item)
        if not self._busy:
            self._busy = True
            loop.call_soon(self._flush, loop)  # after every request ready this turn
        return bool(await item.future)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._batch = self._batch, []
        done = loop.run_in_executor(self._thread, self.writer.write, batch)
        done.add_done_callback(lambda d: self._written(loop, batch, _raised(d)))

    def _written(
        self, loop: asyncio.AbstractEventLoop, batch: list[_Waiting], crash: BaseException | None
    ) -> None:
        """`crash`: `write` itself raised (it records a failed transaction as each item's
        error): every request of the batch fails rather than waits forever."""
        for p in batch:
            if p.future.done():  # the request was cancelled (client gone)
                continue
            if crash is not None:
                p.future.set_exception(crash)
            elif p.error is not None:
                p.future.set_exception(p.error)
            else:
                p.future.set_result(p.new)
        if self._batch:
            loop.call_soon(self._flush, loop)
        else:
            self._busy = False

    def close(self) -> None:
        self._thread.shutdown(wait=True)


def _raised(done: asyncio.Future) -> BaseException | None:
    return asyncio.CancelledError() if done.cancelled() else done.exception()
