"""Bulk decimal text parsing: whatever it accepts it reads exactly as ``Decimal`` does, and it
accepts every plain decimal of up to 18 digits at the scale."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.decimal_text import parse_scaled
from engine.frame import to_scaled


def packed(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Texts the Arrow way: one byte buffer and offsets into it."""
    encoded = [t.encode() for t in texts]
    offsets = np.zeros(len(texts) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def exact(text: str, scale: int) -> int | None:
    try:
        value = to_scaled(Decimal(text), scale)
    except (ArithmeticError, ValueError):
        return None
    return value if -(2**63) <= value < 2**63 else None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("0123456789.-+eE _", max_size=24), max_size=30), st.integers(0, 9))
def test_what_is_parsed_is_read_exactly(texts: list[str], scale: int) -> None:
    values, parsed = parse_scaled(*packed(texts), None, scale)
    for text, value, ok in zip(texts, values.tolist(), parsed.tolist(), strict=True):
        if ok:
            assert value == exact(text, scale), text


plain = st.builds(
    lambda sign, whole, places, scale, zeros: (
        f"{sign}{whole}{'.' + places if places else ''}{'0' * zeros if places else ''}",
        scale,
    ),
    st.sampled_from(["", "-", "+"]),
    st.integers(0, 10**9 - 1),  # 9 whole digits + 9 places: the 18 it reads itself
    st.text("0123456789", max_size=9),
    st.integers(9, 9),
    st.integers(0, 3),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(plain, min_size=1, max_size=30))
def test_every_plain_decimal_that_fits_is_parsed(items: list[tuple[str, int]]) -> None:
    texts = [t for t, _ in items]
    null = np.array([i % 5 == 4 for i in range(len(texts))])
    values, parsed = parse_scaled(*packed(texts), null, 9)
    assert parsed.all()
    for text, value, is_null in zip(texts, values.tolist(), null.tolist(), strict=True):
        assert value == (0 if is_null else exact(text, 9)), text


def test_the_forms_it_leaves_to_the_exact_check() -> None:
    texts = ["1e2", " 1", "NaN", "1.234", "", ".", "-", "1.2.3", "12345678901234567890", "1.230"]
    values, parsed = parse_scaled(*packed(texts), None, 2)
    assert parsed.tolist() == [False] * 9 + [True]
    assert values[-1] == 123
