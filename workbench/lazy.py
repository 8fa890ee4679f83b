"""Names of a package imported on first use (PEP 562), for packages whose modules are heavy.

A package lists ``{public name: submodule}`` and gets the module-level ``__getattr__`` and
``__dir__`` that import the submodule when one of its names is first used, so an app kernel
that needs one light name does not pay for the package's heaviest module.

Examples
--------
In ``workbench/viz/__init__.py``::

    __all__ = list(_WHERE)
    __getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, str],
                 namespace: MutableMapping) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: name ``n`` is ``package.<where[n]>.n``, cached in
    ``namespace`` (the package's ``globals()``) once imported."""

    def __getattr__(name: str):
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
