"""Forecast roll-ups: scored deals summed by group and period, per forecast category, exactly.

A roll-up groups deals by any string fields (owner, region, a declared field...) and by period of
expected close (month, quarter, year or custom date ranges) and sums, per group: open pipeline,
weighted pipeline, closed-won, counts, and the amount in each forecast category, both as single
categories and in the cumulative view (commit = commit + closed; best case = best case + commit +
closed; omitted is excluded from every roll-up).

How it runs (a few passes over the columns, no sort in the usual case):

* Every deal gets one integer **bin**: its group codes, its period, its currency (only when the
  batch has several) and its **status** (forecast category x open / won / lost, or not kept), all
  folded into one mixed-radix number. Deals that were not scored, have no close date, close
  outside every period or are omitted land in bins that are dropped. When the product of the
  radices is small (regions x quarters: under a thousand bins) the bin is a dense index;
  otherwise the bins that occur are numbered first (one ``numpy.unique``, a sort).
* Per chunk of 131,072 deals (the temporaries stay in cache), three ``numpy.bincount`` calls count
  the deals and sum the amounts and the weighted amounts per bin. Since the status is part of the
  bin, that one amount sum yields every category, pipeline and closed-won figure.
* Sums are **exact integers**. ``bincount`` adds in float64, which is exact while every partial
  sum is at most 2**53: for non-negative amounts a chunk whose float total stays under 2**53 is
  exact as it is (a chunk of 131,072 deals averaging under 6.8e10 minor units); otherwise the
  chunk is summed in shorter runs, or for values of 2**40 and more split into two limbs whose
  sums are each exact. Chunk sums are carried in float64 while their running total stays under
  2**53, and added up in int64. A roll-up whose kept amounts reach 2**62 minor units is refused
  (AMOUNT_TOO_LARGE) rather than risk wrapping.

Amounts and weighted amounts are non-negative, as :func:`engine.forecast.deals.build_deal_batch`
and scoring make them; the exactness argument for whole chunks relies on it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from engine.errors import InvalidArgumentError, Violation
from engine.forecast.deals import DealBatch
from engine.forecast.scoring import ProbSource, ScoreResult
from engine.frame import FieldType, date_to_days
from engine.rules.schema import CATEGORY_ORDER, Category

#: Category codes in the order roll-ups report them (omitted is left out).
REPORTED = tuple(c for c in CATEGORY_ORDER if c is not Category.OMITTED)
_CODE = {c: CATEGORY_ORDER.index(c) for c in CATEGORY_ORDER}
#: Cumulative views: a category and every category above it.
CUMULATIVE = {
    Category.PIPELINE: (Category.PIPELINE, Category.BEST_CASE, Category.COMMIT, Category.CLOSED),
    Category.BEST_CASE: (Category.BEST_CASE, Category.COMMIT, Category.CLOSED),
    Category.COMMIT: (Category.COMMIT, Category.CLOSED),
    Category.CLOSED: (Category.CLOSED,),
}

# A deal's status is category code x 3 + state (0 open, 1 won, 2 closed and not won), or 15 for a
# deal that was not scored or has no close date; the reported categories are codes 0..3, so
# statuses under _KEPT are summed and the rest (omitted, not scored, no date) dropped.
_STATES = 3
_DROPPED = 15
_STATUS = 16
_KEPT = len(REPORTED) * _STATES
assert tuple(_CODE[c] for c in REPORTED) == tuple(range(len(REPORTED)))
assert _CODE[Category.OMITTED] * _STATES + _STATES - 1 < _DROPPED < _STATUS

_PPM = 1_000_000
#: Deals per chunk: the temporaries of one chunk stay in cache (measured best of 2**15..2**18).
_CHUNK = 1 << 17
#: Shortest run summed in one bincount call before values are split into limbs instead.
_MIN_PIECE = 1 << 12
#: Largest dense bin space (int64 counters per bin); above it the bins that occur are numbered.
_DENSE_MAX = 1 << 22
#: Bin spaces this large number the combinations of group values first (bins must fit an int64).
_COMBINE_AT = 2**62
#: Largest day-to-period lookup table (days); wider custom periods use a binary search.
_LUT_MAX = 1 << 22
#: Largest total of kept amounts: sums of sums (cumulative views) stay far from int64 overflow.
_AMOUNT_LIMIT = 2.0**62


class PeriodKind(str, Enum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class Period:
    """A half-open range of close dates ``[start, end)`` with a label (``2026-Q1``)."""

    label: str
    start: dt.date
    end: dt.date


#: The most periods one forecast or backtest reports on: a hundred years of months. Each period
#: costs work (a backtest refits its rates per period), so a range of a thousand years of months
#: is refused up front rather than left to run for hours.
MAX_PERIODS = 1_200


def _too_many(count: int) -> InvalidArgumentError:
    message = f"{count:,} periods; at most {MAX_PERIODS:,} (a hundred years of months)"
    return InvalidArgumentError(
        f"too many periods: {message}",
        reason="TOO_MANY_PERIODS",
        violations=[Violation("periods", 0, 0, "TOO_MANY_PERIODS", message)],
    )


def calendar_periods(kind: PeriodKind, first: dt.date, last: dt.date) -> list[Period]:
    """The months, quarters or years that cover ``first``..``last`` (inclusive); at most
    :data:`MAX_PERIODS` of them."""
    if last < first:
        raise InvalidArgumentError(
            f"the period range ends ({last}) before it starts ({first})",
            reason="EMPTY_PERIODS",
            violations=[Violation("periods", 0, 0, "EMPTY_PERIODS", "end before start")],
        )
    step = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[kind]
    count = (last.year * 12 + last.month - 1) // step - (first.year * 12 + first.month - 1) // step
    count += 1
    if count > MAX_PERIODS:
        raise _too_many(count)
    month = (first.month - 1) // step * step + 1
    start = dt.date(first.year, month, 1)
    out = []
    while start <= last:
        m = start.month - 1 + step
        end = dt.date(start.year + m // 12, m % 12 + 1, 1)
        if kind is PeriodKind.MONTH:
            label = f"{start.year}-{start.month:02d}"
        elif kind is PeriodKind.QUARTER:
            label = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        else:
            label = str(start.year)
        out.append(Period(label, start, end))
        start = end
    return out


def check_periods(periods: Sequence[Period]) -> None:
    """Refuse empty or overlapping periods (INVALID_ARGUMENT naming them), and more than
    :data:`MAX_PERIODS`."""
    if len(periods) > MAX_PERIODS:
        raise _too_many(len(periods))
    problems = [
        Violation(f"periods[{i}]", 0, 0, "EMPTY_PERIOD", f"{p.label} ends before it starts")
        for i, p in enumerate(periods)
        if p.end <= p.start
    ]
    ordered = sorted(range(len(periods)), key=lambda i: periods[i].start)
    for a, b in itertools.pairwise(ordered):
        if periods[b].start < periods[a].end:
            problems.append(
                Violation(
                    f"periods[{b}]",
                    0,
                    0,
                    "OVERLAPPING_PERIODS",
                    f"{periods[b].label} overlaps {periods[a].label}",
                )
            )
    if not periods:
        problems.append(Violation("periods", 0, 0, "EMPTY_PERIODS", "give at least one period"))
    if problems:
        raise InvalidArgumentError(
            "the periods are not usable", reason="INVALID_PERIODS", violations=problems
        )


@dataclass
class Rollup:
    """Sums per group and period (rows), in minor units of ``currency``.

    Attributes
    ----------
    keys : list of tuple of str
        Each row's group values (one per group-by field; '' for none), then the period label.
    deal_count, open_count, won_count : ndarray of int64, shape (rows,)
    pipeline_minor : ndarray of int64
        Amount of open deals (not won, not lost, not omitted).
    weighted_minor : ndarray of int64
        Weighted amount of open deals.
    closed_won_minor : ndarray of int64
    category_minor, cumulative_minor : dict of Category -> ndarray of int64
        Amount per forecast category (omitted excluded), single and cumulative.
    row_of_deal : ndarray of int64, shape (deals,)
        The row each deal of the batch was summed into; -1 for deals left out.
    """

    group_by: tuple[str, ...]
    currency: str
    keys: list[tuple[str, ...]]
    deal_count: np.ndarray
    open_count: np.ndarray
    won_count: np.ndarray
    pipeline_minor: np.ndarray
    weighted_minor: np.ndarray
    closed_won_minor: np.ndarray
    category_minor: dict[Category, np.ndarray]
    cumulative_minor: dict[Category, np.ndarray]
    row_of_deal: np.ndarray


# --------------------------------------------------------------------------------------------
# Exact integer sums per bin with float64 bincount.


class _BinSums:
    """Exact int64 sums of int64 values per bin, added chunk by chunk.

    Each chunk is summed by ``numpy.bincount`` in float64, which is exact while every partial sum
    is at most 2**53. Non-negative values: a float total under 2**53 proves it, and chunk sums
    are even carried over in float64 while the running total stays under it (one addition per
    chunk). Otherwise: a chunk of ``m`` values of magnitude at most ``top`` with ``top * m <=
    2**53`` takes one call; else runs of ``2**53 // top`` values each take one, as long as the
    runs are not too short; beyond that (values of 2**40 and more) the chunk is split into a low
    limb of ``53 - bit_length(m)`` bits and a high limb (arithmetic shift, so negative values
    work too), each of whose sums is exact for chunks up to 2**20 values. ``approx`` follows the
    same sums in float64 to detect int64 overflow.
    """

    _EXACT = 2.0**53 - 2.0**30  # a float total under this is under 2**53 despite its rounding

    def __init__(self, n_bins: int) -> None:
        self.n_bins = n_bins
        self._total = np.zeros(n_bins, dtype=np.int64)
        self._approx = np.zeros(n_bins, dtype=np.float64)
        self._pending: np.ndarray | None = None  # exact float sums not yet in _total
        self._pending_total = 0.0

    def add(self, key: np.ndarray, values: np.ndarray, buf: np.ndarray, *, signed: bool) -> None:
        """Add the sums per bin of ``values`` (int64, one per ``key``); ``buf`` is float64 scratch
        space. Without ``signed`` the values must be non-negative."""
        m = key.shape[0]
        if m == 0:
            return
        f = buf[:m]
        np.copyto(f, values, casting="unsafe")
        if not signed:
            # Non-negative values: every partial sum is at most the total.
            sums = np.bincount(key, weights=f, minlength=self.n_bins)
            total = float(sums.sum())
            if total < self._EXACT:
                if self._pending is not None and self._pending_total + total < self._EXACT:
                    self._pending += sums
                    self._pending_total += total
                else:
                    self._flush()
                    self._pending, self._pending_total = sums, total
                return
        top = float(f.max())
        if signed:
            top = max(top, -float(f.min()))
        if top * m <= 2.0**53:  # every partial sum is an integer float64 holds exactly
            self._add(np.bincount(key, weights=f, minlength=self.n_bins), 0)
            return
        piece = int(2.0**53 // top) if top < 2.0**53 else 0
        if piece >= _MIN_PIECE:  # shorter runs, each exact
            for i in range(0, m, piece):
                sums = np.bincount(
                    key[i : i + piece], weights=f[i : i + piece], minlength=self.n_bins
                )
                self._add(sums, 0)
            return
        bits = 53 - m.bit_length()
        np.copyto(f, values & ((1 << bits) - 1), casting="unsafe")
        self._add(np.bincount(key, weights=f, minlength=self.n_bins), 0)
        np.copyto(f, values >> bits, casting="unsafe")
        self._add(np.bincount(key, weights=f, minlength=self.n_bins), bits)

    def _add(self, sums: np.ndarray, shift: int) -> None:
        exact = sums.astype(np.int64)
        if shift:
            exact <<= shift
            sums *= 2.0**shift
        self._total += exact
        self._approx += sums

    def _flush(self) -> None:
        if self._pending is not None:
            self._add(self._pending, 0)
            self._pending, self._pending_total = None, 0.0

    @property
    def total(self) -> np.ndarray:
        """The exact sums (int64; wrapped where :meth:`overflowed`)."""
        self._flush()
        return self._total

    @property
    def approx(self) -> np.ndarray:
        """The same sums in float64."""
        self._flush()
        return self._approx

    def overflowed(self) -> np.ndarray:
        """Bins whose exact sum is outside int64 (their ``total`` wrapped)."""
        # int64 sums wrap modulo 2**64: a true sum in [2**63, 1.5 * 2**63) reads negative, and
        # beyond that the float sum alone tells (its error is many orders below 2**62).
        a, t = self.approx, self.total
        far = np.abs(a) >= 1.5 * 2.0**63
        return far | ((a > 2.0**62) & (t < 0)) | ((a < -(2.0**62)) & (t > 0))


def _chunk_size(n_bins: int) -> int:
    """Deals per chunk: cache-sized, but large enough that per-chunk work on the bins is small."""
    return min(1 << 20, max(_CHUNK, 1 << (max(n_bins, 1) - 1).bit_length()))


def exact_group_sum(key: np.ndarray, values: np.ndarray, n_keys: int) -> np.ndarray:
    """Sum int64 ``values`` per ``key`` (``0 <= key < n_keys``) exactly, with float64 ``bincount``.

    Raises ``OverflowError`` if a sum does not fit in int64.
    """
    key = np.asarray(key)
    v = np.asarray(values).astype(np.int64, copy=False)
    sums = _BinSums(n_keys)
    step = _chunk_size(n_keys)
    buf = np.empty(min(step, v.shape[0]), dtype=np.float64)
    for a in range(0, v.shape[0], step):
        sums.add(key[a : a + step], v[a : a + step], buf, signed=True)
    if sums.overflowed().any():
        raise OverflowError("a group sum does not fit in a signed 64-bit integer")
    return sums.total


# --------------------------------------------------------------------------------------------
# The roll-up.


@dataclass
class _Layout:
    """The mixed-radix bin: group codes (+1, null is 0), period (P = none), currency, status."""

    group_radix: list[int]
    n_periods: int
    n_currencies: int  # 1 when the batch has one currency (then it is not read)

    @property
    def period_stride(self) -> int:
        return self.n_currencies * _STATUS

    @property
    def group_size(self) -> int:
        return math.prod(self.group_radix)

    @property
    def n_bins(self) -> int:
        return self.group_size * (self.n_periods + 1) * self.period_stride

    def group_strides(self) -> list[int]:
        out, stride = [], (self.n_periods + 1) * self.period_stride
        for r in reversed(self.group_radix):
            out.append(stride)
            stride *= r
        return out[::-1]


class _PeriodMap:
    """Days since 1970 -> period index (``len(periods)`` for none), scaled by a stride.

    A lookup table over the days the periods span (from 1970 when they start later, so the days
    index it as they are); a binary search when the periods span more than ``_LUT_MAX`` days.
    Null dates are not handled here: the caller marks those deals as not kept.
    """

    def __init__(self, periods: Sequence[Period], stride: int, offset: int) -> None:
        starts = np.array([date_to_days(p.start) for p in periods], dtype=np.int64)
        ends = np.array([date_to_days(p.end) for p in periods], dtype=np.int64)
        n = len(periods)
        self.none = n * stride + offset
        # lut[day - lo]: index 0 (the day before the first start, or 1970-01-01) and the last
        # index (the latest end) are in no period, and clipping sends every other day there.
        self.lo = 0 if starts.min() > 0 else int(starts.min()) - 1
        span = int(ends.max()) - self.lo + 1
        self.lut: np.ndarray | None = None
        if span <= _LUT_MAX:
            lut = np.full(span, self.none, dtype=np.intp)
            for i in range(n):
                lut[starts[i] - self.lo : ends[i] - self.lo] = i * stride + offset
            self.lut = lut
        self.order = np.argsort(starts)
        self.starts, self.ends = starts[self.order], ends[self.order]
        self.stride = stride
        self.offset = offset

    def into(self, days: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
        """Write the scaled period of each day to ``out`` (intp; ``tmp`` is scratch space)."""
        if self.lut is not None:
            if self.lo == 0 and days.dtype == np.int32:
                self.lut.take(days, out=out, mode="clip")
            else:
                np.subtract(days, self.lo, out=tmp)
                self.lut.take(tmp, out=out, mode="clip")
            return
        d = days.astype(np.int64)
        slot = np.searchsorted(self.starts, d, side="right") - 1
        inside = (slot >= 0) & (d < self.ends[np.clip(slot, 0, None)])
        period = self.order[np.clip(slot, 0, None)] * self.stride + self.offset
        np.copyto(out, np.where(inside, period, self.none))


def _group_columns(batch: DealBatch, group_by: Sequence[str]) -> list[np.ndarray]:
    frame = batch.frame
    problems = []
    for i, name in enumerate(group_by):
        if name not in frame:
            problems.append(
                Violation(f"group_by[{i}]", 0, 0, "UNKNOWN_FIELD", f"no field {name!r}")
            )
        elif frame[name].type is not FieldType.STRING:
            problems.append(
                Violation(f"group_by[{i}]", 0, 0, "INVALID_GROUP_BY", f"{name} is not a text field")
            )
    if problems:
        raise InvalidArgumentError("cannot group by these fields", reason="INVALID_GROUP_BY",
                                   violations=problems)  # fmt: skip
    return [frame[name].values for name in group_by]


class _Pass:
    """One chunked pass over the deals: each deal's bin, and counts and exact sums per bin."""

    def __init__(
        self,
        batch: DealBatch,
        scores: ScoreResult,
        groups: list[np.ndarray],
        currency: np.ndarray | None,
        periods: Sequence[Period],
        layout: _Layout,
    ) -> None:
        self.frame = batch.frame
        self.scores = scores
        self.layout = layout
        strides = layout.group_strides()
        # code + 1 per field (null is code -1 -> 0): the +1s are a constant folded into the period
        offset = sum(strides) + (_STATUS if currency is not None else 0)
        self.fields = list(zip(groups, strides, strict=True))
        if currency is not None:
            self.fields.append((currency, _STATUS))
        self.periods = _PeriodMap(periods, layout.period_stride, offset)
        self.all_valid = bool(scores.valid.all())

    def bins(self, a: int, b: int, k: np.ndarray, bufs: _Buffers) -> None:
        """Write the bins of deals ``a:b`` to ``k`` (intp, length ``b - a``)."""
        c = b - a
        t, small, part = bufs.t[:c], bufs.small[:c], bufs.part[:c]
        b1, b2 = bufs.b1[:c], bufs.b2[:c]
        close = self.frame["close_date"]
        self.periods.into(close.values[a:b], k, t)
        # The rest of the bin is at most n_bins: computed in the smallest integer type that holds
        # it, then added to the period part once.
        s = self.scores
        np.multiply(s.category[a:b], _STATES, out=small, dtype=small.dtype, casting="unsafe")
        np.equal(s.prob_source[a:b], ProbSource.CLOSED_STAGE, out=b1)
        np.not_equal(s.win_prob_ppm[a:b], _PPM, out=b2)
        np.logical_and(b1, b2, out=b2)  # closed and not won: lost
        np.add(small, b1, out=small, casting="unsafe")
        np.add(small, b2, out=small, casting="unsafe")
        if not self.all_valid:
            np.logical_not(s.valid[a:b], out=b1)
            np.copyto(small, _DROPPED, where=b1)
        if close.null is not None:  # no close date: in no period (max with 15 is 15)
            np.multiply(close.null[a:b], _DROPPED, out=part, dtype=part.dtype, casting="unsafe")
            np.maximum(small, part, out=small)
        for codes, stride in self.fields:
            np.multiply(codes[a:b], stride, out=part, dtype=part.dtype, casting="unsafe")
            np.add(small, part, out=small)
        np.add(k, small, out=k, casting="unsafe")

    def run(self, n_bins: int, bins_out: np.ndarray | None, index: np.ndarray | None
            ) -> tuple[np.ndarray, _BinSums, _BinSums]:  # fmt: skip
        """Count and sum per bin. With ``index`` (a bin number per deal) use it instead of the
        mixed-radix bin; with ``bins_out`` also store each deal's bin there."""
        n = self.frame.n_rows
        step = _chunk_size(n_bins)
        bufs = _Buffers(min(step, n), self.layout.n_bins)
        counts = np.zeros(n_bins, dtype=np.int64)
        amount, weighted = _BinSums(n_bins), _BinSums(n_bins)
        amount_col = self.frame["amount_minor"].values
        weighted_col = self.scores.weighted_amount_minor
        for a in range(0, n, step):
            b = min(n, a + step)
            if index is None:
                kc = bins_out[a:b] if bins_out is not None else bufs.k[: b - a]
                self.bins(a, b, kc, bufs)
            else:
                kc = index[a:b]
            counts += np.bincount(kc, minlength=n_bins)
            amount.add(kc, amount_col[a:b], bufs.f, signed=False)
            weighted.add(kc, weighted_col[a:b], bufs.f, signed=False)
        return counts, amount, weighted

    def all_bins(self) -> np.ndarray:
        """Every deal's mixed-radix bin (int64), for the numbered path."""
        n = self.frame.n_rows
        out = np.empty(n, dtype=np.int64)
        bufs = _Buffers(min(_CHUNK, n), self.layout.n_bins)
        for a in range(0, n, _CHUNK):
            self.bins(a, min(n, a + _CHUNK), out[a : a + _CHUNK], bufs)
        return out


class _Buffers:
    """Scratch arrays for one chunk, allocated once per pass."""

    def __init__(self, m: int, n_bins: int) -> None:
        small = np.int16 if n_bins < 2**15 else np.int32 if n_bins < 2**31 else np.int64
        self.k, self.t = np.empty(m, dtype=np.intp), np.empty(m, dtype=np.intp)
        self.small, self.part = np.empty(m, dtype=small), np.empty(m, dtype=small)
        self.b1, self.b2 = np.empty(m, dtype=np.bool_), np.empty(m, dtype=np.bool_)
        self.f = np.empty(m, dtype=np.float64)


def _map_in_place(values: np.ndarray, lut: np.ndarray) -> None:
    """``values[:] = lut[values]``, chunk by chunk (the chunk stays in cache)."""
    tmp = np.empty(min(_CHUNK, values.shape[0]), dtype=lut.dtype)
    for a in range(0, values.shape[0], _CHUNK):
        chunk = values[a : a + _CHUNK]
        out = tmp[: chunk.shape[0]]
        lut.take(chunk, out=out, mode="clip")
        chunk[:] = out


def rollup(
    batch: DealBatch,
    scores: ScoreResult,
    group_by: Sequence[str],
    periods: Sequence[Period],
) -> Rollup:
    """Roll scored deals up by ``group_by`` fields and close-date ``periods``.

    Deals that could not be scored, have no close date, or close outside every period are left
    out. Raises INVALID_ARGUMENT for an unknown or non-string group-by field, unusable periods, or
    deals in more than one currency (CURRENCY_MIXTURE), and AMOUNT_TOO_LARGE when the amounts
    summed reach 2**62 minor units.
    """
    check_periods(periods)
    frame = batch.frame
    n = frame.n_rows
    groups = _group_columns(batch, group_by)
    currency = frame["currency"]
    several = len(currency.dictionary) > 1
    radix = [len(frame[name].dictionary) + 1 for name in group_by]
    decode: np.ndarray | None = None  # each combined group's codes (+1), when combined
    layout = _Layout(radix, len(periods), len(currency.dictionary) + 1 if several else 1)
    if groups and layout.n_bins >= _COMBINE_AT:  # bins past int64: number the group values
        stacked = np.stack([g.astype(np.int64) + 1 for g in groups], axis=1)
        decode, inverse = np.unique(stacked, axis=0, return_inverse=True)
        groups = [inverse.reshape(-1).astype(np.int64) - 1]
        layout = _Layout([max(1, decode.shape[0])], layout.n_periods, layout.n_currencies)
    work = _Pass(batch, scores, groups, currency.values if several else None, periods, layout)
    if layout.n_bins <= min(_DENSE_MAX, 8 * n + 4096):
        row_of_deal = np.empty(n, dtype=np.int64)  # each deal's bin, then its row
        counts, amount, weighted = work.run(layout.n_bins, row_of_deal, None)
        slot_bin = np.flatnonzero(counts)
        index = None
        counts = counts[slot_bin]
        amount_sum, weighted_sum = amount.total[slot_bin], weighted.total[slot_bin]
        amount_approx = amount.approx[slot_bin]
    else:
        slot_bin, inverse = np.unique(work.all_bins(), return_inverse=True)
        index = inverse.reshape(-1)
        counts, amount, weighted = work.run(slot_bin.shape[0], None, index)
        amount_sum, weighted_sum = amount.total, weighted.total
        amount_approx = amount.approx
    # Decode each occupied bin: status, currency, period, group.
    status = slot_bin % _STATUS
    rest = slot_bin // _STATUS
    cur = rest % layout.n_currencies
    rest //= layout.n_currencies
    period = rest % (layout.n_periods + 1)
    group = rest // (layout.n_periods + 1)
    kept = (status < _KEPT) & (period < layout.n_periods)
    if several:
        used = np.unique(cur[kept])
        if used.size > 1:
            names = ", ".join(currency.dictionary[int(c) - 1] for c in used)
            raise InvalidArgumentError(
                f"deals in several currencies ({names}) need an FX table to roll up together",
                reason="CURRENCY_MIXTURE",
                violations=[Violation("deals.currency", 0, 0, "CURRENCY_MIXTURE", names)],
            )
        reporting = currency.dictionary[int(used[0]) - 1] if used.size else ""
    else:
        reporting = currency.dictionary[0] if kept.any() else ""
    if float(amount_approx[kept].sum()) >= _AMOUNT_LIMIT:
        raise InvalidArgumentError(
            "the amounts rolled up are too large to sum exactly (2**62 minor units or more)",
            reason="AMOUNT_TOO_LARGE",
            violations=[Violation("deals.amount_minor", 0, 0, "AMOUNT_TOO_LARGE", "sum >= 2**62")],
        )
    # Rows: the (group, period) of kept bins; bins are sorted, so each row's bins are adjacent.
    row_key = group * layout.n_periods + period
    kept_at = np.flatnonzero(kept)
    rk = row_key[kept_at]
    first = np.ones(rk.shape[0], dtype=np.bool_)
    first[1:] = rk[1:] != rk[:-1]
    starts = np.flatnonzero(first)
    n_rows = starts.shape[0]
    row_of_slot = np.full(slot_bin.shape[0], -1, dtype=np.int64)
    row_of_slot[kept_at] = np.cumsum(first) - 1
    st = status[kept_at]
    cat, state = st // _STATES, st % _STATES

    def per_row(values: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        v = values[kept_at]
        if where is not None:
            v = np.where(where, v, 0)
        if n_rows == 0:
            return np.zeros(0, dtype=np.int64)
        return np.add.reduceat(v, starts).astype(np.int64, copy=False)

    is_open, won = state == 0, state == 1
    single: dict[Category, np.ndarray] = {c: per_row(amount_sum, cat == _CODE[c]) for c in REPORTED}
    cumulative: dict[Category, np.ndarray] = {}
    for c in REPORTED:
        total = np.zeros(n_rows, dtype=np.int64)
        for part in CUMULATIVE[c]:
            total += single[part]
        cumulative[c] = total
    # Row labels
    row_group = group[kept_at][starts]
    row_period = period[kept_at][starts]
    if decode is not None:
        field_codes = [decode[row_group, j] for j in range(decode.shape[1])]
    elif group_by:
        field_codes = list(np.unravel_index(row_group, layout.group_radix))
    else:
        field_codes = []
    columns = []
    for name, codes in zip(group_by, field_codes, strict=True):
        text = np.array(("", *frame[name].dictionary), dtype=object)
        columns.append(text[np.asarray(codes, dtype=np.int64)].tolist())
    labels = np.array([p.label for p in periods], dtype=object)
    columns.append(labels[row_period].tolist())
    keys = list(zip(*columns, strict=True)) if n_rows else []
    # Each deal's row
    if index is None:
        lut = np.full(layout.n_bins, -1, dtype=np.int64)
        lut[slot_bin] = row_of_slot
        _map_in_place(row_of_deal, lut)
    else:
        row_of_deal = row_of_slot.take(index)
    return Rollup(
        group_by=tuple(group_by),
        currency=reporting,
        keys=keys,
        deal_count=per_row(counts),
        open_count=per_row(counts, is_open),
        won_count=per_row(counts, won),
        pipeline_minor=per_row(amount_sum, is_open),
        weighted_minor=per_row(weighted_sum, is_open),
        closed_won_minor=per_row(amount_sum, won),
        category_minor=single,
        cumulative_minor=cumulative,
        row_of_deal=row_of_deal,
    )


__all__ = [
    "CUMULATIVE",
    "MAX_PERIODS",
    "REPORTED",
    "Period",
    "PeriodKind",
    "Rollup",
    "calendar_periods",
    "check_periods",
    "exact_group_sum",
    "rollup",
]
