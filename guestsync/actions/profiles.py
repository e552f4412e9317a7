"""The shipped mapping profiles and samples, and starter configs built from them.

`pip install guestsync` must give IT staff what a checkout gives: the profiles of
config/mappings/ and the samples of config/samples/. The build copies both into
guestsync/profiles/ (setup.py); a checkout (an editable install) has no copy and reads
config/ in place. `guestsync init --profile NAME` and `guestsync mapping list|copy` read
them through `shipped()`, so both cases behave the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import GuestsyncError
from ..yamlfile import load_yaml

_CHECKOUT = Path(__file__).resolve().parents[2] / "config"


def shipped() -> Path:
    """The folder holding `mappings/` and `samples/`: the installed package data, else
    (a checkout) the repository's config/."""
    packaged = Path(str(resources.files("guestsync"))) / "profiles"
    for folder in (packaged, _CHECKOUT):
        if (folder / "mappings").is_dir():
            return folder
    raise GuestsyncError(
        "the shipped mapping profiles are missing from this installation "
        "(reinstall guestsync from its wheel or sdist)"
    )


@dataclass(frozen=True)
class Profile:
    """A mapping profile file: its name (file stem), entity and first comment line."""

    name: str
    path: Path
    entity: str
    about: str


def profiles() -> list[Profile]:
    out = []
    for path in sorted((shipped() / "mappings").glob("*.yaml")):
        text = path.read_text("utf-8")
        comments = [ln.lstrip("# ").strip() for ln in text.splitlines() if ln.startswith("#")]
        data = load_yaml(path, text=text).data
        entity = str(data.get("entity", "?")) if isinstance(data, dict) else "?"
        out.append(Profile(path.stem, path, entity, comments[0] if comments else ""))
    return out


def profile(name: str) -> Profile:
    """One profile by name (`square_customers` or `square_customers.yaml`)."""
    name = name.removesuffix(".yaml")
    found = {p.name: p for p in profiles()}
    if name not in found:
        raise GuestsyncError(
            f"no mapping profile {name!r}; `guestsync mapping list` shows them "
            f"({', '.join(sorted(found))})"
        )
    return found[name]


def copy_profile(name: str, folder: Path, *, force: bool = False) -> Path:
    """Copy a profile into `folder` (made if missing); an existing file is kept unless
    `force`: it may hold the user's own changes."""
    src = profile(name)
    dest = folder / src.path.name
    if dest.exists() and not force:
        raise GuestsyncError(f"{dest} already exists; use --force to overwrite it")
    folder.mkdir(parents=True, exist_ok=True)
    dest.write_text(src.path.read_text("utf-8"), encoding="utf-8")
    return dest


@dataclass(frozen=True)
class Starter:
    """What `guestsync init --profile NAME` writes: the config, the mappings it names
    (profile name -> file under mappings/), and the sample `--sample` adds to exports/."""

    config: str
    mappings: dict[str, str]
    sample: str | None  # relative to shipped()


def _starter_text(name: str) -> str:
    return (resources.files("guestsync") / "starter" / name).read_text("utf-8")


_CSV_SAMPLES = {
    "booking_en": "mappings/samples/booking_en.csv",
    "booking_zh": "mappings/samples/booking_zh.csv",
    "booking_zh_hans": "mappings/samples/booking_zh_hans.csv",
}
INIT_PROFILES = ("csv", "square", *_CSV_SAMPLES)


def starter(name: str) -> Starter:
    """The starter for an `init` profile: `csv` (the annotated default, a generic English
    booking export), `square` (the Square API), or a CSV booking profile by name."""
    if name == "csv":
        return Starter(_starter_text("guestsync.yaml"), {}, "samples/booking_site.csv")
    if name == "square":
        return Starter(
            _starter_text("square.yaml"),
            {
                "square_customers": "square_customers.yaml",
                "square_bookings": "square_bookings.yaml",
            },
            None,
        )
    if name in _CSV_SAMPLES:
        text = _starter_text("guestsync.yaml").replace(
            "mapping: mappings/bookings.yaml", f"mapping: mappings/{name}.yaml"
        )
        return Starter(text, {name: f"{name}.yaml"}, _CSV_SAMPLES[name])
    raise GuestsyncError(f"no init profile {name!r}; choose one of {', '.join(INIT_PROFILES)}")
