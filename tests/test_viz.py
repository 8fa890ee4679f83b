"""The viz package: every area's public names, importable from ``workbench.viz``, each module on first use."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import workbench.viz as viz


def test_every_area_exports_exactly_its_all():
    names = []
    for area in viz._AREAS:
        module = importlib.import_module(f"workbench.viz.{area}")
        names += module.__all__
        for name in module.__all__:
            assert getattr(viz, name) is getattr(module, name)
    assert viz.__all__ == names and len(set(names)) == len(names)


def test_a_figure_module_is_imported_only_when_one_of_its_names_is_used():
    code = ("import sys; from workbench.viz import progress_figure; "
            "print('workbench.viz.monitor' in sys.modules, 'workbench.viz.model' in sys.modules, "
            "'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False", "False"]


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'workbench.viz' has no attribute 'pie_chart'"):
        viz.pie_chart  # noqa: B018
    with pytest.raises(ImportError):
        from workbench.viz import pie_chart  # noqa: F401
