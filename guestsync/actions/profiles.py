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
    sample_name: str = "sample_bookings.csv"  # under exports/


@dataclass(frozen=True)
class _Kind:
    """How one kind of source starts: its `sources:` block (starter/sources/<block>, in
    which `<mapping>` stands for the profile's name), the profiles it reads, a sample."""

    block: str
    mappings: tuple[str, ...]
    sample: str | None = None


_SQUARE = _Kind("square.yaml", ("square_customers", "square_bookings"))
_SQUARE_WEBHOOK = _Kind(
    "square_webhook.yaml", ("square_webhook_customers", "square_webhook_bookings")
)
# Every shipped mapping profile is an `init` profile (tests/test_packaging.py checks that
# none is missing), plus `csv`: the annotated default with its own generic mapping.
_KINDS: dict[str, _Kind] = {
    "csv": _Kind("csv_bookings.yaml", ("bookings",), "samples/booking_site.csv"),
    "square": _SQUARE,
    "square_customers": _SQUARE,
    "square_bookings": _SQUARE,
    "square_webhook_customers": _SQUARE_WEBHOOK,
    "square_webhook_bookings": _SQUARE_WEBHOOK,
    "booking_en": _Kind("csv_bookings.yaml", ("booking_en",), "mappings/samples/booking_en.csv"),
    "booking_zh": _Kind("csv_bookings.yaml", ("booking_zh",), "mappings/samples/booking_zh.csv"),
    "booking_zh_hans": _Kind(
        "csv_bookings.yaml", ("booking_zh_hans",), "mappings/samples/booking_zh_hans.csv"
    ),
    "pos_orders_zh": _Kind("csv_orders.yaml", ("pos_orders_zh",), "samples/pos_orders_zh.csv"),
    "survey_zh": _Kind("csv_survey.yaml", ("survey_zh",), "samples/survey_zh.csv"),
    "inline_reservations": _Kind("inline.yaml", ("inline_reservations",)),
    "toast_guests": _Kind("toast.yaml", ("toast_guests",)),
    "generic_booking": _Kind("generic_webhook.yaml", ("generic_booking",)),
    "jiandaoyun_feedback": _Kind("jiandaoyun.yaml", ("jiandaoyun_feedback",)),
    "jiandaoyun_reservation": _Kind("jiandaoyun.yaml", ("jiandaoyun_reservation",)),
    "jiandaoyun_signup": _Kind("jiandaoyun.yaml", ("jiandaoyun_signup",)),
    # a loyalty app's members, points ledger and coupons (issue 27), and points by webhook
    **{
        f"loyalty_{kind}_{lang}": _Kind(
            f"csv_{kind}.yaml",
            (f"loyalty_{kind}_{lang}",),
            f"mappings/samples/loyalty_{kind}_{lang}.csv",
        )
        for kind in ("members", "points", "coupons")
        for lang in ("zh", "zh_hans", "en")
    },
    "generic_points": _Kind("points_webhook.yaml", ("generic_points",)),
}
INIT_PROFILES = tuple(_KINDS)


def _starter_text(*parts: str) -> str:
    return resources.files("guestsync").joinpath("starter", *parts).read_text("utf-8")


def starter(name: str) -> Starter:
    """The starter for an `init` profile: `csv` (the annotated default, a generic English
    booking export, with the starter's own mapping) or a shipped mapping profile by name,
    with the source that reads it (a CSV export, Square's API, a webhook, 简道云)."""
    kind = _KINDS.get(name)
    if kind is None:
        raise GuestsyncError(f"no init profile {name!r}; choose one of {', '.join(INIT_PROFILES)}")
    base = _starter_text("guestsync.yaml")
    head, rest = base.split("\nsources:\n", 1)
    _, tail = rest.split("\ntargets:\n", 1)
    block = _starter_text("sources", kind.block).replace("<mapping>", kind.mappings[0])
    if name != "csv":
        head = head.replace("`guestsync init`", f"`guestsync init --profile {name}`", 1)
    config = f"{head}\nsources:\n{block}\ntargets:\n{tail}"
    mappings = {} if name == "csv" else {m: f"{m}.yaml" for m in kind.mappings}
    # exports/sample_bookings.csv, sample_orders.csv, sample_survey.csv: what it holds
    sample_name = "sample_" + kind.block.removeprefix("csv_").removesuffix(".yaml") + ".csv"
    return Starter(config, mappings, kind.sample, sample_name)
