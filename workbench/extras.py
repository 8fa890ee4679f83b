"""Optional dependencies: the pip extras some code paths need, imported only on those paths.

Most users run the workbench on one machine against a SQLite store, so Dask and psycopg
are extras, not dependencies::

    pip install 'workbench[scale]'      # Dask: workbench.scale on a cluster
    pip install 'workbench[postgres]'   # psycopg: a PostgreSQL campaign store

A path that needs one calls :func:`require`, which imports the module or raises
:class:`~workbench.errors.MissingExtraError` saying which extra to install.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from workbench.errors import MissingExtraError

__all__ = ["EXTRAS", "require"]

#: Top-level module -> the extra of ``pyproject.toml`` that installs it.
EXTRAS: dict[str, str] = {
    "dask": "scale",
    "distributed": "scale",
    "psycopg": "postgres",
}


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module``, an optional dependency, or say which extra installs it.

    Parameters
    ----------
    module : str
        Dotted module name whose top-level package is a key of :data:`EXTRAS`
        (``"distributed"``, ``"dask.dataframe"``, ``"psycopg"``).
    purpose : str
        What needs it, for the message (``"a PostgreSQL store"``).

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingExtraError
        The module (or one it needs) cannot be imported; the message names the
        extra: ``pip install 'workbench[scale]'``.
    KeyError
        ``module`` belongs to no extra (a programming error).
    """
    extra = EXTRAS[module.split(".")[0]]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{purpose[:1].upper()}{purpose[1:]} needs the optional package {module.split('.')[0]!r} "
            f"(import of {module!r} failed: {exc}). Install the {extra!r} extra: "
            f"pip install 'workbench[{extra}]'.", extra=extra, module=module) from exc
