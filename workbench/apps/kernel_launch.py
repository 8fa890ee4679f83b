"""Start a page's kernel: ``python -m workbench.apps.kernel_launch -f CONNECTION_FILE`` (ipykernel's launcher, leaner).

:class:`workbench.apps.kernels.AppKernelManager` starts every app kernel with this module in place of
``ipykernel_launcher`` (:func:`workbench.apps.kernels.app_kernel_cmd`).  Before ipykernel starts:

- debugpy is hidden, so the kernel has no debugger: ipykernel imports debugpy and pydevd for it at
  start (~8 MiB RSS a kernel, measured), and nobody debugs a served page;
- pyarrow is hidden from pandas (:func:`workbench.apps.heap.hide_pyarrow_from_pandas`); nothing heavy is
  imported before the kernel answers (a kernel that stays "starting" is culled).

The kernel is otherwise ipykernel's own (same application, same arguments).
"""
from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["main"]


def main() -> None:
    """Hide debugpy, hide pyarrow from pandas, then run ipykernel's application as its launcher does."""
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]  # as ipykernel_launcher: the notebook's folder is added back by the kernel itself
    sys.modules["debugpy"] = None  # ipykernel's `from debugpy.server import api` fails: no debugger
    from workbench.apps.heap import hide_pyarrow_from_pandas

    hide_pyarrow_from_pandas()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
