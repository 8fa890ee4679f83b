"""Subscription spells, stable subscribers and per-subscriber features of a snapshot month.

Everything here is DuckDB SQL over a source (folder of Parquet/CSV, DuckDB file,
``{table: DataFrame}`` or an open connection from
:func:`workbench.data.source.connect`).

>>> from workbench.features import build_features, stable_subscribers   # doctest: +SKIP
>>> feats = build_features("sample_data/province", snapshot="2026-10", window=6)   # doctest: +SKIP
>>> stable = stable_subscribers("sample_data/province", "mobile_newspaper", "2026-10")   # doctest: +SKIP

The feature catalogue (:data:`FEATURES`) documents every column; ``docs/features.md``
is rendered from it.
"""
from workbench.features.build import (
    REQUIRED_COLUMNS, apply_feature_dtypes, build_features, feature_sql, read_features,
)
from workbench.features.catalogue import (
    FAMILIES, FEATURE_INDEX, FEATURES, Feature, feature, feature_names, render_feature_doc, write_feature_doc,
)
from workbench.features.subscriptions import (
    active_subscribers, family_spells, monthly_flows, stable_subscribers, subscriber_status,
    subscription_spells,
)
from workbench.features.vas import family_feature_names

__all__ = [
    "build_features", "feature_sql", "read_features", "apply_feature_dtypes", "REQUIRED_COLUMNS",
    "FEATURES", "FEATURE_INDEX", "FAMILIES", "Feature", "feature", "feature_names", "family_feature_names",
    "render_feature_doc", "write_feature_doc",
    "subscription_spells", "family_spells", "active_subscribers", "stable_subscribers", "subscriber_status",
    "monthly_flows",
]
