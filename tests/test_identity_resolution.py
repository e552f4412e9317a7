"""Identity resolution (issue 4): each kind of dirty data merges; a shared phone does not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlite_utils import Database

from guestsync.identity import IdentityConfig, Scorer, features, keys_for
from guestsync.identity.prepare import features_json
from guestsync.models import Consent, Entity, Guest, SourceRecord
from guestsync.normalize import phone_e164
from guestsync.process.resolve import Resolver
from guestsync.store import Store
from guestsync.store.schema import load_all

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rec(ext: str, source: str = "site", **guest) -> SourceRecord:
    return SourceRecord(
        source=source, stream="s", external_id=ext, entity=Entity.guest, guest=Guest(**guest)
    )


def resolve_all(store: Store, records: list[SourceRecord], config=None) -> Resolver:
    r = Resolver(store, config)
    with store.atomic():
        for i, record in enumerate(records):
            r.resolve(record, T0 + timedelta(minutes=i))
        for gid in r.live(set()):
            r.refresh(gid)
    return r


def clusters(store: Store) -> set[frozenset[str]]:
    out: dict[str, set[str]] = {}
    for g in store.all_guests():
        for link in store.links_of([g.id]):
            out.setdefault(g.id, set()).add(link.ref[2])
    return {frozenset(v) for v in out.values()}


def store_before(tmp_path, migration: str, guest: Guest, *missing: str) -> Store:
    """A store migrated up to (not including) `migration`, with `guest` linked as g-old
    but without its keys of the kinds `missing`, then opened (which applies the rest)."""
    path = tmp_path / "old.db"
    db = Database(path)
    load_all().apply(db, stop_before=migration)
    link_old(Store(db), guest, *missing)
    db.conn.commit()
    db.close()
    return Store.open(path)


def link_old(store: Store, guest: Guest, *missing: str) -> None:
    """`guest` linked as g-old (site:s:a) with its keys but those of the kinds `missing`,
    as a store written before a migration that adds them."""
    f = features(guest)
    store.save_guest(Guest(id="g-old"))
    store.save_link(
        ("site", "s", "a"),
        guest_id="g-old",
        record_json=guest.model_dump_json(exclude_none=True),
        features_json=features_json(f),
        seen_at=T0,
    )
    store.add_guest_keys("g-old", [k for k in keys_for(f) if k[0] not in missing])


@pytest.fixture
def store():
    s = Store.open(":memory:")
    yield s
    s.close()


BASE = {"full_name": "陳小明", "phone": "+886912345678", "email": "ming.chen@example.com"}


@pytest.mark.parametrize(
    "variant",
    [
        {"full_name": "陈小明"},  # simplified
        {"full_name": "Chen Xiao Ming"},  # romanized
        {"full_name": "Ming Chen"},  # given/family swapped, a syllable dropped
        {"full_name": "Xiaoming Chen"},  # run-together romanization
        {"full_name": "陳小明", "email": "ming.chen@exmaple.com"},  # email typo
        {"full_name": "陳曉明"},  # homophone character typo
        {"phone": phone_e164("0912 345 678", "TW"), "email": None},  # phone format, no email
        {"phone": phone_e164("+886-912-345-678", "TW")},
        {"email": None},  # missing email
        {"phone": None},  # missing phone
    ],
)
def test_each_corruption_of_one_guest_merges(store, variant):
    resolve_all(store, [rec("a", **BASE), rec("b", source="pos", **{**BASE, **variant})])
    assert clusters(store) == {frozenset({"a", "b"})}


def test_latin_name_typo_and_swapped_birthday_merge(store):
    a = rec("a", full_name="Amy Lin", email="amy@example.com", birthday=date(1990, 5, 12))
    b = rec("b", full_name="Lin Amy", email="amy@exampel.com", birthday=date(1990, 12, 5))
    c = rec("c", full_name="Amy Lim", phone="+886912000111", email="amy@example.com")
    resolve_all(store, [a, b, c])
    assert clusters(store) == {frozenset({"a", "b", "c"})}


def test_a_family_sharing_one_phone_stays_two_guests(store):
    r = resolve_all(
        store,
        [
            rec("a", full_name="陳小明", phone="+886912345678"),
            rec("b", full_name="陳美玲", phone="+886912345678"),
            rec("c", full_name="陳小明", phone="+886912345678", email="m@example.com"),
        ],
    )
    assert clusters(store) == {frozenset({"a", "c"}), frozenset({"b"})}
    assert r.stats.merges == 0


def test_a_couple_sharing_an_email_is_queued_for_review_not_merged(store):
    resolve_all(
        store,
        [
            rec("a", full_name="王大同", email="wang.family@example.tw"),
            rec("b", full_name="林淑芬", email="wang.family@example.tw"),
        ],
    )
    assert len(clusters(store)) == 2
    (item,) = store.reviews()
    assert item.fields["name"]["level"] == "differ"


def test_same_name_alone_is_a_review_not_a_merge(store):
    resolve_all(store, [rec("a", full_name="陳小明"), rec("b", full_name="陈小明")])
    assert len(clusters(store)) == 2 and store.count_reviews() == 1


def test_a_record_matching_two_guests_merges_them_into_the_older(store):
    r = resolve_all(
        store,
        [
            rec("a", full_name="Amy Lin", email="amy@example.com"),
            rec("b", full_name="Amy Lin", phone="+886912000111"),
            rec("c", full_name="Amy Lin", email="amy@example.com", phone="+886912000111"),
        ],
    )
    assert clusters(store) == {frozenset({"a", "b", "c"})}
    (m,) = store.merges_since()
    assert m.reason == "auto" and store.merged_into(m.lose) == m.keep
    assert r.stats.merges == 1


def test_every_decision_is_logged_with_field_scores(store):
    resolve_all(store, [rec("a", **BASE), rec("b", **{**BASE, "full_name": "Ming Chen"})])
    gid = store.link_state(("site", "s", "b"))[0]
    rows = [x for x in store.match_log_for(gid) if x["candidate"]]
    assert rows[0]["outcome"] == "merge"
    assert rows[0]["fields"]["name"]["level"] == "partial"
    assert rows[0]["fields"]["phone"]["level"] == "exact"


def test_an_over_frequent_key_is_skipped_not_compared(store):
    desk = {"phone": "+886223456789"}
    names = ["王", "李", "張", "劉", "陳", "楊", "黃", "趙", "吳", "周"]
    records = [
        rec(f"r{i}", full_name=f"{n}{m}", **desk)
        for i, (n, m) in enumerate((n, m) for n in names for m in ["一", "二", "三"])
    ]
    config = IdentityConfig(max_candidates_per_key=5)
    r = resolve_all(store, records, config)
    assert r.stats.skipped_keys > 0
    assert r.stats.comparisons <= 5 * len(records)


def test_golden_record_consent_newest_statement_wins(store):
    old_yes = Consent(granted=True, at=T0 - timedelta(days=30))
    new_no = Consent(granted=False, at=T0 - timedelta(days=1))
    resolve_all(
        store,
        [
            rec("a", **BASE, marketing_consent=new_no),
            rec("b", **BASE, marketing_consent=old_yes),  # seen later, stated earlier
        ],
    )
    (g,) = list(store.all_guests())
    assert g.marketing_consent is not None and g.marketing_consent.granted is False


def test_scorer_explains_the_family_guard():
    s = Scorer(IdentityConfig())
    a = features(Guest(full_name="陳小明", phone="+886912345678"))
    b = features(Guest(full_name="陳美玲", phone="+886912345678"))
    score = s.score(a, b)
    assert score.guarded and s.outcome(score) != "merge"


def test_a_pos_bill_or_survey_answer_carrying_only_a_phone_links_to_its_guest(store):
    resolve_all(
        store,
        [
            rec("b1", **BASE),
            rec("pos-1", source="pos", phone="+886912345678"),
            rec("survey-1", source="survey", phone=phone_e164("0912-345-678", "TW")),
        ],
    )
    assert clusters(store) == {frozenset({"b1", "pos-1", "survey-1"})}


def test_a_delivery_order_with_the_same_address_links_to_its_guest(store):
    home = "臺北市信義區松仁路100號5樓"
    resolve_all(
        store,
        [
            rec("b1", **BASE, address=home),
            # Written another way: simplified 台, full-width digits, a space; no phone/email.
            rec(
                "d1",
                source="delivery",
                full_name="Chen Xiao Ming",
                address="台北市信義區 松仁路１００號5樓",
            ),
            # Same building, another person: the name differs, so not merged.
            rec("d2", source="delivery", full_name="Amy Lin", address=home),
        ],
    )
    assert clusters(store) == {frozenset({"b1", "d1"}), frozenset({"d2"})}


def test_a_review_item_closes_when_its_two_guests_become_one(store):
    """Found by the console: an item left open after its guests merged could never be
    accepted ("already one guest")."""
    r = resolve_all(
        store,
        [
            rec("a", full_name="王大同", email="wang.family@example.tw"),
            rec("b", full_name="林淑芬", email="wang.family@example.tw"),
        ],
    )
    (item,) = store.reviews()
    with store.atomic():
        r.merge(item.candidate, item.guest_id)  # e.g. a later record joined them
    assert store.reviews() == [] and store.count_reviews("merged") == 1
