"""Bulk scoring of deal records, one batch per partition, for ``quotient score`` on a file.

A large file is read in batches (10,000 deals by default); each batch is built, checked and
scored by :func:`score_records` and comes back as output rows, in the file's order. The batches
are independent (a deal's score reads only the deal and the rule set), so on a Dask cluster
(``--dask``) several are scored at once on the workers while the file is read, with the compiled
rule set sent to each worker once; in-process they are scored one after another. The rows are
the same either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from engine.forecast.deals import build_deal_batch, deal_input_from_records
from engine.forecast.scoring import ProbSource, score_deals
from engine.money import ppm_to_decimal
from engine.rules.compiler import CompiledRuleSet
from engine.rules.schema import CATEGORY_ORDER
from service.batch import Executor


def score_records(rules: CompiledRuleSet, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One output row per record: its id, stage, amount and currency, then its score (win
    probability, weighted amount, category, where the probability came from, the rules that
    matched) or the problem that kept it from being scored."""
    batch = build_deal_batch(deal_input_from_records(records), rules)
    result = score_deals(rules, batch)
    problems = {e.index: e for e in result.errors}
    matched = result.matched_rules_all()
    rows = []
    for i, rec in enumerate(records):
        row = {k: rec.get(k, "") for k in ("id", "stage", "amount_minor", "currency")}
        if i in problems:
            p = problems[i]
            row["problem"] = f"{p.reason}: {p.message}"
        else:
            row.update(
                win_prob=str(ppm_to_decimal(int(result.win_prob_ppm[i]))),
                weighted_amount_minor=int(result.weighted_amount_minor[i]),
                category=CATEGORY_ORDER[int(result.category[i])].value,
                win_prob_source=ProbSource(int(result.prob_source[i])).name.lower(),
                matched_rules=" ".join(matched[i]),
            )
        rows.append(row)
    return rows


def score_batches(
    executor: Executor, rules: CompiledRuleSet, batches: Iterable[list[dict[str, Any]]]
) -> Iterator[list[dict[str, Any]]]:
    """The rows of each batch, in order, scored on ``executor``."""
    return executor.imap_partitions(score_records, batches, shared=rules, label="score")


__all__ = ["score_batches", "score_records"]
