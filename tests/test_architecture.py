"""The architecture's rules, checked: templates and apps use public API only and hold no logic,
and every import contract of pyproject.toml fails when its rule is broken on purpose."""
from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted((ROOT / "templates").glob("*.ipynb"))
APPS = sorted((ROOT / "notebooks" / "apps").glob("*.ipynb"))
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: Statements a template's code cell may not hold: logic belongs in the package, where it is tested.
LOGIC = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.AsyncFor, ast.While)


def _code_cells(path: Path) -> list[tuple[int, ast.Module]]:
    """(index, parsed source) of each code cell; IPython magics and shell lines are blanked first."""
    nb = nbformat.read(path, as_version=4)
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines()]
        cells.append((index, ast.parse("\n".join(lines), filename=f"{path.name} cell {index}")))
    return cells


def _private_use(module: str, name: str | None) -> str | None:
    """Why ``from module import name`` (or ``import module``) is not public API, or None when it is."""
    if any(part.startswith("_") for part in module.split(".")):
        return f"{module} is a private module"
    if name is None:
        return None
    if name.startswith("_"):
        return f"{name} is private"
    mod = importlib.import_module(module)
    if importlib.util.find_spec(f"{module}.{name}") is not None if hasattr(mod, "__path__") else False:
        return None  # a public submodule
    public = getattr(mod, "__all__", None)
    if public is None:
        return f"{module} declares no __all__"
    return None if name in public else f"{name} is not in {module}.__all__"


@pytest.mark.parametrize("path", TEMPLATES + APPS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_templates_and_apps_import_only_public_names(path):
    problems = []
    for index, tree in _code_cells(path):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                uses = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                uses = [(node.module, alias.name) for alias in node.names]
            else:
                continue
            for module, name in uses:
                if module.split(".")[0] != "workbench":
                    continue
                why = _private_use(module, name)
                if why:
                    problems.append(f"cell {index}: {why}")
    assert not problems, f"{path.name} uses what is not public API: {problems}"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_code_cells_hold_no_def_class_or_loop(path):
    found = [f"cell {index} line {node.lineno}: {type(node).__name__}"
             for index, tree in _code_cells(path) for node in ast.walk(tree) if isinstance(node, LOGIC)]
    assert not found, f"{path.name} holds logic that belongs in the package: {found}"


def test_the_checks_see_what_they_look_for(tmp_path):
    """The two checks above find a loop, a function and a private name when there is one."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%matplotlib inline\nfrom workbench.checks import check_int"),
        nbformat.v4.new_code_cell("for x in range(3):\n    print(x)\ndef f():\n    pass"),
    ])
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    kinds = [type(n).__name__ for _, tree in _code_cells(path) for n in ast.walk(tree) if isinstance(n, LOGIC)]
    assert kinds == ["For", "FunctionDef"]
    assert _private_use("workbench.checks", "check_int") is None
    assert _private_use("workbench.templates", "_coerce") == "_coerce is private"
    assert _private_use("workbench.features._db", "connection") == "workbench.features._db is a private module"
    assert _private_use("workbench", "report") is None  # a public subpackage
    assert "is not in workbench.errors.__all__" in _private_use("workbench.errors", "Path")


# --- import contracts ---------------------------------------------------------------------------

#: One deliberate breach per contract id: (module added to the copied package, its offending import).
BREACHES = {
    "foundation": ("workbench/data/_breach.py", "import workbench.viz"),
    "metrics-compute": ("workbench/metrics/_breach.py", "import plotly.graph_objects"),
    "viz-draws": ("workbench/viz/_breach.py", "import workbench.store"),
    "no-ground-truth": ("workbench/tracking/_breach.py", "import workbench.demo"),
    "compute-returns-data": ("workbench/status/_breach.py", "import workbench.report"),
    "cli-on-top": ("workbench/apps/_breach.py", "import workbench.commands"),
}


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    """A copy of the package and of pyproject.toml that lint-imports reads instead of the installed one."""
    root = tmp_path_factory.mktemp("contracts")
    shutil.copytree(ROOT / "workbench", root / "workbench",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def _lint_imports(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "400"}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=180)


def test_every_contract_has_a_breach_below():
    assert {c["id"] for c in CONTRACTS} == set(BREACHES)


def test_the_unbroken_copy_keeps_every_contract(package_copy):
    proc = _lint_imports(package_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in proc.stdout


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c["id"])
def test_each_contract_fails_on_a_deliberate_breach(package_copy, contract):
    relative, statement = BREACHES[contract["id"]]
    offender = package_copy / relative
    module = relative.removesuffix(".py").replace("/", ".")
    offender.write_text(f'"""A deliberate breach of the {contract["id"]} contract."""\n{statement}\n',
                        encoding="utf-8")
    try:
        proc = _lint_imports(package_copy, "--contract", contract["id"])
    finally:
        offender.unlink()
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert f"{contract['name']} BROKEN" in output and "Contracts: 0 kept, 1 broken." in output
    assert module in output  # the new module, which exists only in the copy: the copy was analysed


# --- markers ------------------------------------------------------------------------------------


def test_a_kernel_started_by_an_unmarked_test_fails_it(request):
    """conftest.py's guard: test-fast deselects ``kernel`` tests, so an unmarked kernel start must fail."""
    import asyncio

    import conftest
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    assert request.node.get_closest_marker("kernel") is None and conftest._RUNNING["item"] is request.node
    with pytest.raises(pytest.fail.Exception, match=r"test_a_kernel_started_by_an_unmarked_test_fails_it starts a "
                                                    r"Jupyter kernel .* not marked @pytest.mark.kernel"):
        asyncio.run(LocalProvisioner.launch_kernel(object(), ["python", "-c", "pass"]))


def test_markers_are_declared_and_test_fast_deselects_them():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    declared = {m.split(":")[0] for m in options["markers"]}
    assert {"slow", "browser", "postgres", "kernel"} <= declared and "--strict-markers" in options["addopts"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert '-m "not slow and not browser and not postgres and not kernel"' in makefile


@pytest.mark.parametrize("package", ["workbench.apps", "workbench.viz"])
def test_no_lazily_exported_name_is_also_a_submodule(package):
    """Importing submodule ``p.x`` binds ``p.x`` to the module: a lazily exported function also named ``x``
    would then be shadowed, and ``from p import x`` would give the module (template 05 met this with
    ``monitor_app``, the function, and ``workbench.apps.monitor_app``, the module)."""
    import importlib
    import pkgutil

    pkg = importlib.import_module(package)
    submodules = {m.name for m in pkgutil.iter_modules(pkg.__path__)}
    assert submodules, package
    assert not submodules & set(pkg.__all__), sorted(submodules & set(pkg.__all__))


def test_a_lazily_exported_function_stays_itself_after_its_module_is_imported():
    import importlib

    importlib.import_module("workbench.apps.live_monitor")
    from workbench.apps import monitor_app

    assert callable(monitor_app) and monitor_app.__module__ == "workbench.apps.live_monitor"
