"""Figure builders: each returns a plotly ``go.Figure`` and never calls ``.show()``.

One module per area: ``status``, ``goal``, ``model``, ``campaign``, ``effect``, ``quality``, ``monitor``
(a released campaign's progress, in the apps and template 05), ``overview`` (a data source's tables),
``monitoring`` (a model's drift and decay, template 09).
Labels come from :mod:`workbench.i18n`.

Every area's public names (its ``__all__``) are importable from here; an area's module is
imported on first use of one of its names, so an app that draws only progress charts does
not import what the model figures need (scikit-learn, LightGBM).
"""
import ast
import importlib

from workbench.lazy import lazy_exports
from pathlib import Path

_AREAS = ("status", "goal", "model", "campaign", "effect", "quality", "monitor", "overview", "triggers", "monitoring")


def _declared(area: str) -> list[str] | None:
    """The names in the literal ``__all__`` of ``viz/<area>.py``, read from its source without importing it.

    ``[]`` for an area not built yet; ``None`` when ``__all__`` is not a literal list.
    """
    path = Path(__file__).with_name(f"{area}.py")
    if not path.is_file():
        return []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(target, ast.Name) and target.id == "__all__" for target in targets):
            try:
                return [str(name) for name in ast.literal_eval(node.value)]
            except ValueError:
                return None
    return None


#: public name -> the area module that defines it
_WHERE: dict[str, str] = {}
for _area in _AREAS:
    _names = _declared(_area)
    if _names is None:  # a computed __all__: import the module to read it
        _names = list(importlib.import_module(f"workbench.viz.{_area}").__all__)
    _WHERE.update(dict.fromkeys(_names, _area))
__all__ = list(_WHERE)


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())
