"""workbench - a Jupyter-centric precision-marketing workbench for mobile operators.

Subpackages (each re-exports its public API in ``__all__``):

``data``      the province data model, schemas, loader, synthetic province
``features``  per-subscriber features for a snapshot month (DuckDB)
``status``    status analysis: KPIs, penetration, retention, drivers, potential
``models``    target look-alike model, preference model, explanations, registry
``metrics``   classification / uplift / experiment metrics (compute only)
``campaign``  campaign spec, contact policy, control group, channel plan, lists
``store``     the campaign store (SQLAlchemy, Alembic)
``tracking``  attribution, effect, quality, simulator
``viz``       plotly figure builders (draw only)
``apps``      Voila app widget builders, identity and roles
``i18n``      the label catalogue (zh default, en)
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("workbench")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
