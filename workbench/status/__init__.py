"""Status analysis of a product family at a snapshot (template 01-02).

Product KPIs by month, penetration by segment, retention by order cohort,
drivers of uptake (information value, top-bin lift) and potential (how many
non-subscribers resemble the stable subscribers).  Every function returns a
DataFrame; :mod:`workbench.viz.status` draws them.

>>> from workbench.status import product_kpis, penetration   # doctest: +SKIP
>>> product_kpis("sample_data/province", "mobile_newspaper")   # doctest: +SKIP
"""
from workbench.status import analysis, goal
from workbench.status.analysis import *  # noqa: F401,F403 - scope, summaries, findings (template 01)
from workbench.status.goal import *  # noqa: F401,F403 - goal proposal and check (template 02)
from workbench.status.drivers import (
    MISSING, Binning, fit_binning, information_value, model_sample, own_feature_names, uptake_drivers, woe_table,
)
from workbench.status.kpis import KPI_COLUMNS, product_kpis
from workbench.status.penetration import (
    DEFAULT_AGE_BANDS, DEFAULT_ARPU_BANDS, DIMENSIONS, UNKNOWN, assign_bands, band_labels, penetration,
)
from workbench.status.potential import FUNNEL_STAGES, Lookalike, fit_lookalike, potential, potential_funnel
from workbench.status.retention import average_retention, retention_curves

__all__ = [
    "product_kpis", "KPI_COLUMNS",
    "penetration", "assign_bands", "band_labels", "DEFAULT_AGE_BANDS", "DEFAULT_ARPU_BANDS", "DIMENSIONS", "UNKNOWN",
    "retention_curves", "average_retention",
    "information_value", "woe_table", "fit_binning", "Binning", "uptake_drivers", "own_feature_names",
    "model_sample", "MISSING",
    "potential", "potential_funnel", "fit_lookalike", "Lookalike", "FUNNEL_STAGES",
    *analysis.__all__, *goal.__all__,
]
