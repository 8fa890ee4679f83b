"""The province data model, its sources, loader and the synthetic province."""
from workbench.data.source import Source, as_source, connect
from workbench.data.tables import (
    BRANCHES, BRANDS, CAPABILITIES, CONTENT_CATEGORIES, ORDER_CHANNELS, PRODUCT_FAMILIES,
    TABLE_ORDER, TABLES, USAGE_MEASURES, Column, Table, table,
)

__all__ = [
    "Source", "as_source", "connect",
    "BRANCHES", "BRANDS", "CAPABILITIES", "CONTENT_CATEGORIES", "ORDER_CHANNELS", "PRODUCT_FAMILIES",
    "TABLE_ORDER", "TABLES", "USAGE_MEASURES", "Column", "Table", "table",
]
