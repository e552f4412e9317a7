"""The exception tree, grouped by what the caller should do next.

    GuestsyncError
    ├── ConfigError        stop and tell the user: file, line, field, fix (exit 2)
    ├── BadRecordError     quarantine this one record with a reason, go on with the rest
    ├── RetryableError     back off and try again later (429, 5xx, timeouts, resets)
    │   ├── ProtocolError      a 2xx whose body is not what the API documents (HTML, cut off)
    │   └── RateLimitedError   the remote asked us to slow down; may carry retry_after
    │       └── QuotaExhaustedError  a daily/periodic quota is used up: stop the target
    │                                until it resets, keep the records pending
    └── PermanentError     this request will never succeed as sent: dead-letter it
        └── AuthError      credentials are wrong: stop the whole target, do not dead-letter

Connectors raise these; the engine decides what to do (retry, dead letter, stop).
Every error carries keyword-only context as attributes so that messages and logs can name
the file, line, field, target or HTTP status without parsing strings.
"""

from __future__ import annotations


class GuestsyncError(Exception):
    """Root of every error guestsync raises on purpose."""


class ConfigError(GuestsyncError):
    """A configuration or mapping file is wrong. The message names file, line and field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class ConfigErrors(ConfigError):
    """Several config errors found at once; each is reported on its own line."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        GuestsyncError.__init__(self, "\n".join(e.render() for e in errors))
        self.file = errors[0].file if errors else None
        self.line = errors[0].line if errors else None
        self.field = errors[0].field if errors else None
        self.message = str(self)

    def render(self) -> str:
        return "\n".join(e.render() for e in self.errors)


class BadRecordError(GuestsyncError):
    """One source record cannot be mapped or validated. It is kept and can be replayed."""

    def __init__(self, reason: str, *, field: str | None = None, value: object = None) -> None:
        self.reason = reason
        self.field = field
        self.value = value
        super().__init__(self.render())

    def render(self) -> str:
        if self.field is None:
            return self.reason
        return f"{self.field}: {self.reason} (value: {self.value!r})"


class RemoteError(GuestsyncError):
    """An error answered by (or on the way to) a remote system."""

    def __init__(self, message: str, *, status: int | None = None, target: str | None = None):
        self.status = status
        self.target = target
        super().__init__(message)


class RetryableError(RemoteError):
    """Transient: 429, 5xx, timeouts, connection resets. Back off and retry."""


class ProtocolError(RetryableError):
    """A success status with a body that is not what the API documents (an HTML page from a
    proxy, a truncated answer, `[]`). Nothing can be read from it, so nothing is applied:
    the batch stays pending and is sent again (the upsert is idempotent)."""


class RateLimitedError(RetryableError):
    """The remote throttled us; `retry_after` is its Retry-After in seconds, if it said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class PermanentError(RemoteError):
    """The remote rejected the request as sent. Retrying will not help: dead-letter it."""


class AuthError(PermanentError):
    """Credentials rejected. Stop delivering to this target instead of dead-lettering."""


class QuotaExhaustedError(RateLimitedError):
    """The CRM's call quota for the period (e.g. Fxiaoke's daily quota) is used up.

    Not a failure of the records: the engine stops delivering to this target for the run
    with this one message and leaves the batch pending without counting an attempt (so no
    record drifts towards its attempt limit or the dead letters). `retry_after` is the
    time until the quota resets, which is longer than any retry wait, so the retry policy
    gives up at once; `resets_at` says when, for the message.
    """

    def __init__(self, message: str, *, resets_at: object = None, **kw):
        super().__init__(message, **kw)
        self.resets_at = resets_at
