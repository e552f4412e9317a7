"""`type: webhook`: a source that calls us. It has nothing to read on a schedule; the
webhook server verifies and stores its events, and the worker may fetch id-only events
through webhooks/fetch.py before they are processed."""

from __future__ import annotations

from pathlib import Path

from ..config.webhooks import WebhookSourceOptions


class WebhookSource:
    def __init__(self, name: str, options: WebhookSourceOptions, *, base_dir: Path) -> None:
        self.name = name
        self.options = options
        self.base_dir = base_dir

    def streams(self) -> list[str]:
        return sorted({self.options.stream, *self.options.stream_mappings})

    def __repr__(self) -> str:
        return f"WebhookSource({self.name!r}, platform={self.options.platform!r})"
