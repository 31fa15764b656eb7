"""Checks a pattern match must pass to count: checksums and plausibility, named by the recognizer rules."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

_DIGITS = str.maketrans("", "", " -./")


def digits_only(value: str) -> str:
    return value.translate(_DIGITS)


def luhn(value: str) -> bool:
    """ISO/IEC 7812 check digit (payment cards, Canadian SIN, IMEI)."""
    digits = digits_only(value)
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def iban(value: str) -> bool:
    """ISO 13616 mod-97: move the country and check digits to the end, letters to numbers, remainder 1."""
    compact = "".join(value.split()).upper()
    if len(compact) < 15 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def aba_routing(value: str) -> bool:
    """ABA routing transit number: weights 3, 7, 1 over nine digits."""
    digits = digits_only(value)
    if len(digits) != 9 or not digits.isdigit():
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10 == 0 and digits != "000000000"


def us_ssn(value: str) -> bool:
    """SSA rules: no area 000, 666 or 9xx, no group 00, no serial 0000, and not the famous sample numbers."""
    digits = digits_only(value)
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in {"000", "666"} or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return digits not in {"123456789", "078051120", "219099999"} and len(set(digits)) > 1


def not_all_same(value: str) -> bool:
    compact = digits_only(value)
    return len(set(compact)) > 1


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def entropy_check(minimum: float) -> Callable[[str], bool]:
    """Secrets are random; a placeholder such as `your-api-key-here` or `xxxxxxxx` is not."""

    def check(value: str) -> bool:
        return shannon_entropy(value) >= minimum

    return check


CHECKS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn,
    "iban": iban,
    "aba_routing": aba_routing,
    "us_ssn": us_ssn,
    "not_all_same": not_all_same,
}
