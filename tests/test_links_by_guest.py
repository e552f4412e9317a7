"""guest_links stored in guest order (m0020), the match log's partial candidate index
(m0021) and the match log found by record (m0022): an older store keeps every link and
decision, and they still answer as before."""

from __future__ import annotations

from sqlite_utils import Database

from guestsync.identity import features
from guestsync.identity.prepare import features_json
from guestsync.models import Guest
from guestsync.process.resolve import Resolver
from guestsync.store import Store
from guestsync.store.schema import load_all

from .test_identity_resolution import T0, clusters, rec, resolve_all

AMY = Guest(full_name="陳小明", email="ming.chen@example.com", phone="+886912345678")
BOB = Guest(full_name="Bob Lin", email="bob@example.com")


def _link(store: Store, ref: tuple[str, str, str], gid: str, guest: Guest) -> None:
    store.save_link(
        ref,
        guest_id=gid,
        record_json=guest.model_dump_json(exclude_none=True),
        features_json=features_json(features(guest)),
        seen_at=T0,
    )


def test_an_older_store_keeps_its_links_and_log(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    load_all().apply(db, stop_before="0020_links_by_guest")
    old = Store(db)
    for gid in ("g-amy", "g-bob"):
        old.save_guest(Guest(id=gid))
    _link(old, ("site", "s", "a1"), "g-amy", AMY)
    _link(old, ("pos", "orders", "a2"), "g-amy", AMY)
    _link(old, ("site", "s", "b1"), "g-bob", BOB)
    old.move_links([("pos", "orders", "a2")], "g-amy", pin=True)
    old.log_matches(
        [
            {"ref": ("site", "s", "a1"), "guest_id": "g-amy", "outcome": "new"},
            {
                "ref": ("site", "s", "b1"),
                "guest_id": "g-bob",
                "candidate": "g-amy",
                "candidate_ref": "site:s:a1",
                "score": -3.0,
                "outcome": "new",
            },
        ]
    )
    before = db.conn.execute(
        "SELECT source, stream, external_id, guest_id, record, seen_at, features, pinned"
        " FROM guest_links ORDER BY 1, 2, 3"
    ).fetchall()
    db.conn.commit()
    db.close()

    store = Store.open(path)  # applies 0020 and 0021
    try:
        after = store.conn.execute(
            "SELECT source, stream, external_id, guest_id, record, seen_at, features, pinned"
            " FROM guest_links ORDER BY 1, 2, 3"
        ).fetchall()
        assert after == before
        assert store.link_state(("pos", "orders", "a2")) == ("g-amy", True)
        assert [x.ref for x in store.links_of(["g-amy"])] == [
            ("pos", "orders", "a2"),
            ("site", "s", "a1"),
        ]
        # Amy's explanation still shows the record compared with her and kept apart.
        outcomes = [(m["guest_id"], m["candidate"]) for m in store.match_log_for("g-amy")]
        assert outcomes == [("g-amy", None), ("g-bob", "g-amy")]
        assert [m["candidate"] for m in store.match_log_for("g-bob")] == ["g-amy"]
    finally:
        store.close()


def test_a_record_seen_again_moves_to_its_new_guest(store):
    # The link's guest is part of its key now: re-linking a record replaces its row.
    store.save_guest(Guest(id="g1"))
    store.save_guest(Guest(id="g2"))
    _link(store, ("site", "s", "x"), "g1", AMY)
    _link(store, ("site", "s", "x"), "g2", AMY)
    assert store.link_state(("site", "s", "x")) == ("g2", False)
    assert store.links_of(["g1"]) == []
    (n,) = store.conn.execute("SELECT count(*) FROM guest_links").fetchone()
    assert n == 1


def pair(m: dict) -> tuple[str, str]:
    return (m["guest_id"], m["candidate"])


def test_a_merge_is_explained_from_both_sides(store):
    base = {"phone": "+886912345678", "email": "ming.chen@example.com"}
    resolve_all(store, [rec("a", full_name="陳小明", **base)])
    resolve_all(store, [rec("b", full_name="Bob Lin", phone="+886912345678")])
    resolve_all(store, [rec("c", full_name="陈小明", **base)])
    assert frozenset({"a", "c"}) in clusters(store)
    amy = store.link_state(("site", "s", "a"))[0]
    bob = store.link_state(("site", "s", "b"))[0]
    # Bob's record was compared with Amy (same phone, another name): both see it.
    assert (bob, amy) in [pair(m) for m in store.match_log_for(amy)]
    assert (bob, amy) in [pair(m) for m in store.match_log_for(bob)]
    # Amy's second record joined her (a row kept by her id only) and was compared with
    # Bob (shared phone): Bob's explanation shows that comparison too.
    c_rows = [pair(m) for m in store.match_log_for(amy) if m["external_id"] == "c"]
    assert sorted(c_rows) == sorted([(amy, amy), (amy, bob)])
    assert (amy, bob) in [pair(m) for m in store.match_log_for(bob)]
    assert (amy, amy) not in [pair(m) for m in store.match_log_for(bob)]


def test_explain_follows_the_records_through_a_merge_and_an_unmerge(store):
    # m0022: the log is found by record, so a guest's explanation covers the decisions
    # about every record linked to it now, whichever guest the record was in then.
    resolve_all(store, [rec("a", full_name="陳小明", email="ming.chen@example.com")])
    resolve_all(store, [rec("b", full_name="Ming Chen", phone="+886912345678")])
    amy = store.link_state(("site", "s", "a"))[0]
    ming = store.link_state(("site", "s", "b"))[0]
    assert amy != ming
    r = Resolver(store)
    with store.atomic():
        r.merge(amy, ming)
    rows = store.match_log_for(amy)
    assert {m["external_id"] for m in rows if m["external_id"]} == {"a", "b"}
    assert (amy, ming) in [pair(m) for m in rows if m["outcome"] == "manual"]
    with store.atomic():
        r.unmerge(amy, ("site", "s", "b"))
    # Record b's decisions went back with it; Amy keeps hers and sees the unmerge.
    assert {m["external_id"] for m in store.match_log_for(ming)} >= {"b"}
    back = [m for m in store.match_log_for(amy) if m["outcome"] == "unmerge"]
    assert [pair(m) for m in back] == [(ming, amy)]
