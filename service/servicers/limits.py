"""The batch-size limit every batched RPC enforces (``QUOTIENT_MAX_BATCH_DEALS``), and the
reading of deals sent as Arrow columns under it."""

from __future__ import annotations

from functools import partial
from typing import Any

import pyarrow as pa

from engine.errors import InvalidArgumentError, ResourceExhaustedError, Violation
from service.convert_arrow import read_table


def check_batch_size(n: int, limit: int, what: str, hint: str = "") -> None:
    """Refuse a batch of ``n`` items over ``limit`` with RESOURCE_EXHAUSTED (BATCH_TOO_LARGE)."""
    if n > limit:
        raise ResourceExhaustedError(
            f"{n} {what} in one batch; the limit is {limit}" + (f": {hint}" if hint else ""),
            reason="BATCH_TOO_LARGE",
        )


def deal_columns_table(request: Any, max_batch_deals: int, hint: str = "") -> pa.Table:
    """The Arrow table a request sends in ``deal_columns`` (read with the batch limit); refused
    when the request also lists ``deals``."""
    if request.deals:
        message = "give deals or deal_columns, not both"
        raise InvalidArgumentError(
            message,
            reason="INVALID_ARGUMENT",
            violations=[Violation("deal_columns", reason="INVALID_ARGUMENT", message=message)],
        )
    limit = partial(check_batch_size, limit=max_batch_deals, what="deal_columns", hint=hint)
    return read_table(request.deal_columns, limit)


__all__ = ["check_batch_size", "deal_columns_table"]
