"""The session's executed chain of templates 01-06: the most expensive fixture of the suite, run once.

Twelve template runs in real kernels: the demo (steps 01 to 06 with the simulated execution) in Chinese,
then again in English, in one temporary workspace (its own store).  Every module that reads a template's
output on the committed sample province with the template's default parameters uses it through the
``demo_chain`` fixture of tests/conftest.py (tests/test_demo_rerun.py, test_template_01_02.py,
test_template_03.py): one execution, several modules' asserts.  Tests only READ its run folders; a test
that must change one copies it first (``shutil.copytree``).

Under pytest-xdist (``make test`` runs two workers) each worker has its own session, so the chain is
built once for the whole run by :func:`shared_demo_chain`: the first worker to ask runs it under a file
lock in the run's shared temporary folder, the others wait for the lock and read what it left.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path
from types import SimpleNamespace

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "province"
#: The demo's steps from the status analysis on (00_hello writes nothing the later steps read).
DEMO_CHAIN_STEPS = ("01_status_analysis", "02_goal_setting", "03_target_model", "04_campaign_design", "simulate",
                    "06_campaign_evaluation")
#: Language of each demo of the chain: the first in Chinese, the second in English.
DEMO_CHAIN_LANGUAGES = ("zh", "en")


def run_demo_chain(ws: Path) -> SimpleNamespace:
    """Run the two demos in the workspace ``ws`` (created here) with its default run folders.

    Returns a namespace with ``ws``, ``folders`` (one run folder per language, in
    :data:`DEMO_CHAIN_LANGUAGES` order) and ``runs`` (``{language: {template: RunResult}}``).
    """
    from workbench.commands import demo

    (ws / "workbench.toml").write_text(
        f'[workspace]\ndata = "{SAMPLE.as_posix()}"\nstore = "sqlite:///runs/store.sqlite"\nruns = "runs"\n',
        encoding="utf-8")
    folders, runs = [], {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_WORKSPACE", str(ws))
        for var in ("WORKBENCH_LANG", "WORKBENCH_TEMPLATES"):
            mp.delenv(var, raising=False)
        mp.chdir(ws)
        for lang in DEMO_CHAIN_LANGUAGES:
            folder = demo.demo_folder()
            results = demo.run_demo(None, folder, steps=list(DEMO_CHAIN_STEPS), language=lang, progress=False)
            folders.append(folder)
            runs[lang] = {result.name: result for result in results}
    return SimpleNamespace(ws=ws, folders=folders, runs=runs)


def shared_root(tmp_path_factory) -> Path:
    """The temporary folder every worker of this pytest run shares.

    Under pytest-xdist each worker's base folder is ``<run>/popen-gwN``, so their parent is shared;
    without xdist the session's own base folder is the whole run's.
    """
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_demo_chain(tmp_path_factory) -> SimpleNamespace:
    """:func:`run_demo_chain` once per pytest run, whichever worker asks first (see the module docstring).

    The worker that builds it pickles the namespace beside the workspace; a failed build leaves no
    pickle, so the next worker to ask tries again (and reports its own failure).
    """
    from filelock import FileLock

    root = shared_root(tmp_path_factory)
    done = root / "demo_chain.pickle"
    with FileLock(str(root / "demo_chain.lock")):
        if done.exists():
            return pickle.loads(done.read_bytes())
        ws = root / "demo_chain"
        if ws.exists():  # left by a worker whose build failed
            import shutil

            shutil.rmtree(ws)
        ws.mkdir()
        chain = run_demo_chain(ws)
        done.write_bytes(pickle.dumps(chain))
        return chain
