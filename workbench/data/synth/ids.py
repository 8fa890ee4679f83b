"""Identifiers of the synthetic province: phone numbers and IMEIs.

Both are bijective scrambles of integer keys (an affine map modulo a power of
ten), so numbers generated in different chunks can never collide and the same
key always gets the same number.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from workbench.data.synth.writer import digits_column

__all__ = ["MSISDN_PREFIXES", "MAX_SUBSCRIBERS", "MAX_HANDSETS_PER_SUBSCRIBER", "msisdn_column", "imei_column"]

#: China Mobile number ranges used for the province's phone numbers.
MSISDN_PREFIXES: np.ndarray = np.array([134, 135, 136, 137, 138, 139, 150, 151, 152, 159], dtype=np.int64)
_MSISDN_SPACE = len(MSISDN_PREFIXES) * 10**8
_MSISDN_A, _MSISDN_B = 387_420_489, 123_456_789   # a is coprime with 10 -> bijection mod 10**9
#: Largest province the phone-number space allows.
MAX_SUBSCRIBERS: int = _MSISDN_SPACE - 1
#: Handsets (first one + changes) a subscriber can have in the IMEI key space.
MAX_HANDSETS_PER_SUBSCRIBER: int = 16
_IMEI_MOD = 10**12
_IMEI_A_HI, _IMEI_A_LO, _IMEI_B = 613_287, 440_031, 271_828_182_845   # a = 613287440031, coprime with 10


def msisdn_column(subscriber_id: np.ndarray) -> pa.Array:
    """11-digit phone numbers, unique per subscriber id (ids below :data:`MAX_SUBSCRIBERS`)."""
    y = (_MSISDN_A * np.asarray(subscriber_id, dtype=np.int64) + _MSISDN_B) % _MSISDN_SPACE
    return digits_column(y % 10**8, 8, prefix=MSISDN_PREFIXES[y // 10**8], prefix_width=3)


def _luhn_check_digit(payload: np.ndarray, width: int) -> np.ndarray:
    """Luhn check digit of ``width``-digit numbers (IMEI rule)."""
    x = payload.copy()
    total = np.zeros(len(x), dtype=np.int64)
    for pos in range(width):               # pos 0 = rightmost digit of the payload
        d = x % 10
        x //= 10
        if pos % 2 == 0:                   # doubled: every second digit from the right of the payload
            d = d * 2
            d = d - 9 * (d > 9)
        total += d
    return (10 - total % 10) % 10


def imei_column(subscriber_id: np.ndarray, handset_no: np.ndarray) -> pa.Array:
    """15-digit IMEIs (``86`` + 12 scrambled digits + Luhn digit), unique per (subscriber, handset number)."""
    key = np.asarray(subscriber_id, dtype=np.int64) * MAX_HANDSETS_PER_SUBSCRIBER + np.asarray(handset_no, np.int64)
    key %= _IMEI_MOD
    # a * key mod 1e12 without overflow: a = hi * 1e6 + lo
    y = (key * _IMEI_A_LO + ((key * _IMEI_A_HI) % 10**6) * 10**6 + _IMEI_B) % _IMEI_MOD
    payload = 86 * 10**12 + y
    check = _luhn_check_digit(payload, 14)
    return digits_column(payload * 10 + check, 15)
