"""What an app kernel holds: pandas without pyarrow, and the C heap's free pages given back after each cell.

Every kernel ``workbench serve`` starts runs :data:`STARTUP_FILE` first (IPython runs the file named
by ``PYTHONSTARTUP``, set in :data:`workbench.apps.kernels.KERNEL_ENV`), which calls
:func:`prepare_app_kernel`:

- :func:`hide_pyarrow_from_pandas` - pandas 3 imports pyarrow when it is installed and keeps text
  columns in Arrow; an app kernel's lists are a few thousand rows, and pyarrow's libraries cost
  every kernel ~33 MiB RSS (a kernel with what the executor app imports: 158 -> 125 MiB, measured with
  ``/proc/PID/smaps_rollup`` after each import).  pandas finds no pyarrow, so its text columns use
  the ``python`` storage of the same ``str`` dtype (same values, same missing values); pyarrow stays
  importable once pandas is imported, for whatever needs it (reading Parquet), at that caller's cost.
- :func:`trim_after_each_cell` - a page's notebook reads its rows from the store, encodes them for
  the grid and frees the intermediate Python objects; glibc's allocator keeps most of those pages
  for reuse, so the kernel would stay at its high-water mark for the rest of the day.
  ``malloc_trim(0)`` after each cell returns them (-6 MiB RSS in an executor app with a 20,000-row
  list, measured with ``benchmarks/app.py``'s kernel figures).
- :func:`release_plotly_validators` (after each cell too, and after an app draws a figure) - plotly
  reads the parameters of every one of its validators (``validators/_validators.json``, 3 MB) when
  the first figure is made and keeps them for the process's life (~8 MiB of Python objects, 113,000
  of them).  The validators a figure used stay made, so the parameters are dropped once it is drawn;
  they are read again only when a later figure needs a validator not yet made, and dropped again.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import sys
from pathlib import Path

__all__ = ["STARTUP_FILE", "trim_heap", "trim_after_each_cell", "hide_pyarrow_from_pandas",
           "release_plotly_validators", "prepare_app_kernel"]

#: The file every app kernel runs at its start (``PYTHONSTARTUP``): :func:`prepare_app_kernel`.
STARTUP_FILE = Path(__file__).with_name("kernel_startup.py")
_LIBC: list = []


def trim_heap() -> bool:
    """Return the C heap's free pages to the system (glibc ``malloc_trim(0)``).

    Returns
    -------
    bool
        False where there is no glibc (nothing done).
    """
    if not _LIBC:
        name = ctypes.util.find_library("c")
        try:
            _LIBC.append(ctypes.CDLL(name).malloc_trim if name else None)
        except (OSError, AttributeError):
            _LIBC.append(None)
    if _LIBC[0] is None:
        return False
    _LIBC[0](0)
    return True


class _ValidatorParams:
    """plotly's validator parameters, read from its file at a validator not yet made, dropped by :meth:`release`.

    Stands in for the dict plotly's ``ValidatorCache`` keeps (it calls ``.get``): a figure whose
    validators are all made reads nothing.
    """

    def __init__(self, path: str):
        self._path = path
        self._data: dict | None = None

    def get(self, key, default=None):
        if self._data is None:
            with open(self._path) as f:  # as plotly reads it
                self._data = json.load(f)
        return self._data.get(key, default)

    def __getitem__(self, key):
        found = self.get(key, _MISSING)
        if found is _MISSING:
            raise KeyError(key)
        return found

    def release(self) -> bool:
        held, self._data = self._data is not None, None
        return held


_MISSING = object()


def release_plotly_validators() -> bool:
    """Drop plotly's parameters of the validators not yet made (read again only when a figure needs one).

    Returns
    -------
    bool
        True when they were held and are dropped; False when plotly was not imported, had not read
        them, or keeps them otherwise (another plotly release: nothing done).
    """
    module = sys.modules.get("plotly.validator_cache")
    cache = getattr(module, "ValidatorCache", None)
    current = getattr(cache, "_json_cache", None)
    if isinstance(current, _ValidatorParams):
        return current.release()
    if not isinstance(current, dict):
        return False
    cache._json_cache = _ValidatorParams(os.path.join(os.path.dirname(module.__file__), "validators",
                                                      "_validators.json"))
    return True


def _after_cell(*_args) -> None:
    release_plotly_validators()
    trim_heap()


def trim_after_each_cell(shell=None) -> bool:
    """Run :func:`trim_heap` after each executed cell of the IPython ``shell`` (default: the running one).

    Returns
    -------
    bool
        True when the hook is (already) registered; False outside IPython or without glibc.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not trim_heap():
        return False
    if _after_cell not in shell.events.callbacks["post_execute"]:
        shell.events.register("post_execute", _after_cell)
    return True


class _PyarrowHiddenFromPandas:
    """A ``sys.meta_path`` finder refusing pyarrow until pandas is imported, then stepping aside for good."""

    def find_spec(self, name, path=None, target=None):
        if name != "pyarrow" and not name.startswith("pyarrow."):
            return None
        pandas = sys.modules.get("pandas")
        if pandas is None or getattr(getattr(pandas, "__spec__", None), "_initializing", False):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden from pandas in an app kernel)", name=name)
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        return None  # pandas is imported: the usual finders import pyarrow for whoever asks now


def hide_pyarrow_from_pandas() -> bool:
    """Make pandas, when it is imported, find no pyarrow (text in Python storage); pyarrow stays importable after.

    Nothing is imported here (a kernel starting must answer quickly: the server culls one that
    stays "starting").  Until pandas has been imported, ``import pyarrow`` raises
    ``ModuleNotFoundError``; from then on it imports as usual, for whatever needs it (reading Parquet).

    Returns
    -------
    bool
        True when pyarrow is hidden now; False when pandas or pyarrow is already imported (nothing
        changed: a process keeps the storage it started with) or it is hidden already.
    """
    if "pandas" in sys.modules or "pyarrow" in sys.modules:
        return False
    if any(isinstance(finder, _PyarrowHiddenFromPandas) for finder in sys.meta_path):
        return False
    sys.meta_path.insert(0, _PyarrowHiddenFromPandas())
    return True


def prepare_app_kernel(shell=None) -> None:
    """What every app kernel runs at its start: :func:`hide_pyarrow_from_pandas`, :func:`trim_after_each_cell`."""
    hide_pyarrow_from_pandas()
    trim_after_each_cell(shell)
