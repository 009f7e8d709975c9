"""Miles & More card numbers: 15 digits, starting 992, the last a Luhn check digit."""

from __future__ import annotations

import re
import secrets

CARD_PREFIX = "992"
CARD_LENGTH = 15
_CARD_PATTERN = re.compile(r"^992\d{12}$")


def luhn_check_digit(digits: str) -> str:
    total = 0
    # Walking right to left from the digit left of the check digit, every first digit doubles.
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def normalize_card_number(value: str) -> str:
    """Drop the spaces and dashes members type between digit groups."""
    return re.sub(r"[\s-]", "", value or "")


def is_valid_card_number(value: str) -> bool:
    return bool(_CARD_PATTERN.match(value)) and luhn_check_digit(value[:-1]) == value[-1]


def generate_card_number() -> str:
    body = CARD_PREFIX + "".join(secrets.choice("0123456789") for _ in range(CARD_LENGTH - 4))
    return body + luhn_check_digit(body)
