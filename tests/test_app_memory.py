"""What an open app's kernel holds: no heavy module it does not draw with, Arrow on the system allocator,
the C heap trimmed after each cell, and no fetched rows kept alive by the store's frames.

The figures (RSS / PSS per open app, the server with 20 and 50 executors) are in ``benchmarks/app.py``.
"""
from __future__ import annotations

import gc
import json
import os
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from test_app_executor import EX_U, USERS, campaign_members, seed_campaign

from workbench.apps import heap, kernels
from workbench.apps.kernels import DEFAULT_PRELOAD, KERNEL_ENV, OwnedKernelManager, kernel_owner
from workbench.store import SYSTEM_USER, PasswordPolicy, Store, User

ROOT = Path(__file__).resolve().parents[1]
#: Modules an executor app never needs: model training and scoring, SQL engines, statistics, notebook I/O.
HEAVY_MODULES = ("lightgbm", "sklearn", "scipy", "statsmodels", "duckdb", "optbinning", "nbformat", "papermill",
                 "matplotlib", "workbench.models", "workbench.features", "workbench.tracking", "workbench.notebook")


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
    probe = ("import sys, os, json, pyarrow\n"
             "from IPython import get_ipython\n"
             "print(json.dumps({'modules': sorted(sys.modules), 'pool': pyarrow.default_memory_pool().backend_name,"
             " 'hooks': [f.__module__ for f in get_ipython().events.callbacks['post_execute']]}))\n")
    manager = KernelManager(kernel_name="python3")
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
    found = json.loads([m["content"]["text"] for m in outputs if m["msg_type"] == "stream"][-1])
    assert "workbench.apps.worklist" in found["modules"] and "pandas" in found["modules"]
    assert [m for m in found["modules"] if m.split(".")[0] in HEAVY_MODULES or m in HEAVY_MODULES
            or any(m.startswith(h + ".") for h in HEAVY_MODULES)] == []
    assert found["pool"] == "system"
    assert "workbench.apps.heap" in found["hooks"]
