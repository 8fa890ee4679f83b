"""The session's executed chain of templates 01-06: the most expensive fixture of the suite, run once.

Twelve template runs in real kernels: the demo (steps 01 to 06 with the simulated execution) in Chinese,
then again in English, in one temporary workspace (its own store).  Every module that reads a template's
output on the committed sample province with the template's default parameters uses it through the
``demo_chain`` fixture of tests/conftest.py (tests/test_demo_rerun.py, test_template_01_02.py,
test_template_03.py): one execution, several modules' asserts.  Tests only READ its run folders; a test
that must change one copies it first (``shutil.copytree``).
"""
from __future__ import annotations

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
