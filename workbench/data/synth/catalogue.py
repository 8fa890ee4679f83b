"""The fixed catalogues of the synthetic province: branches, handsets, VAS products, tariffs.

Everything here is constant (independent of the seed): the same province layout
is generated for every seed, only the subscribers differ.  Branch sizes and the
per-branch effects are the "market structure" the status analysis should find.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from workbench.data.tables import BRANCHES, BRANDS, CAPABILITIES, CONTENT_CATEGORIES, PRODUCT_FAMILIES

__all__ = [
    "BRANCH_SHARES",
    "BRANCH_GOTONE_SHARE",
    "BRANCH_WEALTH",
    "BRANCH_UPTAKE",
    "TARIFF_PLANS",
    "HANDSET_MODELS",
    "VAS_PRODUCTS",
    "NEWSPAPER_EDITIONS",
    "branches_table",
    "handset_models_table",
    "vas_products_table",
]

_BRANCH_IDS = tuple(b[0] for b in BRANCHES)


def _by_branch(values: dict[str, float]) -> np.ndarray:
    missing = set(_BRANCH_IDS) - set(values)
    if missing:  # pragma: no cover - guards edits of this module
        raise KeyError(f"branch constants miss {sorted(missing)}")
    return np.array([values[b] for b in _BRANCH_IDS], dtype=np.float64)


#: Share of the province's subscribers in each branch (order of ``BRANCHES``); Urumqi ~25 %.
BRANCH_SHARES: np.ndarray = _by_branch({
    "urumqi": 0.25, "karamay": 0.04, "turpan": 0.04, "hami": 0.04, "changji": 0.08, "ili": 0.11,
    "tacheng": 0.04, "altay": 0.035, "bortala": 0.03, "bayingolin": 0.07, "aksu": 0.08,
    "kizilsu": 0.015, "kashgar": 0.11, "hotan": 0.06,
})
#: Probability of the GoTone brand in each branch (M-Zone and Easy-Own share the rest).
BRANCH_GOTONE_SHARE: np.ndarray = _by_branch({
    "urumqi": 0.22, "karamay": 0.20, "turpan": 0.12, "hami": 0.13, "changji": 0.14, "ili": 0.13,
    "tacheng": 0.12, "altay": 0.12, "bortala": 0.12, "bayingolin": 0.15, "aksu": 0.12,
    "kizilsu": 0.09, "kashgar": 0.11, "hotan": 0.09,
})
#: Regional wealth effect (shifts ARPU, handset price band and brand mix).
BRANCH_WEALTH: np.ndarray = _by_branch({
    "urumqi": 0.35, "karamay": 0.40, "turpan": -0.05, "hami": 0.05, "changji": 0.15, "ili": 0.0,
    "tacheng": 0.0, "altay": -0.05, "bortala": 0.0, "bayingolin": 0.15, "aksu": -0.10,
    "kizilsu": -0.35, "kashgar": -0.30, "hotan": -0.35,
})
#: Branch effect on the mobile-newspaper uptake logit (local promotion, language mix, ...).
BRANCH_UPTAKE: np.ndarray = _by_branch({
    "urumqi": 0.0, "karamay": 0.30, "turpan": -0.10, "hami": 0.15, "changji": 0.20, "ili": 0.10,
    "tacheng": -0.05, "altay": 0.05, "bortala": 0.0, "bayingolin": 0.10, "aksu": -0.15,
    "kizilsu": -0.45, "kashgar": -0.35, "hotan": -0.40,
})

#: Tariff plans per brand: (code, monthly rent in yuan), ordered from the cheapest to the richest.
TARIFF_PLANS: dict[str, tuple[tuple[str, float], ...]] = {
    "gotone": (("GT58", 58.0), ("GT88", 88.0), ("GT128", 128.0), ("GT188", 188.0)),
    "mzone": (("MZ18", 18.0), ("MZ28", 28.0), ("MZ38", 38.0)),
    "easyown": (("EO_LOCAL", 0.0), ("EO_BASIC", 5.0), ("EO_FAMILY", 10.0), ("EO_ZONE", 15.0)),
}
if tuple(TARIFF_PLANS) != BRANDS:  # pragma: no cover
    raise RuntimeError(f"TARIFF_PLANS must follow BRANDS {BRANDS}")

# model, vendor, price band, wap, mms, java, mp3, smartphone, popularity weight within its band
_H = (
    ("NOKIA-1110", "Nokia", "low", 0, 0, 0, 0, 0, 9.0),
    ("NOKIA-1200", "Nokia", "low", 0, 0, 0, 0, 0, 6.0),
    ("MOTO-C118", "Motorola", "low", 0, 0, 0, 0, 0, 4.0),
    ("SAMSUNG-C170", "Samsung", "low", 1, 0, 0, 0, 0, 4.0),
    ("NOKIA-2610", "Nokia", "low", 1, 1, 1, 0, 0, 6.0),
    ("NOKIA-2630", "Nokia", "low", 1, 1, 1, 0, 0, 4.0),
    ("BIRD-S1190", "Bird", "low", 1, 0, 0, 0, 0, 3.0),
    ("TCL-i99", "TCL", "low", 1, 1, 0, 0, 0, 2.0),
    ("AMOI-A36", "Amoi", "low", 1, 1, 0, 1, 0, 2.0),
    ("ZTE-F160", "ZTE", "low", 1, 1, 0, 0, 0, 2.0),
    ("HUAWEI-T2211", "Huawei", "low", 1, 1, 1, 0, 0, 2.0),
    ("LENOVO-i750", "Lenovo", "low", 1, 0, 0, 1, 0, 2.0),
    ("NOKIA-3110c", "Nokia", "mid", 1, 1, 1, 1, 0, 6.0),
    ("NOKIA-5300", "Nokia", "mid", 1, 1, 1, 1, 0, 5.0),
    ("NOKIA-6300", "Nokia", "mid", 1, 1, 1, 1, 0, 6.0),
    ("NOKIA-7610", "Nokia", "mid", 1, 1, 1, 1, 1, 2.0),
    ("MOTO-V3", "Motorola", "mid", 1, 1, 1, 0, 0, 4.0),
    ("MOTO-L7", "Motorola", "mid", 1, 1, 1, 1, 0, 2.0),
    ("SAMSUNG-E250", "Samsung", "mid", 1, 1, 1, 1, 0, 4.0),
    ("SAMSUNG-D908", "Samsung", "mid", 1, 1, 1, 1, 0, 2.0),
    ("SE-K750c", "Sony Ericsson", "mid", 1, 1, 1, 1, 0, 3.0),
    ("SE-W580c", "Sony Ericsson", "mid", 1, 1, 1, 1, 0, 3.0),
    ("LG-KG800", "LG", "mid", 1, 1, 0, 1, 0, 2.0),
    ("LENOVO-i906", "Lenovo", "mid", 1, 1, 1, 1, 0, 2.0),
    ("AMOI-A8", "Amoi", "mid", 1, 1, 1, 1, 0, 1.5),
    ("HUAWEI-U626", "Huawei", "mid", 1, 1, 1, 1, 0, 1.5),
    ("ZTE-U230", "ZTE", "mid", 1, 1, 1, 1, 0, 1.0),
    ("NOKIA-N73", "Nokia", "high", 1, 1, 1, 1, 1, 6.0),
    ("NOKIA-N95", "Nokia", "high", 1, 1, 1, 1, 1, 4.0),
    ("NOKIA-E63", "Nokia", "high", 1, 1, 1, 1, 1, 3.0),
    ("NOKIA-8800", "Nokia", "high", 1, 1, 1, 1, 0, 1.5),
    ("MOTO-E6", "Motorola", "high", 1, 1, 1, 1, 1, 2.0),
    ("SE-K810", "Sony Ericsson", "high", 1, 1, 1, 1, 0, 2.0),
    ("SAMSUNG-i908", "Samsung", "high", 1, 1, 1, 1, 1, 2.0),
    ("DOPOD-838", "Dopod", "high", 1, 1, 1, 1, 1, 2.0),
    ("LENOVO-O1", "Lenovo", "high", 1, 1, 1, 1, 1, 1.5),
)
PRICE_BANDS: tuple[str, ...] = ("low", "mid", "high")

#: The handset catalogue as columns (numpy arrays), ordered by price band.
HANDSET_MODELS: dict[str, np.ndarray] = {
    "handset_model": np.array([h[0] for h in _H]),
    "vendor": np.array([h[1] for h in _H]),
    "price_band": np.array([h[2] for h in _H]),
    "band_code": np.array([PRICE_BANDS.index(h[2]) for h in _H], dtype=np.int8),
    **{f"cap_{c}": np.array([bool(h[3 + i]) for h in _H]) for i, c in enumerate(CAPABILITIES)},
    "smartphone": np.array([bool(h[7]) for h in _H]),
    "weight": np.array([h[8] for h in _H], dtype=np.float64),
}

#: The mobile-newspaper editions: (product_id, content category, zh name, en name, monthly fee).
NEWSPAPER_EDITIONS: tuple[tuple[str, str, str, str, float], ...] = (
    ("MN_NEWS", "news", "手机报新闻版", "Mobile newspaper - News edition", 3.0),
    ("MN_SPORTS", "sports", "手机报体育版", "Mobile newspaper - Sports edition", 3.0),
    ("MN_FINANCE", "finance", "手机报财经版", "Mobile newspaper - Finance edition", 5.0),
    ("MN_ENT", "entertainment", "手机报娱乐版", "Mobile newspaper - Entertainment edition", 3.0),
)

# product_id, family, zh, en, content category, edition, monthly fee, free months, required capability
_P = (
    *((pid, "mobile_newspaper", zh, en, cat, cat, fee, 1, "mms") for pid, cat, zh, en, fee in NEWSPAPER_EDITIONS),
    ("RBT", "ringback_tone", "彩铃", "Ring-back tone", "music", None, 5.0, 0, None),
    ("SONG", "full_song", "整曲下载包月", "Full-song download (monthly)", "music", None, 8.0, 0, "mp3"),
    ("STOCK", "mobile_stock", "手机炒股", "Mobile stock trading", "finance", None, 10.0, 1, "java"),
    ("FETION", "fetion", "飞信", "Fetion", None, None, 0.0, 0, None),
    ("WAP", "wap_portal", "移动梦网WAP包月", "WAP portal (monthly)", None, None, 3.0, 1, "wap"),
)
#: The VAS catalogue as columns; ``family_code`` indexes ``PRODUCT_FAMILIES``.
VAS_PRODUCTS: dict[str, np.ndarray | list] = {
    "product_id": [p[0] for p in _P],
    "family": [p[1] for p in _P],
    "name_zh": [p[2] for p in _P],
    "name_en": [p[3] for p in _P],
    "content_category": [p[4] for p in _P],
    "edition": [p[5] for p in _P],
    "monthly_fee": np.array([p[6] for p in _P], dtype=np.float64),
    "free_months": np.array([p[7] for p in _P], dtype=np.int64),
    "required_capability": [p[8] for p in _P],
    "family_code": np.array([PRODUCT_FAMILIES.index(p[1]) for p in _P], dtype=np.int64),
}
for _cat in VAS_PRODUCTS["content_category"]:  # pragma: no cover - guards edits
    if _cat is not None and _cat not in CONTENT_CATEGORIES:
        raise RuntimeError(f"unknown content category {_cat!r}")


def branches_table(schema: pa.Schema) -> pa.Table:
    """The ``branches`` table (from :data:`workbench.data.tables.BRANCHES`)."""
    return pa.table({
        "branch_id": [b[0] for b in BRANCHES],
        "name_zh": [b[1] for b in BRANCHES],
        "name_en": [b[2] for b in BRANCHES],
        "is_capital": [b[0] == "urumqi" for b in BRANCHES],
    }).select(schema.names).cast(schema)


def handset_models_table(schema: pa.Schema) -> pa.Table:
    """The ``handset_models`` table."""
    return pa.table({n: HANDSET_MODELS[n] for n in schema.names}).cast(schema)


def vas_products_table(schema: pa.Schema) -> pa.Table:
    """The ``vas_products`` table."""
    return pa.table({n: VAS_PRODUCTS[n] for n in schema.names}).cast(schema)
