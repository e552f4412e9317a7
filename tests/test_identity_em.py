"""EM done right (issue 21): u from random pairs, m by EM over the compared pairs with the
configured m as a prior, convergence reported, sanity checks that keep a field's weights
when its data says nothing or says nonsense, and thresholds to paste with the weights."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from guestsync.actions.guests import weights
from guestsync.identity import IdentityConfig
from guestsync.identity.em import estimate, random_u
from guestsync.process.resolve import Resolver
from guestsync.store import Store
from guestsync.testing.synthetic import dataset, to_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def generated():
    data = dataset(400, 3.0, seed=3)
    store = Store.open(":memory:")
    for b in range(0, len(data.rows), 500):
        r = Resolver(store)
        with store.atomic():
            for i, (row, _) in enumerate(data.rows[b : b + 500], start=b):
                r.resolve(to_record(row), T0 + timedelta(seconds=i))
    return store


def _w(est, f, level):
    return math.log2(est.m[f][level] / est.u[f][level])


def test_weights_from_generated_data_have_the_right_signs_and_converge(generated):
    config = IdentityConfig()
    est, compared = weights(generated, config)
    assert compared > 100 and est.u_pairs > 0 and est.converged
    for f, rule in config.fields.items():
        if f in est.kept:
            continue
        for level in rule.m:
            w = _w(est, f, level)
            assert (w < 0) if level == "differ" else (w > 0), (f, level, w)
    # strangers rarely share a phone: u of an equal phone is far below its m
    assert est.u["phone"]["exact"] < 0.01 < est.m["phone"]["exact"]


def test_a_field_without_data_keeps_its_weights_and_says_why(generated):
    config = IdentityConfig()
    est, _ = weights(generated, config)
    for f in est.kept:  # whatever kept its weights kept them exactly
        assert est.m[f] == config.fields[f].m and est.u[f] == config.fields[f].u
    pairs = [{"email": {"level": "exact", "w": 13.0}}] * 50
    est2 = estimate(pairs, config)
    assert "only 0 compared pairs" in est2.kept["phone"]
    assert est2.m["phone"] == config.fields["phone"].m


def test_agreement_that_would_weigh_against_a_match_is_refused():
    config = IdentityConfig()
    u = {f: dict(r.u) for f, r in config.fields.items()}
    u["email"] = {"exact": 0.97, "same_user": 0.01, "close": 0.01, "differ": 0.01}
    pairs = [
        {"email": {"level": "exact", "w": 13.0}, "phone": {"level": "differ", "w": -3.0}}
    ] * 100
    est = estimate(pairs, config, u=u, u_pairs=1000)
    assert "would weigh against a match" in est.kept["email"]
    assert est.u["email"] == config.fields["email"].u


def test_random_u_counts_strangers():
    config = IdentityConfig()
    records = [{"phone": f"+8869120000{i:02d}", "name_form": f"||person{i} x"} for i in range(50)]
    u, drawn = random_u(records, config, pairs=2000, seed=1)
    assert drawn == 2000
    assert u["phone"]["exact"] < 0.001 and u["phone"]["differ"] < 0.9  # one digit apart: close


def test_thresholds_come_with_the_weights_and_changes_are_counted(generated):
    est, compared = weights(generated, IdentityConfig())
    assert est.review <= est.merge
    assert sum(est.changed.values()) < 0.02 * compared


def test_pasting_the_printed_block_does_not_lower_f1():
    """What `guests weights` prints (to_yaml: weights and suggested thresholds), pasted as
    the `identity:` block, resolves the same generated records at least as well."""
    import yaml

    from guestsync.identity.em import to_yaml
    from guestsync.testing.synthetic import pairwise_quality

    data = dataset(300, 3.0, seed=5)
    truth = {row["id"]: person for row, person in data.rows}

    def run(config: IdentityConfig) -> tuple[Store, float]:
        store = Store.open(":memory:")
        for b in range(0, len(data.rows), 500):
            r = Resolver(store, config)
            with store.atomic():
                for i, (row, _) in enumerate(data.rows[b : b + 500], start=b):
                    r.resolve(to_record(row), T0 + timedelta(seconds=i))
        links = store.link_map()
        return store, pairwise_quality({k: links.get(k, k) for k in truth}, truth)["f1"]

    store, f1_before = run(IdentityConfig())
    est, _ = weights(store, IdentityConfig())
    pasted = IdentityConfig.model_validate(
        yaml.safe_load(to_yaml(est, IdentityConfig()))["identity"]
    )
    assert pasted.thresholds.merge == est.merge and pasted.fields["phone"].m == pytest.approx(
        est.m["phone"], rel=1e-3
    )
    for f, rule in pasted.fields.items():  # every level's sign as pasted
        for level in rule.m:
            w = math.log2(rule.m[level] / rule.u[level])
            assert (w < 0) if level == "differ" else (w > 0), (f, level, w)
    _, f1_after = run(pasted)
    assert f1_before > 0.95 and f1_after >= f1_before
