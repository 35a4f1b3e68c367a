"""The batch-size limit every batched RPC enforces (``QUOTIENT_MAX_BATCH_DEALS``)."""

from __future__ import annotations

from engine.errors import ResourceExhaustedError


def check_batch_size(n: int, limit: int, what: str, hint: str = "") -> None:
    """Refuse a batch of ``n`` items over ``limit`` with RESOURCE_EXHAUSTED (BATCH_TOO_LARGE)."""
    if n > limit:
        raise ResourceExhaustedError(
            f"{n} {what} in one batch; the limit is {limit}" + (f": {hint}" if hint else ""),
            reason="BATCH_TOO_LARGE",
        )


__all__ = ["check_batch_size"]
