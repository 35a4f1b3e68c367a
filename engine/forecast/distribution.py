"""The distribution of a forecast's outcome: quantiles, mean, and the chance of reaching a target.

Each open deal is won (its amount) or not, independently, with its win probability; the outcome is
the sum. Its distribution is computed exactly up to a reported bound, never by a blind normal
approximation (with 40 deals where one is 61 % of the value, the normal P10 is off by more than
100 %):

* **exact**: amounts are rounded to multiples ``k_i`` of a bucket ``b`` and the distribution of
  ``b x sum k_i X_i`` is computed exactly (in float64): deals are grouped by ``k``, each group's
  count of won deals (a Poisson-binomial law) comes from a batched pairwise FFT product of the
  two-point polynomials ``(1 - p) + p w``, spread onto the powers ``z^k``; the groups are
  multiplied into chunks by shifting and adding, and the chunks with a pairwise FFT tree. The
  outcome is ``b sum k_i X_i + E`` with the rounding error ``E = sum e_i X_i``
  (``e_i = a_i - b k_i``; deals under half a bucket have ``k = 0`` and are all error). Quantiles
  are the lattice's plus ``E``'s mean ``mu = sum p_i e_i`` (rounded to whole minor units and kept
  within the possible outcomes), and ``error_bound_minor`` bounds
  every quantile's distance to the exact quantile of the unrounded sum, as the smaller of two:

  - certain: ``E - mu`` lies in ``[-N - mu, P - mu]`` (``P``, ``N`` the sums of the positive and
    negative ``e_i``);
  - tail: by Hoeffding's and Bernstein's inequalities ``|E - mu| > t`` with probability at most
    ``delta = 1e-6`` each way, so the exact ``q`` quantile lies between the computed ``q - delta``
    quantile minus ``t`` and the ``q + delta`` quantile plus ``t``. For many deals ``t`` grows
    like ``b sqrt(n)``, where the certain bound grows like ``b n``.

  Both include the half unit of rounding. ``p_reach_target`` is read off the same shifted
  lattice (exactly 1 for a target the certain part already reaches).

  The bucket is the larger of two: the largest whose certain bound, at worst ``n b / 2``, fits
  ``max_relative_error`` of the total amount, and the largest whose worst-case Hoeffding ``t``
  fits half of it (the other half is for the ``delta`` widening); then at least
  ``total / max_buckets``. The bound reported is the one computed from the actual rounding
  errors, even where it comes out above the budget (a capped bucket, a quantile where the
  distribution has a gap).
* **normal**, only where the Berry-Esseen bound makes the error provably small: the bound on the
  distribution function (``0.56 x sum E|Y - mu|^3 / sigma^3``) is turned into a bound on each
  quantile, and the method is used only when that bound is under ``max_relative_error`` of the
  total. Many deals and no dominant deal: this is the fast path for large books.
* **monte_carlo**, for checks: seeded (the seed is returned). Each trial draws every open deal;
  sums are exact integers. Trials come in fixed blocks, each with its own generator derived from
  the seed, so the work is a partition map over blocks whose draws do not depend on the
  partitioning (one partition in-process, or many on a cluster: the same outcome). Besides the
  quantiles it returns a distribution-free 99 % confidence interval of each (order statistics).

Amounts are integer minor units and probabilities parts per million; outputs are minor units
(quantiles rounded half-even) and probabilities as floats (they are not paid).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from scipy import fft, signal, special

from engine.errors import InvalidArgumentError, Violation
from engine.partition import PartitionMap, local_map, split_even

#: The Berry-Esseen constant for sums of independent, non-identical variables (Shevtsova, 2010).
BERRY_ESSEEN_C = 0.56
#: Probability, each way, that the rounding error exceeds the tail bound ``t`` (exact method).
TAIL_PROBABILITY = 1e-6
#: Two-sided 99 % normal quantile, for the Monte Carlo confidence intervals.
_Z99 = 2.5758293035489004
_PPM = 1_000_000
_LOG_TAIL = math.log(1 / TAIL_PROBABILITY)
#: Polynomials up to this length are multiplied directly, longer ones through the FFT.
_DIRECT = 32
#: Draws per Monte Carlo chunk (trials x deals), to bound memory (16 MB of random bytes).
_MC_DRAWS = 1 << 24
#: Trials per Monte Carlo block. Block ``b`` of the outcome drawn as stream ``s`` draws from its own
#: generator, PCG64 seeded by ``SeedSequence(seed, spawn_key=(s, b))``, so a block's trials are the
#: same in whichever process and in whatever grouping of blocks they are drawn: a seed replays the
#: same outcome in-process and on a cluster, over any number of partitions. The size is part of
#: what a seed means: changing it changes every seeded result.
TRIAL_BLOCK = 2_500


@dataclass(frozen=True)
class Outcome:
    """The outcome distribution of a set of deals.

    ``quantiles_minor[i]`` is the ``quantiles[i]`` quantile; every quantile is within
    ``error_bound_minor`` of the exact one (for ``monte_carlo``, a sampling estimate instead, with
    ``confidence_minor[i]`` a 99 % confidence interval of the exact quantile).
    """

    method: str  # "exact", "normal" or "monte_carlo"
    quantiles: tuple[float, ...]
    quantiles_minor: tuple[int, ...]
    mean_minor: float
    certain_minor: int  # the part already certain (deals at probability 1)
    error_bound_minor: float
    bucket_minor: int = 0
    target_minor: int | None = None
    p_reach_target: float | None = None
    seed: int | None = None
    trials: int = 0
    confidence_minor: tuple[tuple[int, int], ...] = ()


def _check(quantiles: Sequence[float], amount: np.ndarray, prob_ppm: np.ndarray) -> None:
    problems = [
        Violation(f"quantiles[{i}]", 0, 0, "INVALID_QUANTILE", f"{q} is not in (0, 1)")
        for i, q in enumerate(quantiles)
        if not 0 < q < 1
    ]
    if amount.shape != prob_ppm.shape:
        problems.append(Violation("deals", 0, 0, "INVALID_ARGUMENT", "amounts and probabilities"))
    elif amount.size and (amount.min() < 0 or prob_ppm.min() < 0 or prob_ppm.max() > _PPM):
        problems.append(Violation("deals", 0, 0, "INVALID_ARGUMENT", "negative or > 100 %"))
    if problems:
        raise InvalidArgumentError(
            "cannot compute this distribution", reason="INVALID_ARGUMENT", violations=problems
        )


def _half_even(x: float) -> int:
    return int(Decimal(repr(float(x))).quantize(Decimal(1), ROUND_HALF_EVEN))


# --------------------------------------------------------------------------------------------
# Polynomial products


def _product(polys: list[np.ndarray]) -> np.ndarray:
    """Multiply probability polynomials pairwise, shortest first (FFT for long ones)."""
    while len(polys) > 1:
        polys.sort(key=len)
        nxt = []
        for a, b in zip(polys[0::2], polys[1::2], strict=False):
            c = np.convolve(a, b) if min(len(a), len(b)) <= 64 else signal.fftconvolve(a, b)
            np.clip(c, 0.0, None, out=c)
            nxt.append(c)
        if len(polys) % 2:
            nxt.append(polys[-1])
        polys = nxt
    pmf = polys[0] if polys else np.ones(1)
    return pmf / pmf.sum()


def _pair_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise products of two stacks of polynomials, shape (rows, L) -> (rows, 2L - 1)."""
    rows, length = a.shape
    if length <= _DIRECT:
        out = np.zeros((rows, 2 * length - 1))
        for j in range(length):  # over the degree, not the deals
            out[:, j : j + length] += a[:, j : j + 1] * b
        return out
    size = fft.next_fast_len(2 * length - 1, real=True)
    out = fft.irfft(fft.rfft(a, size, axis=1) * fft.rfft(b, size, axis=1), size, axis=1)
    out = out[:, : 2 * length - 1]
    np.clip(out, 0.0, None, out=out)
    return out


def _count_pmfs(p: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """The distribution of the number of won deals in each group (Poisson-binomial).

    ``p`` holds the groups' probabilities one group after the other, ``sizes`` the group sizes.
    All groups are multiplied out together, level by level: each group is padded to a power of
    two with deals that never win (the polynomial 1), the groups are laid out largest first (so
    every pair of neighbours belongs to one group), and each level multiplies neighbours.
    """
    n_groups = sizes.shape[0]
    padded = np.left_shift(1, np.ceil(np.log2(np.maximum(sizes, 1))).astype(np.int64))
    order = np.argsort(-padded, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    offsets = np.empty(n_groups, dtype=np.int64)
    offsets[order] = np.concatenate(([0], np.cumsum(padded[order])[:-1]))
    # Where each deal goes: its group's offset plus its place within the group.
    group_of = np.repeat(np.arange(n_groups), sizes)
    dest = offsets[group_of] + np.arange(p.shape[0]) - starts[group_of]
    polys = np.zeros((int(padded.sum()), 2))
    polys[:, 0] = 1.0
    polys[dest, 0] = 1.0 - p
    polys[dest, 1] = p
    out: list[np.ndarray] = [np.ones(1)] * n_groups
    by_size = order  # groups largest first, as laid out
    level = 0
    while by_size.shape[0]:
        done = padded[by_size] == (1 << level)
        for g in by_size[done].tolist():  # one row each, at the end of the stack
            row = polys[offsets[g] >> level, : sizes[g] + 1]
            out[g] = row / row.sum()
        by_size = by_size[~done]
        if not by_size.shape[0]:
            break
        keep = int(padded[by_size].sum()) >> level
        polys = _pair_products(polys[0:keep:2], polys[1:keep:2])
        level += 1
    return out


def _lattice_pmf(k: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The distribution of ``sum k_i X_i`` (``X_i`` won with probability ``p_i``), index = sum.

    Deals with one ``k`` form a group whose count distribution is spread at stride ``k``; the
    groups, shortest spread first, are multiplied into running chunks by shifting and adding (a
    factor of ``m + 1`` terms costs ``m + 1`` passes over the chunk, all of them sums of
    non-negative terms) until a chunk holds :data:`_SHIFT_TERMS` terms, and the chunks are then
    multiplied through the FFT (:func:`_product`). A pipeline of a few hundred deals is one chunk:
    no FFT at all.
    """
    live = k > 0
    k, p = k[live], p[live]
    if k.size == 0:
        return np.ones(1)
    order = np.argsort(k, kind="stable")
    k, p = k[order], p[order]
    ks, sizes = np.unique(k, return_counts=True)
    counts = _count_pmfs(p, sizes)
    widths = (sizes * ks).tolist()  # each group's spread is (size x k) + 1 long
    factors = sorted(zip(widths, ks.tolist(), counts, strict=True), key=lambda f: f[0])
    return _product(_shift_add_chunks(factors, sum(widths) + 1))


#: Most terms (won-deal counts) a chunk multiplies in by shifting and adding before the chunks are
#: multiplied through the FFT: past a few hundred, the passes cost more than the transforms.
_SHIFT_TERMS = 256


def _shift_add_chunks(factors: list[tuple[int, int, np.ndarray]], length: int) -> list[np.ndarray]:
    """Products of runs of ``(width, stride, count pmf)`` factors, each run at most
    :data:`_SHIFT_TERMS` terms (see :func:`_lattice_pmf`)."""
    buf, src, tmp = np.zeros(length), np.empty(length), np.empty(length)
    chunks: list[np.ndarray] = []
    cur = terms = 0  # the running chunk's length (0: none) and terms
    for width, kg, c in factors:
        m = c.shape[0] - 1
        if cur and terms + m > _SHIFT_TERMS:
            chunks.append(buf[:cur].copy())
            cur = 0
        if not cur:
            buf[: width + 1] = 0.0
            buf[: width + 1 : kg] = c
            cur, terms = width + 1, m
            continue
        buf[cur : cur + width] = 0.0
        if m == 1:
            np.multiply(buf[:cur], c[1], out=tmp[:cur])
            buf[:cur] *= c[0]
            buf[kg : kg + cur] += tmp[:cur]
        else:
            src[:cur] = buf[:cur]
            buf[:cur] *= c[0]
            for t, ct in enumerate(c[1:].tolist(), start=1):
                np.multiply(src[:cur], ct, out=tmp[:cur])
                buf[t * kg : t * kg + cur] += tmp[:cur]
        cur += width
        terms += m
    chunks.append(buf[:cur].copy())
    return chunks


# --------------------------------------------------------------------------------------------
# The distribution


def _quantile_index(cdf: np.ndarray, q: float) -> int:
    return min(int(np.searchsorted(cdf, q - 1e-12, side="left")), cdf.shape[0] - 1)


def outcome_distribution(
    amount_minor: np.ndarray,
    prob_ppm: np.ndarray,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    *,
    target_minor: int | None = None,
    max_relative_error: float = 0.001,
    max_buckets: int = 1 << 22,
    method: str = "auto",
) -> Outcome:
    """Quantiles, mean and P(outcome >= target) of the sum of independent won-or-lost deals.

    ``method`` "auto" takes the normal approximation where Berry-Esseen proves it within
    ``max_relative_error`` of the total amount and the exact method otherwise; "exact" always
    takes the exact method.
    """
    if method not in ("auto", "exact"):
        raise InvalidArgumentError(
            f"unknown distribution method {method!r}",
            reason="INVALID_ARGUMENT",
            violations=[Violation("method", 0, 0, "INVALID_ARGUMENT", "auto or exact")],
        )
    amount = np.asarray(amount_minor, dtype=np.int64)
    prob = np.asarray(prob_ppm, dtype=np.int64)
    _check(quantiles, amount, prob)
    certain = int(amount[prob == _PPM].sum())
    open_ = (prob > 0) & (prob < _PPM) & (amount > 0)
    a, p = amount[open_], prob[open_].astype(np.float64) / _PPM
    mean = certain + float((a * p).sum())
    total = float(a.sum())
    budget = max_relative_error * max(total, 1.0)
    if a.size == 0:
        return Outcome("exact", tuple(quantiles), tuple(certain for _ in quantiles), mean,
                       certain, 0.0, 0, target_minor,
                       None if target_minor is None else float(certain >= target_minor))  # fmt: skip
    if method == "auto":
        normal = _normal(a, p, quantiles, certain, budget, target_minor)
        if normal is not None:
            return normal
    return _exact(a, p, quantiles, certain, mean, budget, target_minor, max_buckets)


#: Lattice points up to which amounts' common divisor is used even below the budget's bucket.
_EXACT_LATTICE = 1 << 20


def _bucket(a: np.ndarray, budget: float, max_buckets: int) -> int:
    """The bucket: the amounts' greatest common divisor when it is coarse enough (or its lattice
    small enough), which makes the result exact; else the larger of the two that fit the budget
    (certain bound with every rounding error at b/2: ``n b / 2``; Hoeffding tail bound at half the
    budget), within the cap."""
    n = a.shape[0]
    certain = 2 * budget / n
    tail = budget / 2 / math.sqrt(n * _LOG_TAIL / 8)
    total = int(a.sum())
    bucket = max(1, int(certain), int(tail), -(-total // max_buckets))
    # Amounts with a common divisor (round deal sizes are the rule) are exact on that lattice: no
    # rounding error at all, whenever it is coarse enough or small enough to compute.
    g = int(np.gcd.reduce(a)) if n else 1
    if g > 1 and (g >= bucket or total // g <= _EXACT_LATTICE):
        return g
    return bucket


def _exact(
    a: np.ndarray,
    p: np.ndarray,
    quantiles: Sequence[float],
    certain: int,
    mean: float,
    budget: float,
    target_minor: int | None,
    max_buckets: int,
) -> Outcome:
    bucket = _bucket(a, budget, max_buckets)
    k = (a + bucket // 2) // bucket
    e = (a - k * bucket).astype(np.float64)  # S = bucket x sum k_i X_i + E, E = sum e_i X_i
    mu = float((p * e).sum())  # E's mean, added to every quantile
    pmf = _lattice_pmf(k, p)
    cdf = np.cumsum(pmf)
    index = [_quantile_index(cdf, q) for q in quantiles]
    top = int(a.sum())  # every outcome lies in [0, top] above the certain part
    values = [certain + min(top, max(0, _half_even(bucket * i + mu))) for i in index]
    if np.any(e):
        # Certain: E lies in [-N, P].
        sure = max(float(e[e > 0].sum()) - mu, float(-e[e < 0].sum()) + mu)
        # Tail: |E - mu| <= t but with probability 2 delta, by Hoeffding or by Bernstein.
        hoeffding = math.sqrt(float((e * e).sum()) * _LOG_TAIL / 2)
        var = float((p * (1 - p) * e * e).sum())
        m3 = _LOG_TAIL * float((np.abs(e) * np.maximum(p, 1 - p)).max()) / 3
        bernstein = m3 + math.sqrt(m3 * m3 + 2 * _LOG_TAIL * var)
        t = min(hoeffding, bernstein)
        worst = 0.0
        for q, i in zip(quantiles, index, strict=True):
            lo = _quantile_index(cdf, q - TAIL_PROBABILITY) if q > TAIL_PROBABILITY else 0
            hi = _quantile_index(cdf, min(q + TAIL_PROBABILITY, 1.0))
            tail = t + bucket * max(i - lo, hi - i)
            worst = max(worst, min(sure, tail))
        error = worst + 0.5  # and the rounding to whole minor units
    else:
        error = 0.0
    p_reach = None
    if target_minor is not None:
        if target_minor <= certain:
            p_reach = 1.0
        else:
            need = max(0, math.ceil((target_minor - certain - mu) / bucket))
            p_reach = float(pmf[need:].sum()) if need < len(pmf) else 0.0
            p_reach = min(1.0, max(0.0, p_reach))
    return Outcome("exact", tuple(quantiles), tuple(values), mean, certain, error, bucket,
                   target_minor, p_reach)  # fmt: skip


def _normal(
    a: np.ndarray,
    p: np.ndarray,
    quantiles: Sequence[float],
    certain: int,
    budget: float,
    target_minor: int | None,
) -> Outcome | None:
    """The normal approximation, if Berry-Esseen proves every quantile within ``budget``."""
    af = a.astype(np.float64)
    var = af * af * p * (1 - p)
    sigma = math.sqrt(float(var.sum()))
    if sigma == 0:
        return None
    # E|Y - mu|^3 for Y = a X, X ~ Bernoulli(p): a^3 p (1 - p) (p^2 + (1 - p)^2)
    rho = float((af**3 * p * (1 - p) * (p * p + (1 - p) ** 2)).sum())
    eps = BERRY_ESSEEN_C * rho / sigma**3
    mu = certain + float((af * p).sum())
    values, worst = [], 0.0
    for q in quantiles:
        lo, hi = q - eps, q + eps
        if lo <= 0 or hi >= 1:
            return None
        z, z_lo, z_hi = special.ndtri(q), special.ndtri(lo), special.ndtri(hi)
        worst = max(worst, float(sigma * max(z - z_lo, z_hi - z)))
        values.append(_half_even(mu + sigma * float(z)))
    if worst > budget:
        return None
    p_reach = None
    if target_minor is not None:
        p_reach = float(special.ndtr((mu - target_minor) / sigma))
        p_reach = min(1.0, max(0.0, p_reach))
    return Outcome("normal", tuple(quantiles), tuple(values), mu, certain, worst + 0.5, 0,
                   target_minor, p_reach)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Monte Carlo


def block_generator(seed: int, stream: int, block: int) -> np.random.Generator:
    """The generator of trial block ``block`` of outcome ``stream`` under ``seed``."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream, block)))
    )


def _thresholds(prob_ppm: np.ndarray) -> np.ndarray:
    """Per deal: won when a uniform 32-bit draw is under this (``round(p x 2**32)``)."""
    t = np.clip(np.rint(prob_ppm.astype(np.float64) / _PPM * 2.0**32), 1, 2**32 - 1)
    return t.astype(np.uint32)


@dataclass(frozen=True)
class TrialBlocks:
    """Trial blocks ``first`` up to ``stop`` of one outcome: what one partition draws for it."""

    amount_minor: np.ndarray  # the outcome's open deals (0 < p < 1, amount > 0)
    threshold: np.ndarray  # uint32, per open deal (see _thresholds)
    seed: int
    stream: int  # which outcome of the call (its position)
    first: int
    stop: int
    trials: int  # the outcome's trials (its last block may be short)

    def sizes(self) -> list[int]:
        return [
            min(TRIAL_BLOCK, self.trials - b * TRIAL_BLOCK) for b in range(self.first, self.stop)
        ]


def sample_trial_blocks(job: TrialBlocks) -> np.ndarray:
    """What the open deals won in each trial of the job's blocks, in trial order (exact int64).

    Each block draws from its own :func:`block_generator`, trials in chunks of at most
    :data:`_MC_DRAWS` draws: a chunk's raw 64-bit words, read as bytes, give each (trial, deal)
    its top random byte in trial-major order; then the chunk's ties (bytes equal to their
    threshold's top byte), in that order, take one 32-bit half of the next raw words each
    (:mod:`engine.forecast.draws`). The draws depend on the seed, the outcome's stream, the block
    and the deals, never on which other blocks share the job.
    """
    # Imported here: numba takes a while to import, and only Monte Carlo needs it.
    from engine.forecast.draws import won_by_top_byte, won_ties

    sizes = job.sizes()
    offsets = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    totals = np.zeros(int(offsets[-1]), dtype=np.int64)
    a = np.ascontiguousarray(job.amount_minor, dtype=np.int64)
    t_top = (job.threshold >> 24).astype(np.uint8)
    t_low = (job.threshold & 0xFFFFFF).astype(np.uint32)
    width = a.shape[0]
    step = max(1, min(TRIAL_BLOCK, _MC_DRAWS // width))
    ties = np.empty(step * width, dtype=np.int32)  # pages are touched by ties only
    for b, offset, size in zip(range(job.first, job.stop), offsets[:-1].tolist(), sizes,
                               strict=True):  # fmt: skip
        words = block_generator(job.seed, job.stream, b).bit_generator
        for first in range(0, size, step):
            m = min(step, size - first)
            draws = m * width
            top = words.random_raw(-(-draws // 8)).view(np.uint8)[:draws].reshape(m, width)
            chunk = totals[offset + first : offset + first + m]
            n = won_by_top_byte(top, t_top, a, chunk, ties)
            if n:
                low = words.random_raw(-(-n // 2)).view(np.uint32)[:n]
                won_ties(ties[:n], low, t_low, a, chunk)
    return totals


def sample_partition(_: object, part: Sequence[TrialBlocks]) -> list[np.ndarray]:
    """A partition of Monte Carlo work (the function a :class:`PartitionMap` maps)."""
    return [sample_trial_blocks(job) for job in part]


@dataclass(frozen=True)
class Sample:
    """One outcome to sample: deals' amounts and win probabilities, and an optional target."""

    amount_minor: np.ndarray
    prob_ppm: np.ndarray
    target_minor: int | None = None


def monte_carlo_many(
    samples: Sequence[Sample],
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    *,
    seed: int,
    trials: int = 10_000,
    partitions: int = 1,
    map_partitions: PartitionMap = local_map,
) -> list[Outcome]:
    """:func:`monte_carlo` of several outcomes at once, the ``i``-th drawn as stream ``i``.

    The work, (outcome, trial block) units costed by their draws, is split into at most
    ``partitions`` contiguous partitions of about equal cost and mapped with ``map_partitions``;
    the draws do not depend on the split, so any number of partitions on any map gives the same
    outcomes as one partition in-process.
    """
    if trials < 1:
        raise InvalidArgumentError(
            "a Monte Carlo needs at least one trial",
            reason="INVALID_ARGUMENT",
            violations=[Violation("trials", 0, 0, "INVALID_ARGUMENT", f"{trials} < 1")],
        )
    if seed < 0:
        raise InvalidArgumentError(
            "a Monte Carlo seed is a non-negative integer",
            reason="INVALID_ARGUMENT",
            violations=[Violation("seed", 0, 0, "INVALID_ARGUMENT", f"{seed} < 0")],
        )
    blocks = -(-trials // TRIAL_BLOCK)
    certain: list[int] = []
    opened: list[tuple[np.ndarray, np.ndarray]] = []
    units: list[tuple[int, int]] = []  # (stream, block)
    costs: list[int] = []
    for stream, s in enumerate(samples):
        amount = np.asarray(s.amount_minor, dtype=np.int64)
        prob = np.asarray(s.prob_ppm, dtype=np.int64)
        _check(quantiles, amount, prob)
        certain.append(int(amount[prob == _PPM].sum()))
        open_ = (prob > 0) & (prob < _PPM) & (amount > 0)
        opened.append((amount[open_], _thresholds(prob[open_])))
        width = int(open_.sum())
        if width:
            for b in range(blocks):
                units.append((stream, b))
                costs.append(min(TRIAL_BLOCK, trials - b * TRIAL_BLOCK) * width)
    parts: list[tuple[TrialBlocks, ...]] = []
    for r in split_even(costs, partitions):
        jobs: list[TrialBlocks] = []
        for stream, b in (units[i] for i in r):
            if jobs and jobs[-1].stream == stream:
                jobs[-1] = replace(jobs[-1], stop=b + 1)
            else:
                a, t = opened[stream]
                jobs.append(TrialBlocks(a, t, seed, stream, b, b + 1, trials))
        parts.append(tuple(jobs))
    pieces: list[list[np.ndarray]] = [[] for _ in samples]
    for part, result in zip(parts, map_partitions(sample_partition, None, parts), strict=True):
        for job, totals in zip(part, result, strict=True):
            pieces[job.stream].append(totals)
    out = []
    for stream, s in enumerate(samples):
        totals = np.concatenate(pieces[stream]) if pieces[stream] else np.zeros(trials, np.int64)
        out.append(_outcome_of_totals(totals + certain[stream], certain[stream], quantiles, seed,
                                      trials, s.target_minor))  # fmt: skip
    return out


def _outcome_of_totals(
    totals: np.ndarray, certain: int, quantiles: Sequence[float], seed: int, trials: int,
    target_minor: int | None,
) -> Outcome:  # fmt: skip
    ordered = np.sort(totals)
    values, bands = [], []
    for q in quantiles:
        values.append(int(ordered[max(0, math.ceil(q * trials) - 1)]))  # inverted CDF
        half = _Z99 * math.sqrt(trials * q * (1 - q))
        lo = max(0, math.floor(q * trials - half) - 1)
        hi = min(trials - 1, math.ceil(q * trials + half))
        bands.append((int(ordered[lo]), int(ordered[hi])))
    p_reach = None if target_minor is None else float((totals >= target_minor).mean())
    return Outcome("monte_carlo", tuple(quantiles), tuple(values), float(totals.mean()), certain,
                   math.nan, 0, target_minor, p_reach, seed, trials, tuple(bands))  # fmt: skip


def monte_carlo(
    amount_minor: np.ndarray,
    prob_ppm: np.ndarray,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    *,
    seed: int,
    trials: int = 10_000,
    target_minor: int | None = None,
    partitions: int = 1,
    map_partitions: PartitionMap = local_map,
) -> Outcome:
    """Sample outcomes (a check on :func:`outcome_distribution`); ``seed`` is echoed back.

    Every trial draws every open deal: won when a uniform 32-bit integer is under
    ``round(p x 2**32)`` (so each probability is used to within 2**-33). Trials come in blocks of
    :data:`TRIAL_BLOCK`, each drawn from its own generator derived from ``seed`` (see
    :func:`sample_trial_blocks`), so the outcome is the same however the blocks are partitioned
    and wherever they run. Each draw is decided by one random byte, and by 24 more bits in the one
    case in 256 where that byte ties (see :mod:`engine.forecast.draws`); totals are exact int64.
    """
    sample = Sample(np.asarray(amount_minor), np.asarray(prob_ppm), target_minor)
    return monte_carlo_many([sample], quantiles, seed=seed, trials=trials, partitions=partitions,
                            map_partitions=map_partitions)[0]  # fmt: skip


__all__ = [
    "BERRY_ESSEEN_C",
    "TAIL_PROBABILITY",
    "TRIAL_BLOCK",
    "Outcome",
    "Sample",
    "TrialBlocks",
    "block_generator",
    "monte_carlo",
    "monte_carlo_many",
    "outcome_distribution",
    "sample_partition",
    "sample_trial_blocks",
]
