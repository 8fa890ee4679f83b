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


@pytest.fixture(scope="session")
def demo_chain(tmp_path_factory):
    """The executed chain of templates 01-06 (two demos, zh then en, in one workspace): see tests/chain_fixtures.py.

    Defined here, once for the session (a fixture imported into several modules would run once per module);
    under pytest-xdist once for the whole run, whichever worker asks first.
    """
    from chain_fixtures import shared_demo_chain

    return shared_demo_chain(tmp_path_factory)


@pytest.fixture(autouse=True)
def _reset_language():
    """Each test starts in the default language, whatever an earlier test set."""
    import workbench.i18n as i18n

    i18n._current = None
    yield
    i18n._current = None


#: The test being run (setup, call and teardown), for the kernel-launch guard below.
_RUNNING: dict[str, object] = {"item": None}


def pytest_configure(config):
    """Every local Jupyter kernel this process starts is checked against the ``kernel`` marker."""
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    if getattr(LocalProvisioner.launch_kernel, "_workbench_guard", False):
        return
    launch = LocalProvisioner.launch_kernel

    async def launch_kernel(self, cmd, **kwargs):
        item = _RUNNING["item"]
        if item is not None and item.get_closest_marker("kernel") is None:
            pytest.fail(f"{item.nodeid} starts a Jupyter kernel (a template run, nbclient, a kernel manager) "
                        "but is not marked @pytest.mark.kernel, so `make test-fast` would run it.", pytrace=False)
        return await launch(self, cmd, **kwargs)

    launch_kernel._workbench_guard = True
    LocalProvisioner.launch_kernel = launch_kernel


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _RUNNING["item"] = item
    try:
        return (yield)
    finally:
        _RUNNING["item"] = None


#: Marker a test must carry when it uses one of these fixtures (or parameters): ``make test-fast``
#: deselects them, so a machine without Chromium or PostgreSQL can run it.
FIXTURE_MARKERS = {"browser": "browser", "postgres_url": "postgres", "_postgres_slot": "postgres"}
#: Fixtures whose ``"postgresql"`` parameter needs the PostgreSQL server.
BACKEND_FIXTURES = ("store_engine", "empty_store_url")


def _missing_markers(item) -> list[str]:
    names = set(getattr(item, "fixturenames", ()))
    wanted = {marker for fixture, marker in FIXTURE_MARKERS.items() if fixture in names}
    params = getattr(getattr(item, "callspec", None), "params", {})
    if any(params.get(f) == "postgresql" for f in BACKEND_FIXTURES):
        wanted.add("postgres")
    return sorted(m for m in wanted if item.get_closest_marker(m) is None)


def pytest_collection_modifyitems(config, items):
    """Refuse a test that needs Chromium or PostgreSQL without the marker that lets test-fast skip it."""
    unmarked = [f"{item.nodeid} (needs @pytest.mark.{', '.join(missing)})"
                for item in items if (missing := _missing_markers(item))]
    if unmarked:
        raise pytest.UsageError("tests without their marker:\n  " + "\n  ".join(unmarked))


def pytest_sessionfinish(session, exitstatus):
    """A run whose tests were all deselected by ``-m`` passes instead of exiting 5 ("no tests ran").

    ``make test-fast PYTEST_ARGS=tests/test_store_concurrency.py`` selects only PostgreSQL tests,
    which test-fast deselects: nothing failed.  A run that collects no test at all still fails.
    """
    deselected = session.config.pluginmanager.get_plugin("terminalreporter")
    count = len(getattr(deselected, "stats", {}).get("deselected", ())) if deselected else 0
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and count:
        session.exitstatus = pytest.ExitCode.OK
