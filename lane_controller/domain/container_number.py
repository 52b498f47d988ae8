"""ISO 6346 container numbers: parsing, validation and OCR correction.

A container number is a 3-letter owner code, an equipment category letter (U freight container,
J detachable freight-container equipment, Z trailer or chassis), a 6-digit serial and a check digit,
e.g. ``CSQU 305438 3``. python-stdnum also accepts category R, which ISO 6346 does not define; it is
rejected here.

The check digit is ``(sum(value(c) * 2**i) mod 11) mod 10`` over the first ten characters, where digits
are worth their value and letters 10..38 skipping the multiples of 11 (A=10, B=12, ..., K=21, L=23, ...,
U=32, V=34, ..., Z=38). It misses these single-character substitutions (``single_substitution_collision``):

1. Letters whose values differ by 11 or 22: each weight ``2**i`` is invertible mod 11, so a substitution
   leaves the sum unchanged mod 11 exactly when the values differ by a multiple of 11. The groups are
   A/K/U, B/L/V, C/M/W, D/N/X, E/O/Y, F/P/Z, G/Q, H/R, I/S and J/T. Of the OCR confusion pairs, M/W is
   one. Digits differ by at most 9, so a serial substitution never collides this way.
2. Remainders 0 and 10 both give check digit 0, so a substitution that moves the sum from one to the
   other goes unnoticed when the check digit is 0. (BIC advises owners not to issue serials with
   remainder 10, but such numbers are in use.)

A substitution in the check digit itself is always detected.

``candidates`` corrects an OCR read. Each of the first ten positions may keep its character or take one
of its confusions from ``ocr_confusions`` that fits the position (a letter in 1-3, U/J/Z in 4, a digit in
5-10). The check digit as read is trusted: a digit is kept, a letter is mapped to the digits it is
confused with. Replacing the check digit itself (by the digit the body computes) costs
``CHECK_DIGIT_SUBSTITUTION_COST`` plus the other edits, and such a reading is listed only when no reading
that keeps the check digit is cheaper: a cheap check-digit change would "validate" any misread body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Self, TypeAlias

from stdnum import iso6346

from lane_controller.domain.ocr_confusions import (
    LETTERS,
    Candidate,
    CandidateResult,
    cheap_combinations,
    clean_read,
    corrections,
    edits_between,
)

__all__ = [
    "CATEGORIES",
    "CHECK_DIGIT_SUBSTITUTION_COST",
    "DEFAULT_MAX_COST",
    "CandidateResult",
    "ContainerNumber",
    "InvalidContainerNumber",
    "candidates",
    "compute_check_digit",
    "single_substitution_collision",
]

CATEGORIES: Final = "UJZ"
LENGTH: Final = 11
CHECK_DIGIT_SUBSTITUTION_COST: Final = 4
"""Higher than any single confusion in the table (at most 3)."""
DEFAULT_MAX_COST: Final = 5

_ALPHABET: Final = "0123456789A BCDEFGHIJK LMNOPQRSTU VWXYZ"
_VALUES: Final[dict[str, int]] = {c: i for i, c in enumerate(_ALPHABET) if c != " "}
_UNREACHABLE: Final = 1 << 30
_PART_NAMES: Final = ("owner code",) * 3 + ("equipment category",) + ("serial number",) * 6 + ("check digit",)

_Options: TypeAlias = tuple[tuple[str, int], ...]


class InvalidContainerNumber(ValueError):
    """The text is not a valid ISO 6346 container number; ``problems`` lists each reason."""

    def __init__(self, text: str, problems: list[str]) -> None:
        self.text = text
        self.problems = tuple(problems)
        super().__init__(f"invalid container number {text!r}: " + "; ".join(problems))


def compute_check_digit(body: str) -> int:
    """The ISO 6346 check digit of the first ten characters (owner, category, serial)."""
    return int(iso6346.calc_check_digit(body))


def _problems(text: str) -> list[str]:
    bad = [f"unexpected character {c!r} at position {i + 1}" for i, c in enumerate(text) if c not in _VALUES]
    if bad:
        return bad
    if len(text) != LENGTH:
        return [f"must have 11 characters (4 letters, 6 digits, check digit), got {len(text)}"]
    problems = []
    for i, c in enumerate(text):
        if i == 3:
            if c not in CATEGORIES:
                problems.append(f"position 4 (equipment category) must be U, J or Z, got {c!r}")
        elif (i < 3) != (c in LETTERS):
            wanted = "a letter" if i < 3 else "a digit"
            problems.append(f"position {i + 1} ({_PART_NAMES[i]}) must be {wanted}, got {c!r}")
    if problems:
        return problems
    expected = compute_check_digit(text[:10])
    if int(text[10]) != expected:
        return [f"wrong check digit {text[10]} for {text[:10]}: expected {expected}"]
    return []


@dataclass(frozen=True, slots=True)
class ContainerNumber:
    """A valid ISO 6346 container number; ``str()`` gives the compact form ``CSQU3054383``."""

    owner: str
    category: str
    serial: str
    check_digit: int

    def __post_init__(self) -> None:
        text = str(self)
        if len(self.owner) != 3 or len(self.category) != 1 or len(self.serial) != 6:
            raise InvalidContainerNumber(
                text, ["owner must be 3 letters, category 1 letter, serial 6 digits, check digit 0-9"]
            )
        if problems := _problems(text):
            raise InvalidContainerNumber(text, problems)

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse typed or OCR text such as ``MSCU 123456 6``, ``mscu1234566`` or ``MSCU-123456-6``."""
        compact = clean_read(text)
        if not compact:
            raise InvalidContainerNumber(text, ["empty"])
        if problems := _problems(compact):
            raise InvalidContainerNumber(compact, problems)
        return cls(compact[:3], compact[3], compact[4:10], int(compact[10]))

    @classmethod
    def build(cls, owner: str, category: str, serial: str) -> Self:
        """The number with these parts and its computed check digit."""
        body = f"{owner}{category}{serial}".upper()
        if len(body) != 10 or any(c not in _VALUES for c in body):
            raise InvalidContainerNumber(
                body, ["owner must be 3 letters, category 1 letter, serial 6 digits"]
            )
        return cls(body[:3], body[3], body[4:], compute_check_digit(body))

    def __str__(self) -> str:
        return f"{self.owner}{self.category}{self.serial}{self.check_digit}"

    def formatted(self) -> str:
        """The marking form, ``MSCU 123456 6``."""
        return f"{self.owner}{self.category} {self.serial} {self.check_digit}"


def _remainder(body: str) -> int:
    return sum(_VALUES[c] << i for i, c in enumerate(body)) % 11


def single_substitution_collision(original: str, corrupted: str) -> str | None:
    """Why the check digit cannot tell ``corrupted`` from ``original``, or None.

    Returns a reason only when the two differ in exactly one of the first ten characters and that
    substitution leaves the check digit unchanged (see the module docstring); None otherwise.
    """
    a, b = clean_read(original), clean_read(corrupted)
    if len(a) != LENGTH or len(b) != LENGTH or any(c not in _VALUES for c in a + b):
        return None
    differing = [i for i in range(LENGTH) if a[i] != b[i]]
    if len(differing) != 1 or differing[0] == LENGTH - 1:
        return None
    i = differing[0]
    old, new = _VALUES[a[i]], _VALUES[b[i]]
    if (old - new) % 11 == 0:
        return (
            f"position {i + 1}: {a[i]} (value {old}) and {b[i]} (value {new}) differ by {abs(old - new)}, "
            "a multiple of 11, so the weighted sum mod 11 is unchanged"
        )
    remainders = {_remainder(a[:10]), _remainder(b[:10])}
    if remainders == {0, 10}:
        return f"position {i + 1}: {a[i]}->{b[i]} moves the sum mod 11 between 0 and 10, both check digit 0"
    return None


def _body_options(read: str) -> tuple[_Options, ...]:
    options = []
    for i, c in enumerate(read[:10]):
        if i < 3:
            options.append(corrections(c, "letter"))
        elif i == 3:
            options.append(tuple(o for o in corrections(c, "letter") if o[0] in CATEGORIES))
        else:
            options.append(corrections(c, "digit"))
    return tuple(options)


class _BodySearch:
    """Bodies (first ten characters) with a given weighted sum mod 11, pruned by a residue table."""

    def __init__(self, options: tuple[_Options, ...]) -> None:
        self.weighted = [
            [(c, cost, (_VALUES[c] << i) % 11) for c, cost in opts] for i, opts in enumerate(options)
        ]
        # cheapest[i][r]: least cost of positions i.. whose weighted sum is r mod 11
        self.cheapest = [[_UNREACHABLE] * 11 for _ in range(len(options) + 1)]
        self.cheapest[-1][0] = 0
        for i in range(len(options) - 1, -1, -1):
            after = self.cheapest[i + 1]
            self.cheapest[i] = [
                min((cost + after[(r - w) % 11] for _, cost, w in self.weighted[i]), default=_UNREACHABLE)
                for r in range(11)
            ]

    def bodies(self, target: int, budget: int) -> list[tuple[_Options, int]]:
        """Every body within ``budget`` whose weighted sum is ``target`` mod 11, with its cost."""
        found: list[tuple[_Options, int]] = []
        chosen: list[tuple[str, int]] = []
        weighted, cheapest, end = self.weighted, self.cheapest, len(self.weighted)

        def walk(i: int, partial: int, cost: int) -> None:
            if i == end:
                found.append((tuple(chosen), cost))
                return
            for c, c_cost, w in weighted[i]:
                total, residue = cost + c_cost, (partial + w) % 11
                if total + cheapest[i + 1][(target - residue) % 11] <= budget:
                    chosen.append((c, c_cost))
                    walk(i + 1, residue, total)
                    chosen.pop()

        if cheapest[0][target] <= budget:
            walk(0, 0, 0)
        return found


def candidates(text: str, max_cost: int = DEFAULT_MAX_COST) -> CandidateResult[ContainerNumber]:
    """Check-digit-valid corrections of an OCR read within ``max_cost``, ranked by cost then text.

    A valid read comes back as itself at cost 0. See the module docstring for the check-digit rule.
    """
    read = clean_read(text)
    if len(read) != LENGTH:
        return CandidateResult(read, ())
    body_options = _body_options(read)
    search = _BodySearch(body_options)
    found: list[tuple[_Options, int]] = []
    for digit, digit_cost in corrections(read[10], "digit", cross_class_only=True):
        for target in (0, 10) if digit == "0" else (int(digit),):
            for body, cost in search.bodies(target, max_cost - digit_cost):
                found.append(((*body, (digit, digit_cost)), cost + digit_cost))
    budget = min([max_cost, *(cost for _, cost in found)]) - CHECK_DIGIT_SUBSTITUTION_COST
    if budget >= 0:
        for body, cost in cheap_combinations(body_options, budget):
            digit = str(compute_check_digit("".join(c for c, _ in body)))
            found.append(
                ((*body, (digit, CHECK_DIGIT_SUBSTITUTION_COST)), cost + CHECK_DIGIT_SUBSTITUTION_COST)
            )
    results = [
        Candidate(ContainerNumber.parse("".join(c for c, _ in chosen)), cost, edits_between(read, chosen))
        for chosen, cost in found
    ]
    results.sort(key=lambda candidate: (candidate.cost, str(candidate.value)))
    return CandidateResult(read, tuple(results))
