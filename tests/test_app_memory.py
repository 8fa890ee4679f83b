"""What an open app's kernel holds: no heavy module it does not draw with (no pyarrow, no debugger), no
docstrings, Arrow on the system allocator, the C heap trimmed after each cell, plotly's validator parameters
dropped once a figure is drawn, and no fetched rows kept alive (or copied per row) by the store's frames.

The figures (RSS / PSS per open app, the server with 20 and 50 executors) are in ``benchmarks/app.py``.
"""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from test_app_executor import EX_U, USERS, campaign_members, seed_campaign

from workbench.apps import heap, kernels
from workbench.apps.kernels import (
    APP_KERNEL_LAUNCHER, DEFAULT_PRELOAD, KERNEL_ENV, AppKernelManager, OwnedKernelManager, app_kernel_cmd,
    kernel_owner,
)
from workbench.store import SYSTEM_USER, PasswordPolicy, Store, User
from workbench.store.core import _shared_texts

ROOT = Path(__file__).resolve().parents[1]
#: Modules an executor app never needs: model training and scoring, SQL engines, statistics, notebook I/O.
HEAVY_MODULES = ("lightgbm", "sklearn", "scipy", "statsmodels", "duckdb", "optbinning", "nbformat", "papermill",
                 "matplotlib", "workbench.models", "workbench.features", "workbench.tracking", "workbench.notebook",
                 # pandas keeps text in Python storage in an app kernel (workbench.apps.heap); no debugger
                 "pyarrow", "debugpy", "pydevd", "_pydevd_bundle")


def run(coro):
    import asyncio

    return asyncio.run(coro)


def test_the_heap_is_trimmed_after_each_cell_once():
    from IPython.core.events import EventManager, available_events

    shell = SimpleNamespace(events=EventManager(None, available_events))
    assert heap.trim_after_each_cell(shell) is True
    assert heap.trim_after_each_cell(shell) is True  # a second call does not register it twice
    assert shell.events.callbacks["post_execute"] == [heap._after_cell]
    shell.events.trigger("post_execute")
    assert heap.trim_after_each_cell(None) is False  # outside IPython: nothing to hook


def test_every_kernel_gets_the_kernel_env_pooled_or_not(monkeypatch):
    started: list[dict] = []

    async def fake_start(self, **kwargs):
        started.append(kwargs)
        return kwargs["kernel_id"]

    monkeypatch.setattr(kernels.AsyncMappingKernelManager, "start_kernel", fake_start)
    manager = OwnedKernelManager()
    with kernel_owner("ana", "a.ipynb"):
        run(manager.start_kernel(kernel_name="python3", path="sub", env={"VOILA_X": "1"}))
    assert started[0]["env"] == {"VOILA_X": "1", **KERNEL_ENV}  # the page's env kept, ours added
    warmed: list[dict] = []

    async def fake_warm(kernel_id, env):
        warmed.append(env)

    pool = OwnedKernelManager(pool_size=1, pool_env={"VOILA_PREHEAT": "False"})
    monkeypatch.setattr(pool, "_start_warm", fake_warm)
    run(pool._fill_pool())
    assert warmed[0]["ARROW_DEFAULT_MEMORY_POOL"] == "system" and warmed[0]["VOILA_PREHEAT"] == "False"


def test_app_kernels_start_through_the_lean_launcher():
    cmd = ["/venv/bin/python", "-m", "ipykernel_launcher", "-f", "/k/kernel-1.json"]
    assert app_kernel_cmd(cmd) == ["/venv/bin/python", "-m", APP_KERNEL_LAUNCHER, "-f", "/k/kernel-1.json"]
    assert cmd[2] == "ipykernel_launcher"  # the kernel spec's own list is not changed
    other = ["/usr/bin/ir", "--slave", "-f", "/k/kernel-2.json"]
    assert app_kernel_cmd(other) == other  # another kernel (or launcher) is left as it is
    manager = OwnedKernelManager()
    assert manager.kernel_manager_class == "workbench.apps.kernels.AppKernelManager"
    assert issubclass(AppKernelManager, kernels.ServerKernelManager)


def test_pandas_finds_no_pyarrow_which_stays_importable_after_it():
    code = ("import sys, json\n"
            "from workbench.apps.heap import hide_pyarrow_from_pandas\n"
            "first, again = hide_pyarrow_from_pandas(), hide_pyarrow_from_pandas()\n"
            "try:\n    import pyarrow\n    early = True\nexcept ImportError:\n    early = False\n"
            "import pandas as pd\n"
            "loaded = 'pyarrow' in sys.modules\n"
            "s = pd.Series(['a', None, 'a'])\n"
            "import pyarrow\n"
            "print(json.dumps([first, again, early, loaded, str(s.dtype), s.dtype.storage,"
            " int(s.isna().sum()), bool(s.str.startswith('a').fillna(False).sum() == 2), pyarrow.__name__,"
            " hide_pyarrow_from_pandas()]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    first, again, early, loaded, dtype, storage, missing, matched, arrow, late = json.loads(
        out.stdout.strip().splitlines()[-1])
    assert (first, again, early, loaded) == (True, False, False, False)  # hidden once; pandas did not load it
    assert (dtype, storage, missing, matched) == ("str", "python", 1, True)  # the same str dtype, Python storage
    assert arrow == "pyarrow" and late is False  # whoever needs pyarrow after pandas (Parquet) imports it


def test_plotly_validator_parameters_are_dropped_and_read_again_only_when_needed(monkeypatch):
    import plotly.graph_objects as go
    from plotly import validator_cache

    reads: list[int] = []
    real_load = validator_cache.json.load
    monkeypatch.setattr(validator_cache.json, "load", lambda f: reads.append(1) or real_load(f))
    monkeypatch.setattr(heap.json, "load", lambda f: reads.append(1) or real_load(f))
    monkeypatch.setattr(validator_cache.ValidatorCache, "_json_cache", None)
    monkeypatch.setattr(validator_cache.ValidatorCache, "_cache", {})
    go.Figure().add_bar(x=["a"], y=[1], marker_color="#2e933c")
    assert reads == [1] and isinstance(validator_cache.ValidatorCache._json_cache, dict)  # plotly keeps them
    assert heap.release_plotly_validators() is True
    assert heap.release_plotly_validators() is False  # nothing held any more
    fig = go.Figure().add_bar(x=["b"], y=[2], marker_color="#3e7cb1")  # validators all made: nothing read
    assert reads == [1] and heap.release_plotly_validators() is False
    fig.add_scatter(x=[1, 2], y=[3, 4], mode="lines")  # validators not made yet: read again, still right
    assert reads == [1, 1] and [trace.type for trace in fig.data] == ["bar", "scatter"]
    assert fig.data[1].mode == "lines" and fig.to_plotly_json()["data"][0]["marker"]["color"] == "#3e7cb1"
    assert heap.release_plotly_validators() is True


def test_equal_texts_of_a_fetched_column_are_one_object():
    fetched = tuple("".join(["outbound", "_call"]) for _ in range(5)) + (None,)
    assert len({id(v) for v in fetched[:5]}) == 5  # as a driver returns them: one object per row
    shared = _shared_texts(fetched)
    assert shared == list(fetched) and len({id(v) for v in shared[:5]}) == 1 and shared[5] is None
    numbers = (1, 2.5, None)
    assert _shared_texts(numbers) == [1, 2.5, None]


def test_a_worklist_frame_keeps_no_fetched_value_alive(tmp_path):
    members = campaign_members(per_branch=400)
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}", password_policy=PasswordPolicy.fast_for_tests(),
               progress=False) as store:
        for user in USERS:
            store.add_user(SYSTEM_USER, user.name, user.role, password=user.password, branch_id=user.branch_id)
        campaign_id = seed_campaign(store, members)
        ex = User(EX_U.name, EX_U.role, EX_U.branch_id)
        store.worklist(ex, campaign_id)  # warm: compiled queries, first-use caches
        gc.collect()
        tracemalloc.start()
        try:
            frame = store.worklist(ex, campaign_id)
            gc.collect()
            snapshot = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    assert len(frame) == 400
    fetched = [s for s in snapshot.statistics("filename") if s.traceback[0].filename.endswith("cursor.py")]
    alive = sum(s.count for s in fetched)
    # before: every value of every row (400 rows x 11 objects) stayed alive through a view of one object block
    assert alive < len(frame), f"{alive} values fetched from the database are still alive"
    assert isinstance(frame, pd.DataFrame)


@pytest.mark.kernel
def test_the_executor_apps_kernel_imports_no_heavy_module_and_uses_the_lean_allocators(tmp_path):
    from jupyter_client.manager import KernelManager

    class ServedKernel(KernelManager):  # started as the server starts a page's kernel (AppKernelManager)
        def format_kernel_cmd(self, extra_arguments=None):
            return app_kernel_cmd(super().format_kernel_cmd(extra_arguments))

    store_url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with Store(store_url, password_policy=PasswordPolicy.fast_for_tests(), progress=False) as store:
        for user in USERS:
            store.add_user(SYSTEM_USER, user.name, user.role, password=user.password, branch_id=user.branch_id)
        campaign_id = seed_campaign(store)
    notebook = json.loads((ROOT / "notebooks" / "apps" / "executor.ipynb").read_text(encoding="utf-8"))
    parameters = (f"campaign_id = {campaign_id}\nstore_url = {store_url!r}\nlanguage = 'en'\n"
                  f"user_name = {EX_U.name!r}\nuser_role = 'executor'\nuser_branch = 'urumqi'\n"
                  "user_display_name = ''\n")
    code = "".join(notebook["cells"][1]["source"])
    probe = ("import sys, os, json\n"
             "from IPython import get_ipython\n"
             "_w = store.worklist(user, campaign_id)\n"
             "_vc = sys.modules.get('plotly.validator_cache')\n"
             "print(json.dumps({'modules': sorted(k for k, v in sys.modules.items() if v is not None),"
             " 'pool': os.environ.get('ARROW_DEFAULT_MEMORY_POOL'),"
             " 'optimize': sys.flags.optimize, 'bytecode': sys.dont_write_bytecode, 'argv': sys.argv[0],"
             " 'storage': _w['channel'].dtype.storage,"
             " 'channels': [len(set(_w['channel'])), len({id(v) for v in _w['channel']})],"
             " 'validators': None if _vc is None"
             " else getattr(_vc.ValidatorCache._json_cache, '_data', 'kept') is None,"
             " 'hooks': [f.__module__ for f in get_ipython().events.callbacks['post_execute']]}))\n")
    manager = ServedKernel(kernel_name="python3")
    manager.start_kernel(env={**os.environ, **KERNEL_ENV}, cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        outputs: list[dict] = []
        for cell in (DEFAULT_PRELOAD, parameters, code, probe):
            reply = client.execute_interactive(cell, timeout=240, output_hook=outputs.append)
            assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    shown = [m["content"] for m in outputs if m["msg_type"] in ("display_data", "execute_result")]
    assert any("application/vnd.jupyter.widget-view+json" in c["data"] for c in shown)  # the app was drawn
    assert any("application/vnd.plotly.v1+json" in c["data"] for c in shown)  # with its progress chart
    found = json.loads([m["content"]["text"] for m in outputs if m["msg_type"] == "stream"][-1])
    assert found["argv"].endswith(APP_KERNEL_LAUNCHER.replace(".", "/") + ".py")  # the lean launcher ran it
    assert "workbench.apps.worklist" in found["modules"] and "pandas" in found["modules"]
    assert [m for m in found["modules"] if m.split(".")[0] in HEAVY_MODULES or m in HEAVY_MODULES
            or any(m.startswith(h + ".") for h in HEAVY_MODULES)] == []
    assert found["storage"] == "python" and found["optimize"] == 2  # text in Python storage, no docstrings
    assert found["bytecode"] is False  # the kernel may write its compiled modules (no recompiling at each start)
    assert found["channels"] == [2, 2]  # two channels, each one object however many rows hold it
    assert found["validators"] is True  # the chart was drawn, plotly's validator parameters dropped
    assert found["pool"] == "system"
    assert "workbench.apps.heap" in found["hooks"]
