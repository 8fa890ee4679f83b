"""Dependencies: every import declared with bounds, the optional extras, the jupyter_client patch guard."""
from __future__ import annotations

import ast
import logging
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import workbench
from workbench.errors import MissingExtraError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(workbench.__file__).resolve().parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
BASE = [Requirement(r) for r in PROJECT["dependencies"]]
EXTRAS = {name: [Requirement(r) for r in reqs] for name, reqs in PROJECT["optional-dependencies"].items()}
EXTRA_ONLY = {"dask": "scale", "distributed": "scale", "psycopg": "postgres"}


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _imports(tree: ast.AST, *, top_level_only: bool = False) -> set[str]:
    """Top-level names of the absolute imports in ``tree`` (only module-level statements when asked)."""
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _third_party(names: set[str]) -> set[str]:
    return {n for n in names if n not in sys.stdlib_module_names and n != "workbench" and n != "__future__"}


def _sources() -> dict[Path, ast.AST]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_package_workbench_imports_is_declared():
    dists = metadata.packages_distributions()
    declared = {_canonical(r.name) for r in BASE} | {_canonical(r.name) for reqs in EXTRAS.values() for r in reqs}
    missing = {}
    for path, tree in _sources().items():
        for module in _third_party(_imports(tree)):
            names = {_canonical(d) for d in dists.get(module, [module])}
            if not names & declared:
                missing.setdefault(module, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


@pytest.mark.parametrize("req", BASE + [r for reqs in EXTRAS.values() for r in reqs], ids=str)
def test_every_dependency_has_bounds_the_installed_release_meets(req):
    operators = {spec.operator for spec in req.specifier}
    assert ">=" in operators, f"{req}: no lower bound"
    if req.name not in ("packaging",):  # the one tool whose releases keep compatibility by policy
        assert "<" in operators, f"{req}: no upper bound"
    installed = metadata.version(req.name)
    assert req.specifier.contains(installed, prereleases=True), f"{req.name} {installed} is outside {req.specifier}"


def test_dask_and_psycopg_are_extras_imported_only_where_needed():
    base = {_canonical(r.name) for r in BASE}
    assert not base & {"dask", "distributed", "psycopg"}
    for module, extra in EXTRA_ONLY.items():
        assert module in {_canonical(r.name) for r in EXTRAS[extra]}
    assert any("distributed" in r.extras for r in EXTRAS["scale"] if r.name == "dask")
    eager = {str(p.relative_to(ROOT)): sorted(_imports(t, top_level_only=True) & set(EXTRA_ONLY))
             for p, t in _sources().items()}
    assert not {p: m for p, m in eager.items() if m}, "module-level import of an optional package"


def test_make_test_installs_the_extras_and_the_linters():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "'.[test,scale,postgres]'" in makefile
    test_extra = {_canonical(r.name) for r in EXTRAS["test"]}
    assert {"ruff", "import-linter", "pytest"} <= test_extra
    assert '".[test,scale,postgres]"' in (ROOT / "environment.yml").read_text(encoding="utf-8")


@pytest.fixture
def without(monkeypatch):
    """Make modules unimportable for the test (``None`` in ``sys.modules`` stops their import)."""
    def hide(*modules: str) -> None:
        for name in modules:
            for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                monkeypatch.delitem(sys.modules, loaded)
            monkeypatch.setitem(sys.modules, name, None)
    return hide


def test_a_postgresql_store_without_psycopg_names_the_postgres_extra(without):
    from workbench.store import engine_for

    without("psycopg")
    for url in ("postgresql://u@127.0.0.1:1/x", "postgresql+psycopg://u@127.0.0.1:1/x"):
        with pytest.raises(MissingExtraError, match=r"pip install 'workbench\[postgres\]'") as info:
            engine_for(url)
        assert (info.value.extra, info.value.module) == ("postgres", "psycopg")
        assert isinstance(info.value, ImportError)


def test_a_sqlite_store_needs_no_psycopg(without, tmp_path):
    from workbench.store import engine_for

    without("psycopg")
    engine = engine_for(f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert engine.url.get_backend_name() == "sqlite"
    engine.dispose()


def test_a_dask_scheduler_without_dask_names_the_scale_extra(without, monkeypatch):
    from workbench.scale import get_client, local_cluster, resolve_scheduler, using_scheduler

    monkeypatch.delenv("WORKBENCH_SCHEDULER", raising=False)
    without("dask", "distributed")
    assert resolve_scheduler(None) is None            # in-process needs no Dask
    assert get_client(None) is None
    for call in (lambda: get_client("local"), lambda: get_client("tcp://127.0.0.1:1"),
                 lambda: using_scheduler("local").__enter__(), lambda: local_cluster(1)):
        with pytest.raises(MissingExtraError, match=r"pip install 'workbench\[scale\]'") as info:
            call()
        assert info.value.extra == "scale"


def test_reading_parts_as_a_dask_frame_without_dask_names_the_scale_extra(without, tmp_path):
    import pandas as pd

    from workbench.scale import read_dask, read_parts

    pd.DataFrame({"subscriber_id": [1, 2]}).to_parquet(tmp_path / "part-00000.parquet")
    without("dask")
    assert read_parts(tmp_path).index.tolist() == [1, 2]   # the pandas path needs no Dask
    with pytest.raises(MissingExtraError, match=r"'dask'.*pip install 'workbench\[scale\]'"):
        read_dask(tmp_path)


# --- the jupyter_client patch of apps/server.py -------------------------------------------------


@pytest.fixture
def unpatched_client(monkeypatch):
    """``AsyncZMQSocketChannel.get_msg`` as jupyter_client defines it, restored after the test."""
    from jupyter_client.channels import AsyncZMQSocketChannel

    original = AsyncZMQSocketChannel.get_msg
    if getattr(original, "_workbench_sliced", False):  # patched by an earlier test of this session
        original = original.__wrapped__
    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", original)
    return AsyncZMQSocketChannel


def test_poll_slicing_is_applied_on_the_installed_jupyter_client(unpatched_client):
    import jupyter_client

    from workbench.apps.server import SLICED_JUPYTER_CLIENT, slice_kernel_client_polls

    low, high = SLICED_JUPYTER_CLIENT
    installed = tuple(int(x) for x in jupyter_client.__version__.split(".")[:2])
    assert low <= installed < high, "the installed jupyter_client is outside the range the patch was written for"
    assert slice_kernel_client_polls() is True
    assert unpatched_client.get_msg._workbench_sliced is True
    assert slice_kernel_client_polls() is True  # applied once


@pytest.mark.parametrize("version", ["9.0.0", "7.4.9", "10.1", "dev"])
def test_poll_slicing_is_not_applied_outside_the_releases_it_was_written_for(unpatched_client, monkeypatch,
                                                                              caplog, version):
    import jupyter_client

    from workbench.apps.server import slice_kernel_client_polls

    before = unpatched_client.get_msg
    monkeypatch.setattr(jupyter_client, "__version__", version)
    with caplog.at_level(logging.WARNING, logger="workbench.apps.server"):
        assert slice_kernel_client_polls() is False
    assert unpatched_client.get_msg is before
    assert not getattr(unpatched_client.get_msg, "_workbench_sliced", False)
    assert f"jupyter_client {version} is outside" in caplog.text and "left unpatched" in caplog.text
