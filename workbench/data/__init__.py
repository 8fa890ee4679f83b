"""The province data model, its sources, loader and the synthetic province.

Names load on first use (PEP 562), so ``import workbench.data.tables`` (as the
store and the app kernels do) does not pay for pandera or the generator.
"""
from __future__ import annotations

import importlib

from workbench.data.tables import (
    BRANCHES, BRANDS, CAPABILITIES, CONTENT_CATEGORIES, ORDER_CHANNELS, PRODUCT_FAMILIES,
    TABLE_ORDER, TABLES, USAGE_MEASURES, Column, Table, table,
)

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    **dict.fromkeys(("Source", "as_source", "connect", "connection", "require_tables"), "workbench.data.source"),
    **dict.fromkeys(
        ("load", "validate", "save", "Province", "Report", "Problem", "ExtraColumnWarning", "CHECKS"),
        "workbench.data.io",
    ),
    **dict.fromkeys(
        ("schema_for", "schemas", "resolve_as_of", "pandas_dtype", "PANDAS_DTYPES"), "workbench.data.schemas"
    ),
    **dict.fromkeys(("render_data_model", "write_data_model"), "workbench.data.docs"),
    **dict.fromkeys(
        ("generate_province", "load_truth", "draw_campaign_response", "default_truth_folder"),
        "workbench.data.synth",
    ),
}

__all__ = [
    "BRANCHES", "BRANDS", "CAPABILITIES", "CONTENT_CATEGORIES", "ORDER_CHANNELS", "PRODUCT_FAMILIES",
    "TABLE_ORDER", "TABLES", "USAGE_MEASURES", "Column", "Table", "table",
    *_LAZY,
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
