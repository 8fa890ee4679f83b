"""Figure builders: each returns a plotly ``go.Figure`` and never calls ``.show()``.

One module per area: ``status``, ``goal``, ``model``, ``campaign``, ``effect``, ``quality``, ``monitor``
(a released campaign's progress, in the apps and template 05), ``overview`` (a data source's tables).
Labels come from :mod:`workbench.i18n`.
"""
import importlib

_AREAS = ("status", "goal", "model", "campaign", "effect", "quality", "monitor", "overview")
__all__: list[str] = []
for _area in _AREAS:
    try:
        _module = importlib.import_module(f"workbench.viz.{_area}")
    except ModuleNotFoundError as _exc:  # an area not built yet
        if _exc.name != f"workbench.viz.{_area}":
            raise
        continue
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
    __all__.extend(_module.__all__)
