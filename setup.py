"""Build hook: the shipped mapping profiles and samples become package data.

They live in config/ (where the README, the docs and the tests point IT staff), not in
the package; a wheel without them would leave `guestsync init --profile` and
`guestsync mapping copy` with nothing to copy. So the build copies config/mappings and
config/samples into guestsync/profiles/ of the build tree; a checkout (an editable
install) reads them from config/ directly (guestsync/actions/profiles.py).
Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {"mappings": ("*.yaml", "samples/*"), "samples": ("*.csv", "webhooks/*.json")}


class BuildWithProfiles(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # a checkout reads config/ in place
        target = Path(self.build_lib) / "guestsync" / "profiles"
        for folder, patterns in SHIPPED.items():
            for pattern in patterns:
                for src in sorted((ROOT / "config" / folder).glob(pattern)):
                    if src.is_file():
                        dest = target / folder / src.relative_to(ROOT / "config" / folder)
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(src, dest)


setup(cmdclass={"build_py": BuildWithProfiles})
