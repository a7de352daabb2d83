"""Masking of callers' personal data, one rule for every capability (138****1234, 张*)."""

from __future__ import annotations

import re

# A run of digits long enough to be a phone number (a mobile's 11, a landline's 7 or more), not part of a longer
# run of letters and digits (an order number, a message id, a status code).
_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?\d{7,12}(?![0-9A-Za-z])")


def mask_phone(phone: str) -> str:
    """138****1234: keep the first three and the last four digits."""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) < 8:
        return "*" * (len(digits) - 4) + digits[-4:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str) -> str:
    """张*: keep the family name."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_numbers_in(text: str) -> str:
    """TEXT from another system (a gateway's error, say) with every phone-like number in it masked as `mask_phone`
    does: such text may quote the number it was about."""
    return _NUMBER_IN_TEXT.sub(lambda m: mask_phone(m[0]), text)
