"""Masking of callers' personal data, one rule for every capability (138****1234, 张*)."""

from __future__ import annotations


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
