"""Fixtures shared by the whole test suite (keep this file generic; module-specific fixtures
belong in their test module)."""
from __future__ import annotations

import pytest

#: Jupyter/IPython locations redirected to a temporary folder for the test session.
JUPYTER_DIRS: dict[str, str] = {
    "JUPYTER_CONFIG_DIR": "jupyter_config",
    "JUPYTER_DATA_DIR": "jupyter_data",
    "JUPYTER_RUNTIME_DIR": "jupyter_runtime",
    "IPYTHONDIR": "ipython",
    "XDG_CONFIG_HOME": "xdg_config",
}


@pytest.fixture(scope="session", autouse=True)
def jupyter_env(tmp_path_factory):
    """Point Jupyter's and IPython's per-user folders at a temporary folder for the session.

    Kernels started by the tests (papermill, Voila, JupyterLab) then neither read
    nor write the developer's own configuration.  The venv's kernelspecs stay
    reachable: Jupyter's data path always includes ``sys.prefix/share/jupyter``.
    Yields the temporary root folder.
    """
    root = tmp_path_factory.mktemp("jupyter_env")
    with pytest.MonkeyPatch.context() as mp:
        for var, sub in JUPYTER_DIRS.items():
            path = root / sub
            path.mkdir()
            mp.setenv(var, str(path))
        mp.setenv("JUPYTER_PLATFORM_DIRS", "1")  # the new path layout, without a deprecation warning
        for var in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH"):  # no extra search paths from the caller
            mp.delenv(var, raising=False)
        yield root


@pytest.fixture(autouse=True)
def _reset_language():
    """Each test starts in the default language, whatever an earlier test set."""
    import workbench.i18n as i18n

    i18n._current = None
    yield
    i18n._current = None
