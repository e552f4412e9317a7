"""guestsync installed from its wheel works like a checkout (issue 24): the mapping
profiles and samples ship as package data, `init --profile` writes a config that
validates, `mapping list|copy` find the profiles, and the license is declared in SPDX
form without a setuptools deprecation warning."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestsync.actions import profiles
from guestsync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.name for p in (ROOT / "config" / "mappings").glob("*.yaml"))


def test_every_shipped_profile_is_an_init_profile():
    assert {name.removesuffix(".yaml") for name in SHIPPED} <= set(profiles.INIT_PROFILES)


@pytest.mark.parametrize("profile", profiles.INIT_PROFILES)
def test_init_profile_writes_a_config_that_validates(tmp_path, profile):
    """Every shipped profile (CSV, POS, survey, Square, webhooks, 简道云), issue 24: the
    config validates once the secrets it names are exported, and names the profile."""
    folder = tmp_path / profile
    result = CliRunner().invoke(cli, ["init", "--profile", profile, str(folder)])
    assert result.exit_code == 0, result.output
    config = (folder / "guestsync.yaml").read_text("utf-8")
    env = {var: "s3cret" for var in re.findall(r"\$\{(\w+)\}", config)}
    assert "HUBSPOT_TOKEN" in env
    valid = CliRunner().invoke(cli, ["validate", str(folder / "guestsync.yaml")], env=env)
    assert valid.exit_code == 0, valid.output
    assert "1 source(s), 1 target(s)" in valid.output
    if profile != "csv":
        assert f"mappings/{profile}.yaml" in config or profile == "square"
        assert (folder / "mappings" / f"{profile}.yaml").exists() or profile == "square"


@pytest.mark.parametrize(
    ("profile", "sample", "rows"),
    [("pos_orders_zh", "sample_orders.csv", 6), ("survey_zh", "sample_survey.csv", 3)],
)
def test_init_pos_and_survey_profiles_import_their_sample(
    tmp_path, monkeypatch, profile, sample, rows
):
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["init", "--profile", profile, "--sample", str(tmp_path)]).exit_code == 0
    )
    assert (tmp_path / "exports" / sample).exists()
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(
        cli, ["sync", "--no-deliver"], env={"HUBSPOT_TOKEN": "x", "COLUMNS": "200"}
    )
    assert done.exit_code == 0, done.output
    assert f"{rows} mapped, 0 rejected" in done.output


def test_init_square_copies_the_square_profiles(tmp_path):
    assert CliRunner().invoke(cli, ["init", "--profile", "square", str(tmp_path)]).exit_code == 0
    for name in ("square_customers.yaml", "square_bookings.yaml"):
        shipped = (ROOT / "config" / "mappings" / name).read_text("utf-8")
        assert (tmp_path / "mappings" / name).read_text("utf-8") == shipped
    assert "type: square" in (tmp_path / "guestsync.yaml").read_text("utf-8")
    refused = CliRunner().invoke(cli, ["init", "--profile", "square", "--sample", str(tmp_path)])
    assert refused.exit_code != 0 and "no sample" in refused.output


def test_mapping_list_and_copy(tmp_path):
    listed = CliRunner().invoke(cli, ["mapping", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0
    for name in SHIPPED:
        assert name.removesuffix(".yaml") in listed.output
    dest = tmp_path / "mappings"
    copied = CliRunner().invoke(cli, ["mapping", "copy", "toast_guests", "--to", str(dest)])
    assert copied.exit_code == 0 and (dest / "toast_guests.yaml").is_file()
    again = CliRunner().invoke(cli, ["mapping", "copy", "toast_guests.yaml", "--to", str(dest)])
    assert again.exit_code != 0 and "--force" in str(again.exception)
    unknown = CliRunner().invoke(cli, ["mapping", "copy", "nope", "--to", str(dest)])
    assert "no mapping profile 'nope'" in str(unknown.exception)


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_wheel_installs_outside_the_repo_and_runs_init_validate_sync(tmp_path):
    src = tmp_path / "src"  # a copy: building in the checkout would leave build/ in it
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "LICENSE", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db*")
    for folder in ("guestsync", "config"):
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUESTSYNC", "PYTHON"))}
    dist = tmp_path / "dist"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(dist)],
        tmp_path,
        env,
    )
    assert built.returncode == 0, built.stderr
    noise = built.stdout + built.stderr
    assert "BuildBackendWarning" not in noise and "SetuptoolsDeprecationWarning" not in noise
    (wheel,) = dist.glob("guestsync-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {f"guestsync/profiles/mappings/{n}" for n in SHIPPED} <= names
    assert "guestsync/profiles/samples/booking_site.csv" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: Apache-2.0" in metadata

    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env).returncode == 0
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    # dependencies from the configured index (a local mirror here), guestsync from the wheel
    install = _run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--find-links",
            str(dist),
            "guestsync",
        ],
        tmp_path,
        env,
    )
    assert install.returncode == 0, install.stderr
    gs = str(bin_dir / "guestsync")
    work = tmp_path / "work"
    work.mkdir()
    run_env = env | {"HUBSPOT_TOKEN": "x", "SQUARE_TOKEN": "y"}
    where = _run(
        [str(bin_dir / "python"), "-c", "import guestsync; print(guestsync.__file__)"],
        work,
        run_env,
    )
    assert str(venv) in where.stdout, where.stdout  # not the checkout
    init = _run([gs, "init", "--sample", "."], work, run_env)
    assert init.returncode == 0, init.stderr
    valid = _run([gs, "validate"], work, run_env)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    sync = _run([gs, "sync", "--no-deliver"], work, run_env | {"COLUMNS": "200"})
    assert sync.returncode == 1, sync.stdout + sync.stderr  # the sample keeps one bad row
    assert "15 mapped, 1 rejected" in sync.stdout
    assert "sample_bookings.csv:16: guest.phone" in " ".join(sync.stderr.split())
    listed = _run([gs, "mapping", "list"], work, run_env | {"COLUMNS": "200"})
    assert listed.returncode == 0 and str(venv) in " ".join(listed.stdout.split())
    square = _run([gs, "init", "--profile", "square", "sq"], work, run_env)
    assert square.returncode == 0, square.stderr
    assert _run([gs, "validate", "sq/guestsync.yaml"], work, run_env).returncode == 0
    # the report's templates and the starters' source blocks ship as package data too
    page = work / "report.html"
    shown = _run([gs, "report", "--html", str(page)], work, run_env | {"COLUMNS": "200"})
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "賓客分群" in page.read_text("utf-8")  # defaults.region TW: zh-TW
    hook = _run([gs, "init", "--profile", "inline_reservations", "hook"], work, run_env)
    assert hook.returncode == 0, hook.stderr
    hook_env = run_env | {"INLINE_WEBHOOK_SECRET": "s"}
    assert _run([gs, "validate", "hook/guestsync.yaml"], work, hook_env).returncode == 0
