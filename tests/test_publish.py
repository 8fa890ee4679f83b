"""Publishing a campaign's app, listing the served apps, the built-in apps and the demo accounts."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from workbench.apps.demo import DEMO_USERS, demo_executors, ensure_demo_users
from workbench.apps.hook import APP_METADATA, IDENTITY_PARAMETERS
from workbench.apps.kernels import OwnedKernelManager
from workbench.apps.publish import (
    APP_NOTEBOOKS_ENV, AppInfo, app_url, find_app_notebook, install_builtin_apps, list_apps, publish_app,
)
from workbench.cli import main
from workbench.errors import ParameterError
from workbench.store import SYSTEM_USER, PasswordPolicy, Store

MEMBERS = pd.DataFrame({
    "subscriber_id": [1, 2, 3], "branch_id": ["urumqi", "hami", "urumqi"],
    "group": ["target", "target", "control"], "channel": ["outbound_call"] * 3,
})


@pytest.fixture(scope="module")
def campaigns(tmp_path_factory):
    """A store with a released campaign and a draft; returns (url, released id, draft id)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('publish') / 'store.sqlite'}"
    with Store(url, password_policy=PasswordPolicy.fast_for_tests(), progress=False) as store:
        released = store.release_campaign(SYSTEM_USER, {"name": "News Q1", "product": "mnp_news"}, MEMBERS)
        draft = store.save_draft(SYSTEM_USER, {"name": "Draft", "product": "mnp_news"})
    return url, released.campaign_id, draft


def write_app(folder, name="executor", parameters=("campaign_id", *IDENTITY_PARAMETERS), injected=True):
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                "papermill": {"parameters": {"x": 1}}})
    params = new_code_cell("\n".join(f"{p} = None  # {p}" for p in parameters), metadata={"tags": ["parameters"]})
    cells = [params]
    if injected:
        cells.append(new_code_cell('user_name = "someone"', metadata={"tags": ["injected-parameters"]}))
    body = new_code_cell("print(campaign_id)", execution_count=3,
                         outputs=[new_output("stream", name="stdout", text="a subscriber's data\n")])
    nb.cells = [*cells, body]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def test_publish_writes_the_campaigns_app_without_outputs_or_injected_cells(tmp_path, campaigns):
    url, released, _ = campaigns
    source = write_app(tmp_path)
    info = publish_app(released, app=source, apps_dir=tmp_path / "apps", store_url=url)
    assert info.name == f"campaign_{released}_executor.ipynb" and info.path.is_file()
    assert (info.app, info.campaign_id) == ("executor", released)
    nb = nbformat.read(info.path, as_version=4)
    assert [c.metadata["tags"] for c in nb.cells] == [["parameters"], []]
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    meta = nb.metadata[APP_METADATA]
    assert meta["app_parameters"] == {"campaign_id": released}
    assert meta["campaign_name"] == "News Q1" and meta["source"] == "executor.ipynb"
    assert nb.metadata["papermill"] == {}  # an earlier run's record is dropped, the key is ready for injection
    assert nb.metadata["kernelspec"]["name"] == OwnedKernelManager.pool_kernel_name.default_value  # a warm kernel
    assert not [p for p in (tmp_path / "apps").iterdir() if p.name.startswith(".")]  # no temporary file left
    assert list_apps(tmp_path / "apps") == [info]


def test_publishing_again_replaces_the_app(tmp_path, campaigns):
    url, released, _ = campaigns
    source = write_app(tmp_path)
    first = publish_app(released, app=source, apps_dir=tmp_path, store_url=url)
    second = publish_app(released, app=source, apps_dir=tmp_path, store_url=url)
    assert first.path == second.path and len(list(tmp_path.glob("campaign_*.ipynb"))) == 1


def test_unknown_campaign_is_refused(tmp_path, campaigns):
    url, released, _ = campaigns
    with pytest.raises(ParameterError, match=rf"must name a released campaign .* one of \[{released}\]. Got 99"):
        publish_app(99, app=write_app(tmp_path), apps_dir=tmp_path / "apps", store_url=url)
    assert not (tmp_path / "apps").exists()


def test_draft_campaign_is_refused(tmp_path, campaigns):
    url, _, draft = campaigns
    with pytest.raises(ParameterError, match=f"campaign {draft} is a draft: release it first"):
        publish_app(draft, app=write_app(tmp_path), apps_dir=tmp_path, store_url=url)


@pytest.mark.parametrize("bad", [0, -1, "3", 2.0, True, None])
def test_campaign_id_must_be_a_positive_integer(tmp_path, bad):
    with pytest.raises(ParameterError, match="'campaign_id' parameter must be a positive integer"):
        publish_app(bad, app=write_app(tmp_path), apps_dir=tmp_path)


def test_app_must_declare_what_the_server_injects(tmp_path, campaigns):
    url, released, _ = campaigns
    source = write_app(tmp_path, parameters=("campaign_id", "user_name"))
    with pytest.raises(ParameterError, match=r"missing \['user_role', 'user_branch', 'user_display_name'\]"):
        publish_app(released, app=source, apps_dir=tmp_path, store_url=url)


def test_unknown_app_name_lists_the_apps(tmp_path, monkeypatch):
    write_app(tmp_path, name="executor")
    monkeypatch.setenv(APP_NOTEBOOKS_ENV, str(tmp_path))
    assert find_app_notebook("executor") == tmp_path / "executor.ipynb"
    with pytest.raises(ParameterError, match=r"one of the app notebooks in .*\['executor'\]. Got 'executr'.*"
                                             r"Did you mean 'executor'"):
        find_app_notebook("executr")


def test_builtin_whoami_is_copied_and_declares_the_identity(tmp_path):
    paths = install_builtin_apps(tmp_path)
    assert [p.name for p in paths] == ["whoami.ipynb", "hall.ipynb"]       # the hall look-up page too
    for built_in in paths:
        nb = nbformat.read(built_in, as_version=4)
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert params and all(f"{p} = " in params[0].source for p in IDENTITY_PARAMETERS)
    path = paths[0]
    assert list_apps(tmp_path) == [AppInfo("hall.ipynb", paths[1], "hall"), AppInfo("whoami.ipynb", path, "whoami")]
    assert app_url("http://127.0.0.1:8866/", list_apps(tmp_path)[1]) == \
        "http://127.0.0.1:8866/voila/render/whoami.ipynb"


def test_cli_publishes_and_lists(tmp_path, campaigns, capsys):
    url, released, _ = campaigns
    source = write_app(tmp_path)
    apps = tmp_path / "apps"
    assert main(["app", "publish", "--campaign", str(released), "--app", str(source), "--apps", str(apps),
                 "--store", url, "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert f"Published the app of campaign {released}" in out
    assert f"http://127.0.0.1:8866/voila/render/campaign_{released}_executor.ipynb" in out
    assert main(["app", "list", "--apps", str(apps), "--lang", "en"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["App", "Kind", "Campaign", "Published"]
    assert lines[1].split()[:3] == [f"campaign_{released}_executor.ipynb", "executor", str(released)]


def test_cli_reports_a_bad_campaign_as_an_error(tmp_path, campaigns, capsys):
    url, _, _ = campaigns
    assert main(["app", "publish", "--campaign", "42", "--app", str(write_app(tmp_path)), "--apps",
                 str(tmp_path), "--store", url]) == 1
    assert "must name a released campaign" in capsys.readouterr().err


def test_cli_list_of_an_empty_folder(tmp_path, capsys):
    assert main(["app", "list", "--apps", str(tmp_path / "none"), "--lang", "en"]) == 0
    assert "No apps in" in capsys.readouterr().out


# ------------------------------------------------------------------ demo accounts
def test_demo_users_are_created_once_and_can_sign_in(tmp_path, capsys):
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}", password_policy=PasswordPolicy.fast_for_tests(),
               progress=False) as store:
        created = ensure_demo_users(store, lang="en")
        assert created == list(DEMO_USERS)
        out = capsys.readouterr().out
        assert "Demo accounts (for the demo data only" in out
        assert all(u.name in out and u.password in out for u in DEMO_USERS)
        assert ensure_demo_users(store, echo=False) == []
        users = store.list_users(SYSTEM_USER).set_index("name")
        assert users.loc["hami_manager", "role"] == "branch_manager"
        assert users.loc["hami_manager", "branch_id"] == "hami"
        for demo in (DEMO_USERS[0], DEMO_USERS[-2]):
            signed = store.authenticate(demo.name, demo.password)
            assert signed is not None and signed.role == demo.role
    roles = {(u.role, u.branch_id) for u in DEMO_USERS}
    assert {("executor", "urumqi"), ("executor", "hami"), ("branch_manager", "urumqi"),
            ("branch_manager", "hami"), ("province_manager", None)} <= roles
    assert demo_executors() == {"urumqi": ["urumqi_exec1", "urumqi_exec2"], "hami": ["hami_exec1", "hami_exec2"]}


def test_list_apps_reads_campaign_from_the_file_name_when_metadata_is_missing(tmp_path):
    (tmp_path / "campaign_5_monitoring.ipynb").write_text(json.dumps({"metadata": {}}), encoding="utf-8")
    (tmp_path / ".hidden.ipynb").write_text("{}", encoding="utf-8")
    (info,) = list_apps(tmp_path)
    assert (info.app, info.campaign_id) == ("monitoring", 5)


def test_monitoring_app_drops_the_templates_bilingual_title_and_draws_its_own(tmp_path, campaigns):
    """Template 05's '# 营销执行监控 · Campaign monitoring' is training material; the served page shows one language."""
    url, released, _ = campaigns
    source = Path(__file__).resolve().parents[1] / "templates" / "05_campaign_monitoring.ipynb"   # as the demo does
    info = publish_app(released, app=source, apps_dir=tmp_path / "apps", store_url=url)
    nb = nbformat.read(info.path, as_version=4)
    assert not any(c.cell_type == "markdown" and "Campaign monitoring" in c.source for c in nb.cells)
    assert any("live.layout(title=bool(user_name))" in c.source for c in nb.cells if c.cell_type == "code")
    assert nbformat.read(source, as_version=4).cells[0].source.startswith("# 营销执行监控 · Campaign monitoring")


def test_monitor_layout_title_is_in_the_users_language(campaigns):
    from workbench.apps import monitor_app

    url, released, _ = campaigns
    with Store(url, migrate=False, progress=False) as store:
        for lang, title in (("zh", "营销执行监控"), ("en", "Campaign monitoring")):
            live = monitor_app(store, SYSTEM_USER, released, lang=lang)
            heading = live.layout(title=True).children[0].value
            assert title in heading and ("Campaign monitoring" in heading) == (lang == "en")
            assert "wb-app-title" not in str([c.value for c in live.layout().children if hasattr(c, "value")])
