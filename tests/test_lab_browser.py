"""`make lab`'s JupyterLab: template 01 opened from a workspace's templates/ runs with Run All, no error.

JupyterLab is started as ``make lab`` starts it (127.0.0.1, the ``workbench`` kernel by default, the
workspace as its root) on a temporary workspace: the repository's ``workbench.toml`` with ``data``
pointing at the committed sample province and a copy of ``templates/`` (Lab autosaves what it runs,
so the repository's templates are never opened).  Chromium opens 01, runs Run → Run All Cells, waits
until every code cell has run and the kernel is idle, and no cell may show an error.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser import _private_env, browser, free_port  # noqa: F401 (browser: the harness's Chromium fixture)

from workbench.workspace import CONFIG_FILE, ENV_VAR, STORE_ENV

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data" / "province"
NOTEBOOK = "templates/01_status_analysis.ipynb"
START_TIMEOUT_S = 120.0
RUN_TIMEOUT_S = 600.0
#: Error outputs as JupyterLab renders them: a traceback, or text on stderr holding one.
ERROR_JS = ("""() => {
  const errors = [...document.querySelectorAll('.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]')];
  const stderr = [...document.querySelectorAll('.jp-OutputArea-output"""
            """[data-mime-type="application/vnd.jupyter.stderr"]')]
    .filter(e => e.textContent.includes('Traceback'));
  return [...errors, ...stderr].map(e => e.textContent.slice(0, 400));
}""")
PROMPTS_JS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
  .map(e => e.textContent.trim())"""


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read().decode("utf-8"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free loopback port serving a temporary workspace; yields (base url, token, workspace)."""
    root = tmp_path_factory.mktemp("lab")
    workspace = root / "ws"
    workspace.mkdir()
    text = (REPO / CONFIG_FILE).read_text(encoding="utf-8").replace(
        'data = "sample_data/province"', f'data = "{SAMPLE.as_posix()}"')
    (workspace / CONFIG_FILE).write_text(text, encoding="utf-8")
    shutil.copytree(REPO / "templates", workspace / "templates")
    settings = root / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the DOM (Lab 4 renders only the visible ones by default)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}', encoding="utf-8")
    env = _private_env(root / "home")
    for var in (ENV_VAR, STORE_ENV, "WORKBENCH_TEMPLATES"):
        env.pop(var, None)
    env["JUPYTERLAB_SETTINGS_DIR"] = str(root / "lab-settings")
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "--ip=127.0.0.1", f"--port={port}", "--no-browser",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={workspace}", "--MappingKernelManager.default_kernel_name=workbench",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--allow-root"]
    log_path = root / "lab.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=workspace, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                _get(f"{base}api/status?token={token}")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
        yield base, token, workspace
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def _kernels_idle(base: str, token: str) -> bool:
    kernels = _get(f"{base}api/kernels?token={token}")
    return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)


def test_template_01_runs_with_run_all_in_lab(lab, browser, tmp_path):  # noqa: F811 (the browser fixture)
    base, token, workspace = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{base}lab/tree/{NOTEBOOK}?token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell")
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _kernels_idle(base, token):  # the workbench kernel started for the notebook
        assert time.monotonic() < deadline, "the notebook's kernel did not start"
        time.sleep(0.5)
    kernels = _get(f"{base}api/kernels?token={token}")
    assert [k["name"] for k in kernels] == ["workbench"]

    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()

    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        prompts, errors = page.evaluate(PROMPTS_JS), page.evaluate(ERROR_JS)
        done = prompts and all(p.startswith("[") and p[1:-2].isdigit() for p in prompts)
        if errors or (done and _kernels_idle(base, token)):
            break
        assert time.monotonic() < deadline, f"Run All did not finish: prompts {prompts}"
        time.sleep(1.0)
    page.screenshot(path=str(tmp_path / "lab_01_status_analysis.png"), full_page=True)
    assert errors == [], errors
    assert len(prompts) >= 10 and done
    # the findings went to the workspace's run folder (runs/lab), not next to the notebook
    assert (workspace / "runs" / "lab" / "status_findings.json").is_file()
    assert not (workspace / "templates" / "runs").exists()
