"""The `guestsync` group, its shared console and context, and `main()` (error to exit code)."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from ..config import load_config
from ..errors import ConfigError, GuestsyncError
from ..serve import logs
from ..sync_engine import Hub

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)  # one error, one line, whatever the width


class Ctx:
    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    def hub(self, *, secrets: bool = True) -> Hub:
        """`secrets=False` for commands that only read the store (status, report, outbox,
        …): an unset ${VAR} (a CRM token not exported on this box) is then no error; a
        connector built with one refuses to call out (sync_engine._UnsetSecrets)."""
        return Hub(load_config(self.config_path, secrets=secrets))


pass_ctx = click.make_pass_decorator(Ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    metavar="FILE",
    envvar="GUESTSYNC_CONFIG",
    help="Config file (default: ./guestsync.yaml, or $GUESTSYNC_CONFIG).",
)
@click.option(
    "--log-level",
    type=click.Choice(logs.LEVELS, case_sensitive=False),
    envvar=logs.LEVEL_ENV,
    help="Log lines from this level up (default: info for serve, else warning; "
    f"or ${logs.LEVEL_ENV}).",
)
@click.option(
    "--log-format",
    type=click.Choice(logs.FORMATS, case_sensitive=False),
    envvar=logs.FORMAT_ENV,
    help="auto (default): rich on a terminal, JSON lines otherwise (cron, systemd, "
    f"Docker); text: plain lines; json: always JSON lines (or ${logs.FORMAT_ENV}).",
)
@click.version_option(package_name="guestsync")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, log_level: str | None, log_format: str | None
) -> None:
    """guestsync: bookings, POS and loyalty records in; one deduplicated guest per person
    out to your CRM, with retry. Start with `guestsync init`, then `guestsync validate`."""
    # serve's access log and job lines are info; a one-shot command logs only trouble
    default = "info" if ctx.invoked_subcommand == "serve" else "warning"
    logs.configure(*logs.resolve(log_level, log_format, default_level=default))
    ctx.obj = Ctx(config_path)


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="guestsync", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            err.print(f"[red]config error[/] {escape(line)}", highlight=False)
        sys.exit(2)
    except GuestsyncError as exc:
        err.print(f"[red]error[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)
