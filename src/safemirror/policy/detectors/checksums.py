"""Check digits the detectors confirm candidates with (not a detector itself)."""

from __future__ import annotations


def luhn_valid(digits: str) -> bool:
    """True when the digit string ``digits`` passes the Luhn (mod 10) check: payment card
    numbers, IMEIs and Canadian SINs carry one."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return bool(digits) and total % 10 == 0


def mod97_valid(iban: str) -> bool:
    """True when ``iban`` (letters and digits, no spaces) passes ISO 13616's mod-97 check."""
    moved = iban[4:] + iban[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in moved))
    except ValueError:
        return False
    return number % 97 == 1
