"""A calibrated win-probability model: scikit-learn's gradient boosting with calibration.

Only calibrated probabilities may weight a forecast, so the model is a
``HistGradientBoostingClassifier`` with native categorical support wrapped in
``CalibratedClassifierCV`` (isotonic on stratified folds; a sigmoid for small samples). Features
become a float matrix column by column: a categorical value is its index among the categories
learned in training (an unseen one is missing), translated once per distinct value, so scoring a
frame of coded text columns costs no loop over deals. Everything is seeded, so the same data and
seed give the same model.

Features are named columns known at the time of scoring (stage, amount, age, region, declared
fields...); names of outcome columns are refused outright (``POST_OUTCOME``). Training holds out a
stratified share of the deals and writes a model card: the training data's hash, the features,
the time of training (an argument: no clock here), the metrics of the model and of the baselines
on the same held-out deals, a 10-bin reliability table, and warnings: a feature that predicts the
outcome almost perfectly on its own (leakage), and, at scoring, the share of categories never
seen in training (drift).

Models are saved with skops, never pickle: :func:`model_from_bytes` loads only the scikit-learn and
numpy types a model of this module is made of.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from engine.errors import FailedPreconditionError, InvalidArgumentError, Violation
from engine.forecast.history import DealHistory, rows_in_force
from engine.money import CURRENCY_EXPONENTS
from engine.rules.compiler import CompiledRuleSet

#: Columns that exist only once a deal is closed; a model may never read them.
POST_OUTCOME = frozenset(
    {"won", "lost", "outcome", "result", "closed_date", "won_date", "lost_date", "is_won"}
)
#: Fewest deals, and fewest of each outcome, a model is trained on.
MIN_DEALS = 200
MIN_PER_CLASS = 20
#: A single feature whose own AUC reaches this is reported as a likely leak.
LEAKAGE_AUC = 0.95
MISSING = ""


@dataclass(frozen=True)
class Feature:
    name: str
    kind: Literal["categorical", "numeric"]


@dataclass(frozen=True)
class Metrics:
    """Quality of probabilities on held-out deals."""

    deals: int
    roc_auc: float | None  # None when the held-out deals have one outcome only
    brier: float
    log_loss: float


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    deals: int
    mean_predicted: float | None  # None for an empty bin
    observed: float | None


@dataclass(frozen=True)
class ModelCard:
    """What a trained model is and how good it is."""

    trained_at: dt.datetime
    data_sha256: str
    features: tuple[Feature, ...]
    train_deals: int
    test_deals: int
    seed: int
    model: Metrics
    baselines: Mapping[str, Metrics]
    reliability: tuple[ReliabilityBin, ...]
    warnings: tuple[str, ...] = ()
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    booster: str = "strong"


@dataclass
class TrainedModel:
    pipeline: Any  # a fitted CalibratedClassifierCV
    card: ModelCard


#: A categorical column as codes into a dictionary (-1 where missing): how frames hold text.
CodedColumn = tuple[np.ndarray, Sequence[str]]
#: Most categories a feature keeps (the rest count as missing): the booster's bin limit.
MAX_CATEGORIES = 254


def as_codes(values: Sequence[Any] | np.ndarray | CodedColumn) -> CodedColumn:
    """Codes and dictionary of a text column given as values (None or '' is missing)."""
    if isinstance(values, tuple):
        return values
    text = np.array([MISSING if v is None else str(v) for v in values], dtype=object)
    dictionary, codes = np.unique(text, return_inverse=True)
    codes = codes.astype(np.int64)
    if dictionary.size and dictionary[0] == MISSING:
        codes -= 1
        dictionary = dictionary[1:]
    return codes, [str(d) for d in dictionary]


def _check_features(features: Sequence[Feature], columns: Mapping[str, Any]) -> None:
    problems = [
        Violation(
            f"features[{i}]",
            0,
            0,
            "POST_OUTCOME_FEATURE",
            f"{f.name!r} is only known once a deal is closed",
        )
        for i, f in enumerate(features)
        if f.name in POST_OUTCOME
    ]
    problems += [
        Violation(f"features[{i}]", 0, 0, "MISSING_COLUMN", f"no column {f.name!r}")
        for i, f in enumerate(features)
        if f.name not in columns
    ]
    if problems:
        raise InvalidArgumentError("these features cannot be used", reason="INVALID_FEATURES",
                                   violations=problems)  # fmt: skip


def learn_categories(
    columns: Mapping[str, Any], features: Sequence[Feature]
) -> dict[str, tuple[str, ...]]:
    """Each categorical feature's categories: its most frequent values (at most 254), by name."""
    out = {}
    for f in features:
        if f.kind != "categorical":
            continue
        codes, dictionary = as_codes(columns[f.name])
        counts = np.bincount(codes[codes >= 0], minlength=len(dictionary))
        top = np.argsort(-counts, kind="stable")[:MAX_CATEGORIES]
        out[f.name] = tuple(sorted(dictionary[i] for i in top.tolist() if counts[i] > 0))
    return out


def feature_matrix(
    columns: Mapping[str, Any],
    features: Sequence[Feature],
    categories: Mapping[str, Sequence[str]],
) -> np.ndarray:
    """The features as a float64 matrix, in ``features`` order: a categorical value becomes its
    index among the feature's ``categories`` (NaN when missing or unseen), numbers stay numbers.

    Categorical columns may be given as values or as :data:`CodedColumn`; the translation is made
    once per distinct value, never per deal.
    """
    _check_features(features, columns)
    n = 0
    for f in features:
        col = columns[f.name]
        n = len(col[0]) if isinstance(col, tuple) else len(col)
        break
    out = np.empty((n, len(features)), dtype=np.float64)
    for j, f in enumerate(features):
        if f.kind == "categorical":
            codes, dictionary = as_codes(columns[f.name])
            index = {c: i for i, c in enumerate(categories.get(f.name, ()))}
            lookup = np.array([index.get(d, np.nan) for d in dictionary] + [np.nan])
            out[:, j] = lookup[np.where(codes < 0, len(dictionary), codes)]
        else:
            values = columns[f.name]
            if isinstance(values, np.ndarray):
                out[:, j] = values.astype(np.float64)
            else:
                out[:, j] = [np.nan if v is None else float(v) for v in values]
    return out


#: Below this many training deals, calibration is a sigmoid (isotonic overfits small samples).
ISOTONIC_MIN_DEALS = 5_000


def _folds(y: np.ndarray, groups: np.ndarray | None, n_splits: int, seed: int) -> Any:
    """Stratified folds; with ``groups`` (deal ids), a deal's rows never straddle two folds."""
    if groups is None:
        return StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(y.size), y, groups))


#: Two boosters; training keeps the one with the lower log loss on part of its training deals.
#: "strong": few, large trees, cheap to score (on the 78k IBM deals: AUC 0.829, 640k deals/s
#: for the raw trees); "gentle": many small trees, which overfit less when deals are few or the
#: signal is mostly the stage (on 3,000 synthetic deals: AUC 0.755 against 0.685).
BOOSTERS: dict[str, dict[str, Any]] = {
    "strong": {"max_iter": 40, "learning_rate": 0.4, "max_leaf_nodes": 31, "min_samples_leaf": 20},
    "gentle": {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 8, "min_samples_leaf": 30},
}


def _booster(
    features: Sequence[Feature], seed: int, booster: str
) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        categorical_features=[f.kind == "categorical" for f in features],
        l2_regularization=1.0,
        early_stopping=True,
        random_state=seed,
        **BOOSTERS[booster],
    )


def choose_booster(
    table: np.ndarray,
    y: np.ndarray,
    features: Sequence[Feature],
    seed: int,
    groups: np.ndarray | None = None,
) -> str:
    """The booster with the lower log loss on a quarter of these deals, fitted on the rest."""
    fit, check = held_out_split(y, groups, 0.25, seed)
    best, best_loss = "strong", math.inf
    for name in BOOSTERS:
        model = _booster(features, seed, name).fit(table[fit], y[fit])
        p = np.clip(model.predict_proba(table[check])[:, 1], 1e-6, 1 - 1e-6)
        loss = float(log_loss(y[check], p, labels=[0, 1]))
        if loss < best_loss:
            best, best_loss = name, loss
    return best


def build_pipeline(
    features: Sequence[Feature],
    seed: int,
    y: np.ndarray,
    groups: np.ndarray | None = None,
    folds: int = 3,
    booster: str = "strong",
) -> Any:
    """The unfitted model for outcomes ``y``: a booster (categorical features native, mildly
    regularised) under calibration from stratified out-of-fold predictions (folds keep a deal's
    rows together when ``groups`` are given): isotonic with enough deals, a sigmoid below
    ``ISOTONIC_MIN_DEALS``."""
    # ensemble=False: the isotonic map is learned from out-of-fold predictions and one booster is
    # refit on all the data, so scoring runs one set of trees, not one per fold.
    return CalibratedClassifierCV(
        _booster(features, seed, booster),
        method="isotonic" if y.size >= ISOTONIC_MIN_DEALS else "sigmoid",
        cv=_folds(y, groups, folds, seed),
        ensemble=False,
    )


def metrics(y: np.ndarray, p: np.ndarray) -> Metrics:
    y = np.asarray(y, dtype=np.int64)
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    auc = float(roc_auc_score(y, p)) if np.unique(y).size == 2 else None
    return Metrics(
        int(y.size), auc, float(brier_score_loss(y, p)), float(log_loss(y, p, labels=[0, 1]))
    )


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> tuple[ReliabilityBin, ...]:
    """Equal-width bins of predicted probability: deals, mean prediction and observed win rate."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    pred = np.bincount(which, weights=p, minlength=bins)
    won = np.bincount(which, weights=y, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tuple(
            ReliabilityBin(
                float(edges[b]),
                float(edges[b + 1]),
                int(count[b]),
                float(pred[b] / count[b]) if count[b] else None,
                float(won[b] / count[b]) if count[b] else None,
            )
            for b in range(bins)
        )


def data_hash(table: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the training data: every column's values in order, then the outcomes."""
    h = hashlib.sha256()
    for j in range(table.shape[1]):
        h.update("\x1f".join(map(str, table[:, j].tolist())).encode())
        h.update(b"\x1e")
    h.update(np.asarray(y, dtype=np.int8).tobytes())
    return h.hexdigest()


def _logistic_baseline(features: Sequence[Feature], seed: int) -> Any:
    """A plain reference model: one-hot categories, standardised numbers, logistic regression."""
    cat = [j for j, f in enumerate(features) if f.kind == "categorical"]
    num = [j for j, f in enumerate(features) if f.kind == "numeric"]
    prepare = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), cat),
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ]
    )
    return make_pipeline(prepare, LogisticRegression(max_iter=2000, random_state=seed))


def _single_feature_auc(x: np.ndarray, y: np.ndarray, kind: str) -> float:
    """How well one feature column alone separates the outcomes (in-sample, either direction)."""
    filled = np.where(np.isnan(x), (np.nanmin(x) - 1) if np.isfinite(x).any() else 0.0, x)
    if kind == "categorical":
        _, inverse = np.unique(filled, return_inverse=True)
        score = (np.bincount(inverse, weights=y) / np.bincount(inverse))[inverse]
    else:
        score = filled
    if np.unique(score).size < 2:
        return 0.5
    auc = float(roc_auc_score(y, score))
    return max(auc, 1 - auc)


def _check(y: np.ndarray) -> None:
    n, won = int(y.size), int(y.sum())
    if n < MIN_DEALS:
        raise FailedPreconditionError(
            f"{n} closed deals are too few to train a model (at least {MIN_DEALS})",
            reason="TOO_FEW_DEALS",
        )
    if won == 0 or won == n:
        raise FailedPreconditionError(
            "every closed deal has the same outcome: a model cannot learn from that",
            reason="SINGLE_CLASS",
        )
    if min(won, n - won) < MIN_PER_CLASS:
        raise FailedPreconditionError(
            f"only {min(won, n - won)} deals of one outcome (at least {MIN_PER_CLASS})",
            reason="TOO_FEW_DEALS",
        )


def held_out_split(
    y: np.ndarray, groups: np.ndarray | None, test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out row indices, stratified by outcome; rows of one group (a deal seen
    at several stages) land on the same side."""
    index = np.arange(y.size)
    if groups is None:
        train, test = train_test_split(index, test_size=test_size, stratify=y, random_state=seed)
        return train, test
    n_splits = max(2, round(1 / test_size))
    splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
    train, test = next(splitter.split(index, y, groups))
    return train, test


def train_model(
    columns: Mapping[str, Sequence[Any]],
    won: Sequence[bool] | np.ndarray,
    features: Sequence[Feature],
    *,
    seed: int,
    now: dt.datetime,
    test_size: float = 0.2,
    baselines: Mapping[str, np.ndarray] | None = None,
    groups: Sequence[Any] | np.ndarray | None = None,
    rate_by: str | None = None,
) -> TrainedModel:
    """Train on a stratified share of the deals, evaluate on the rest, then refit on all.

    ``baselines`` maps a name to per-deal probabilities of another method (the stage rates, say);
    they are scored on the same held-out deals, beside two built in: the training share's base
    rate, and a logistic regression on the same features. With ``rate_by`` (a categorical column,
    the stage), also the rate per value learned on the training share (``historical_rate_by_<col>``).

    Rows that belong together (one deal seen at several stages) carry the same ``groups`` value;
    the held-out share and the calibration folds then never split a deal.
    Raises TOO_FEW_DEALS / SINGLE_CLASS (FAILED_PRECONDITION) and INVALID_FEATURES.
    """
    y = np.asarray(won, dtype=np.int64)
    _check_features(features, columns)
    cats = learn_categories(columns, features)
    table = feature_matrix(columns, features, cats)
    _check(y)
    group = None if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
    train, test = held_out_split(y, group, test_size, seed)
    sub = None if group is None else group[train]
    booster = choose_booster(table[train], y[train], features, seed, sub)
    held = build_pipeline(features, seed, y[train], sub, booster=booster)
    held.fit(table[train], y[train])
    p_test = held.predict_proba(table[test])[:, 1]
    base_rate = float(y[train].mean())
    scored = {"base_rate": metrics(y[test], np.full(test.size, base_rate))}
    logistic = _logistic_baseline(features, seed).fit(table[train], y[train])
    scored["logistic_regression"] = metrics(y[test], logistic.predict_proba(table[test])[:, 1])
    if rate_by is not None:
        codes, _ = as_codes(columns[rate_by])
        won = np.bincount(codes[train] + 1, weights=y[train], minlength=codes.max() + 2)
        seen = np.bincount(codes[train] + 1, minlength=codes.max() + 2)
        rate = np.where(seen > 0, won / np.maximum(seen, 1), base_rate)
        scored[f"historical_rate_by_{rate_by}"] = metrics(y[test], rate[codes[test] + 1])
    for name, p in (baselines or {}).items():
        scored[name] = metrics(y[test], np.asarray(p, dtype=np.float64)[test])
    warnings = []
    for j, f in enumerate(features):
        auc = _single_feature_auc(table[train, j], y[train], f.kind)
        if auc >= LEAKAGE_AUC:
            warnings.append(f"LEAKAGE_SUSPECTED: {f.name} alone separates the outcomes "
                            f"(AUC {auc:.3f}); is it known before the deal closes?")  # fmt: skip
    model_metrics = metrics(y[test], p_test)
    for name, m in scored.items():
        if name != "base_rate" and m.log_loss < model_metrics.log_loss:
            warnings.append(f"BASELINE_BETTER: {name} has a lower held-out log loss "
                            f"({m.log_loss:.4f}) than the model ({model_metrics.log_loss:.4f})")  # fmt: skip
    final = build_pipeline(features, seed, y, group, booster=booster).fit(table, y)
    card = ModelCard(
        trained_at=now,
        data_sha256=data_hash(table, y),
        features=tuple(features),
        train_deals=int(train.size),
        test_deals=int(test.size),
        seed=seed,
        model=model_metrics,
        baselines=scored,
        reliability=reliability(y[test], p_test),
        warnings=tuple(warnings),
        categories=cats,
        booster=booster,
    )
    return TrainedModel(final, card)


def predict(model: TrainedModel, columns: Mapping[str, Any]) -> np.ndarray:
    """Win probabilities for deals (float64 in [0, 1])."""
    table = feature_matrix(columns, model.card.features, model.card.categories)
    return np.asarray(model.pipeline.predict_proba(table)[:, 1], dtype=np.float64)


def unseen_share(card: ModelCard, columns: Mapping[str, Any]) -> dict[str, float]:
    """Per categorical feature, the share of deals whose value training never saw (drift)."""
    out = {}
    for f in card.features:
        if f.kind != "categorical":
            continue
        codes, dictionary = as_codes(columns[f.name])
        seen = set(card.categories.get(f.name, ()))
        unseen = np.array([d not in seen for d in dictionary] + [False])
        hit = unseen[np.where(codes < 0, len(dictionary), codes)]
        out[f.name] = float(hit.mean()) if hit.size else 0.0
    return out


#: The types a model of this module is made of beyond what skops trusts by default; loading
#: refuses any other.
TRUSTED_TYPES = frozenset(
    {
        "functools.partial",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.model_selection._split.StratifiedKFold",
        "sklearn.utils.validation.check_array",
    }
)


# skops is imported where a model is saved or loaded, not with this module: its import walks
# every scikit-learn estimator and took about 0.9 s of the service's start here.


def model_to_bytes(model: Any) -> bytes:
    import skops.io as sio

    return sio.dumps(model)


def model_from_bytes(data: bytes) -> Any:
    """Load a skops file, trusting only the types a model of this module is made of."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=data)
    foreign = [t for t in untrusted if t not in TRUSTED_TYPES]
    if foreign:
        raise InvalidArgumentError(
            "the model file holds types this service does not load: " + ", ".join(foreign),
            reason="UNTRUSTED_MODEL",
        )
    return sio.loads(data, trusted=untrusted)


# --- training data from deal histories --------------------------------------------------------

#: Features the histories add to a deal's own fields.
HISTORY_FEATURES = (
    Feature("stage", "categorical"),
    Feature("age_days", "numeric"),
    Feature("days_in_stage", "numeric"),
    Feature("days_to_close", "numeric"),
)
#: Histories are sampled at each stage entry and then every this many days in the stage...
SAMPLE_EVERY_DAYS = 14
#: ... at most this many times more per stay.
MAX_SAMPLES_PER_STAY = 8


def history_samples(
    history: DealHistory, rules: CompiledRuleSet, fields: Sequence[str] = ()
) -> tuple[dict[str, Any], np.ndarray]:
    """Training rows from histories: each closed deal as a scorer would have seen it while open,
    at each stage entry and every ``SAMPLE_EVERY_DAYS`` days of the stay after it (at most
    ``MAX_SAMPLES_PER_STAY`` more), with the deal's outcome.

    Columns: ``deal_id`` (to keep a deal's rows together when splitting), ``stage``, ``amount``
    (major units), ``age_days`` (since the deal was created), ``days_in_stage``, ``days_to_close``
    (to the expected close date then; NaN without one), and ``fields`` (text or numbers, from the
    rows as recorded). All of it is built with array operations over stays, not a loop over deals.
    """
    none = np.iinfo(np.int64).max
    closed = history.closed_day != none
    m = history.day.size
    start = np.ones(m, dtype=np.bool_)
    if m > 1:
        start[1:] = (history.deal[1:] != history.deal[:-1]) | (
            history.stage[1:] != history.stage[:-1]
        )
    runs = np.flatnonzero(start)
    # A stay ends where the deal's next run starts (an open stay of a closed deal always has one).
    nxt = np.r_[runs[1:], m]
    same = np.r_[history.deal[runs[1:]] == history.deal[runs[:-1]], False] if runs.size else runs
    end = np.where(same, history.day[np.minimum(nxt, m - 1)], none)
    keep = ~rules.stage_is_closed[history.stage[runs]] & closed[history.deal[runs]] & same
    runs, end = runs[keep], end[keep]
    entry = history.day[runs]
    extra = np.minimum((end - entry - 1) // SAMPLE_EVERY_DAYS, MAX_SAMPLES_PER_STAY)
    count = 1 + np.maximum(extra, 0)
    stay = np.repeat(np.arange(runs.size), count)
    first = np.repeat(np.cumsum(count) - count, count)
    at = entry[stay] + (np.arange(stay.size) - first) * SAMPLE_EVERY_DAYS
    deal = history.deal[runs][stay]
    # The row in force on each sample day (amount and close date may change within a stay).
    rows = rows_in_force(history, deal, at)
    created = history.day[history.first_row][deal]
    close = history.close_day[rows]
    exponent = 10.0 ** -CURRENCY_EXPONENTS.get(history.currency, 2)
    columns: dict[str, Any] = {
        "deal_id": deal,
        "stage": [rules.stage_ids[s] for s in history.stage[rows].tolist()],
        "amount": history.amount_minor[rows] * exponent,
        "age_days": (at - created).astype(np.float64),
        "days_in_stage": (at - entry[stay]).astype(np.float64),
        "days_to_close": np.where(close == none, np.nan, (close - at).astype(np.float64)),
    }
    for name in fields:
        columns[name] = [history.records[r].get(name) for r in rows.tolist()]
    won = history.won_day[deal] != none
    return columns, won


__all__ = [
    "BOOSTERS",
    "HISTORY_FEATURES",
    "ISOTONIC_MIN_DEALS",
    "MAX_SAMPLES_PER_STAY",
    "MIN_DEALS",
    "POST_OUTCOME",
    "SAMPLE_EVERY_DAYS",
    "TRUSTED_TYPES",
    "Feature",
    "Metrics",
    "ModelCard",
    "ReliabilityBin",
    "TrainedModel",
    "as_codes",
    "build_pipeline",
    "choose_booster",
    "feature_matrix",
    "held_out_split",
    "history_samples",
    "learn_categories",
    "metrics",
    "model_from_bytes",
    "model_to_bytes",
    "predict",
    "reliability",
    "train_model",
    "unseen_share",
]
