"""The prelaunch hook puts the signed-in user into the notebook; the notebook turns it into a store user."""
from __future__ import annotations

from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from tornado import web

from workbench.apps.hook import (
    APP_METADATA, IDENTITY_PARAMETERS, identity_parameters, prelaunch_hook, prepare_notebook, signed_in_user,
)
from workbench.apps.identity import WorkbenchUser
from workbench.apps.widgets import branch_label, role_label, whoami_panel
from workbench.errors import AccessDenied, ParameterError
from workbench.store import User

PARAMETERS = "\n".join(f'{p} = ""  # injected' for p in IDENTITY_PARAMETERS) + "\ncampaign_id = None  # campaign"


def app_notebook(*, tags: bool = True, published: dict | None = None):
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    params = new_code_cell(PARAMETERS)
    params.metadata = {"tags": ["parameters"]} if tags else {}
    nb.cells = [new_markdown_cell("# app"), params, new_code_cell("result = (user_name, user_role)")]
    for cell in nb.cells[::2]:
        cell.metadata = {}  # as other tools save them: no tags key at all
    if published is not None:
        nb.metadata[APP_METADATA] = {"app_parameters": published}
    return nbformat.from_dict(nb)


def request_of(user):
    return SimpleNamespace(current_user=user)


def run_parameters(nb) -> dict:
    """Execute every code cell up to and including the injected one; return the namespace."""
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        exec(cell.source, namespace)  # noqa: S102 (the test's own notebook)
        if "injected-parameters" in cell.metadata.get("tags", []):
            break
    return namespace


ANA = WorkbenchUser(username="ana", name="阿娜", display_name="阿娜", role="executor", branch_id="urumqi")


def test_prepare_gives_every_cell_tags_and_the_notebook_papermill_metadata():
    nb = prepare_notebook(app_notebook())
    assert all(isinstance(c.metadata["tags"], list) for c in nb.cells)
    assert nb.cells[1].metadata["tags"] == ["parameters"]
    assert "papermill" in nb.metadata


def test_hook_injects_the_signed_in_user_after_the_parameters_cell():
    nb = prelaunch_hook(request_of(ANA), app_notebook(), "")
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert tags.index(["injected-parameters"]) == tags.index(["parameters"]) + 1
    values = run_parameters(nb)
    assert {p: values[p] for p in IDENTITY_PARAMETERS} == identity_parameters(ANA) == {
        "user_name": "ana", "user_role": "executor", "user_branch": "urumqi", "user_display_name": "阿娜"}
    assert values["campaign_id"] is None


def test_published_parameters_are_injected_but_never_identity_ones():
    nb = app_notebook(published={"campaign_id": 7, "user_name": "pm", "user_role": "province_manager"})
    values = run_parameters(prelaunch_hook(request_of(ANA), nb, ""))
    assert values["campaign_id"] == 7
    assert (values["user_name"], values["user_role"]) == ("ana", "executor")


def test_a_second_launch_replaces_the_injected_cell():
    nb = prelaunch_hook(request_of(ANA), app_notebook(), "")
    bo = WorkbenchUser(username="bo", role="executor", branch_id="hami")
    nb = prelaunch_hook(request_of(bo), nb, "")
    assert sum("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1
    assert run_parameters(nb)["user_name"] == "bo"


def test_display_names_with_quotes_newlines_and_backslashes_stay_data():
    tricky = 'x" ; import os; os.remove("/") #\n\\n 王\'s'
    user = WorkbenchUser(username="ana", name=tricky, display_name=tricky, role="executor", branch_id="urumqi")
    values = run_parameters(prelaunch_hook(request_of(user), app_notebook(), ""))
    assert values["user_display_name"] == tricky


def test_notebook_without_parameters_cell_gets_the_user_on_top():
    nb = prelaunch_hook(request_of(ANA), app_notebook(tags=False), "")
    assert nb.cells[0].metadata["tags"] == ["injected-parameters"]


@pytest.mark.parametrize("user", [None, WorkbenchUser(username="ana"), SimpleNamespace(username="ana", role="x")])
def test_hook_refuses_a_request_without_a_workbench_user(user):
    with pytest.raises(web.HTTPError) as exc:
        prelaunch_hook(request_of(user), app_notebook(), "")
    assert exc.value.status_code == 403


def test_signed_in_user_is_the_store_user():
    assert signed_in_user("ana", "executor", "urumqi", "阿娜") == User("ana", "executor", "urumqi", "阿娜")
    assert signed_in_user("pm", "province_manager", "", "pm") == User("pm", "province_manager", None, "")


def test_no_injected_user_is_refused():
    with pytest.raises(AccessDenied, match="no signed-in user: this app runs under `workbench serve`"):
        signed_in_user("", "", "", "")


def test_injected_role_must_be_a_store_role():
    with pytest.raises(ParameterError, match="'role' parameter must be one of"):
        signed_in_user("ana", "superuser", "urumqi")


def test_whoami_panel_names_the_user_and_escapes_text():
    panel = whoami_panel(User("ana", "executor", "urumqi", "<b>阿娜</b>"), lang="en")
    html = panel.value
    assert 'data-field="name" data-code="ana"' in html
    assert 'data-field="role" data-code="executor"' in html and ">Executor<" in html
    assert 'data-field="branch" data-code="urumqi"' in html and ">Urumqi<" in html
    assert "<b>" not in html and "&lt;b&gt;阿娜&lt;/b&gt;" in html
    assert 'id="wb-logout" href="/logout"' in html
    assert "wb-whoami-widget" in panel._dom_classes


def test_branch_and_role_labels():
    assert branch_label("hami", "zh") == "哈密" and branch_label(None, "en") == "(whole province)"
    assert role_label("branch_manager", "en") == "Branch manager" and role_label("unknown", "en") == "unknown"
