"""The province data model, its sources, loader and the synthetic province."""
from workbench.data.docs import render_data_model, write_data_model
from workbench.data.io import CHECKS, ExtraColumnWarning, Problem, Province, Report, load, save, validate
from workbench.data.schemas import PANDAS_DTYPES, pandas_dtype, resolve_as_of, schema_for, schemas
from workbench.data.source import Source, as_source, connect
from workbench.data.synth import default_truth_folder, draw_campaign_response, generate_province, load_truth
from workbench.data.tables import (
    BRANCHES, BRANDS, CAPABILITIES, CONTENT_CATEGORIES, ORDER_CHANNELS, PRODUCT_FAMILIES,
    TABLE_ORDER, TABLES, USAGE_MEASURES, Column, Table, table,
)

__all__ = [
    "load", "validate", "save", "Province", "Report", "Problem", "ExtraColumnWarning", "CHECKS",
    "schema_for", "schemas", "resolve_as_of", "pandas_dtype", "PANDAS_DTYPES",
    "render_data_model", "write_data_model",
    "generate_province", "load_truth", "draw_campaign_response", "default_truth_folder",
    "Source", "as_source", "connect",
    "BRANCHES", "BRANDS", "CAPABILITIES", "CONTENT_CATEGORIES", "ORDER_CHANNELS", "PRODUCT_FAMILIES",
    "TABLE_ORDER", "TABLES", "USAGE_MEASURES", "Column", "Table", "table",
]
