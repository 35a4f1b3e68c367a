"""The win-probability model: trained reproducibly on a fixed sample of the IBM data, better than
its baselines, calibrated, guarded against leakage, tiny or one-sided data and outcome columns,
loaded back from skops bytes only when it holds the expected types."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import skops.io as sio

from engine.errors import FailedPreconditionError, InvalidArgumentError
from engine.forecast.win_model import (
    Feature,
    as_codes,
    feature_matrix,
    model_from_bytes,
    model_to_bytes,
    predict,
    train_model,
    unseen_share,
)
from service.ibm_win_loss import HONEST_FEATURES, SUSPECT_FEATURES, read_ibm_win_loss
from tests.conftest import ROOT

SAMPLE = read_ibm_win_loss(ROOT / "tests" / "data" / "ibm_win_loss_sample.csv")
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
FEATURES = (*HONEST_FEATURES, *SUSPECT_FEATURES)


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return train_model(SAMPLE.columns, SAMPLE.won, FEATURES, seed=0, now=NOW)


def test_training_is_reproducible_and_beats_the_baselines(model) -> None:  # type: ignore[no-untyped-def]
    card = model.card
    assert card.trained_at == NOW and card.seed == 0
    assert (card.train_deals, card.test_deals) == (960, 241)
    assert len(card.data_sha256) == 64
    assert card.model.roc_auc is not None and card.model.roc_auc > 0.65  # 0.83 on all 78k rows
    base = card.baselines["base_rate"]
    assert base.roc_auc == 0.5
    assert card.model.brier < base.brier and card.model.log_loss < base.log_loss
    again = train_model(SAMPLE.columns, SAMPLE.won, FEATURES, seed=0, now=NOW)
    assert again.card == card
    assert np.array_equal(predict(again, SAMPLE.columns), predict(model, SAMPLE.columns))


def test_the_reliability_table_accounts_for_every_held_out_deal(model) -> None:  # type: ignore[no-untyped-def]
    bins = model.card.reliability
    assert len(bins) == 10 and sum(b.deals for b in bins) == model.card.test_deals
    for b in bins:
        if b.deals:
            assert b.low <= b.mean_predicted <= b.high


def test_coded_columns_give_the_same_probabilities(model) -> None:  # type: ignore[no-untyped-def]
    coded = {k: (as_codes(v) if isinstance(v, list) else v) for k, v in SAMPLE.columns.items()}
    assert np.array_equal(predict(model, coded), predict(model, SAMPLE.columns))


def test_unseen_categories_are_missing_and_reported(model) -> None:  # type: ignore[no-untyped-def]
    columns = dict(SAMPLE.columns)
    columns["region"] = ["Atlantis"] * 10 + list(columns["region"][10:])
    x = feature_matrix(columns, model.card.features, model.card.categories)
    assert np.isnan(x[:10, 2]).all() and not np.isnan(x[10:, 2]).any()
    assert unseen_share(model.card, columns)["region"] == pytest.approx(10 / len(SAMPLE.ids))
    p = predict(model, columns)
    assert ((p >= 0) & (p <= 1)).all()


def test_skops_round_trip_and_untrusted_types(model) -> None:  # type: ignore[no-untyped-def]
    data = model_to_bytes(model.pipeline)
    loaded = model_from_bytes(data)
    x = feature_matrix(SAMPLE.columns, model.card.features, model.card.categories)
    assert np.array_equal(loaded.predict_proba(x), model.pipeline.predict_proba(x))
    hostile = sio.dumps({"model": model.pipeline, "extra": dt.timedelta(days=1)})
    with pytest.raises(InvalidArgumentError) as e:
        model_from_bytes(hostile)
    assert e.value.reason == "UNTRUSTED_MODEL"


def test_guards() -> None:
    cols = {k: v[:100] for k, v in SAMPLE.columns.items()}
    with pytest.raises(FailedPreconditionError) as e:
        train_model(cols, SAMPLE.won[:100], FEATURES, seed=0, now=NOW)
    assert e.value.reason == "TOO_FEW_DEALS"
    with pytest.raises(FailedPreconditionError) as e:
        train_model(SAMPLE.columns, np.ones(len(SAMPLE.ids), bool), FEATURES, seed=0, now=NOW)
    assert e.value.reason == "SINGLE_CLASS"
    with pytest.raises(InvalidArgumentError) as e:
        train_model({**SAMPLE.columns, "won": SAMPLE.won}, SAMPLE.won,
                    [*FEATURES, Feature("won", "numeric"), Feature("nowhere", "numeric")],
                    seed=0, now=NOW)  # fmt: skip
    assert {(v.path, v.reason) for v in e.value.violations} == {
        ("features[10]", "POST_OUTCOME_FEATURE"), ("features[11]", "MISSING_COLUMN")}  # fmt: skip


def test_a_leaking_feature_is_reported() -> None:
    leak = {**SAMPLE.columns, "days_to_close": np.where(SAMPLE.won, 10.0, 90.0)}
    trained = train_model(leak, SAMPLE.won, [*HONEST_FEATURES, Feature("days_to_close", "numeric")],
                          seed=0, now=NOW)  # fmt: skip
    assert any(w.startswith("LEAKAGE_SUSPECTED: days_to_close") for w in trained.card.warnings)


def test_the_held_out_split_keeps_each_deal_on_one_side() -> None:
    from engine.forecast.win_model import held_out_split

    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(300), rng.integers(1, 5, 300))
    y = (rng.random(300) < 0.3)[groups].astype(np.int64)  # one outcome per deal
    train, test = held_out_split(y, groups, 0.2, seed=1)
    assert not set(groups[train]) & set(groups[test])
    assert sorted(np.r_[train, test].tolist()) == list(range(y.size))
    assert 0.1 < test.size / y.size < 0.3
    assert abs(y[test].mean() - y.mean()) < 0.1
