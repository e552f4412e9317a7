from __future__ import annotations

from guestsync.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s


def test_bucket_allows_burst_then_paces_at_rate():
    clock = FakeClock()
    bucket = TokenBucket(10, burst=5, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(25)]
    assert waits[:5] == [0.0] * 5
    assert all(abs(w - 0.1) < 1e-9 for w in waits[5:])
    assert abs(clock.now - 2.0) < 1e-9  # 20 paced calls at 10/s
