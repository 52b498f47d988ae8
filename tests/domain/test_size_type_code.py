"""ISO 6346 size-and-type codes, as written and as an OCR may read them."""

from __future__ import annotations

import math

import pytest

from lane_controller.domain.size_type_code import reads_as_size_type_code, size_type_cost


@pytest.mark.parametrize("code", ["22G1", "45R1", "42G1", "L5G1", "22T6", "25U1", "M2B0", "42P3", "22-G1"])
def test_codes_as_written(code: str) -> None:
    assert size_type_cost(code) == 0
    assert reads_as_size_type_code(code, max_cost=0)


@pytest.mark.parametrize(
    ("read", "cost"),
    [
        ("22GI", 1),  # the type digit 1 read as I
        ("45RI", 1),
        ("2261", 2),  # the type group G read as 6
        ("4S65", 4),  # S for 5 (2) and 6 for G (2): over the default
    ],
)
def test_reads_cost_their_confusions(read: str, cost: int) -> None:
    assert size_type_cost(read) == cost
    assert reads_as_size_type_code(read) is (cost <= 2)
    assert not reads_as_size_type_code(read, max_cost=0)


@pytest.mark.parametrize(
    "text",
    [
        "KLA1234",  # too long
        "22G",  # too short
        "AB12",  # no type group letter a 1 could stand for
        "1234",  # a 3 stands for a B only at cost 3
        "22X1",  # X is no type group
        "Q2G1",  # Q is no length code, nor is what it is taken for (O, 0)
    ],
)
def test_other_texts_are_not_size_type_codes(text: str) -> None:
    assert not reads_as_size_type_code(text)
    assert size_type_cost(text) > 2 or math.isinf(size_type_cost(text))
