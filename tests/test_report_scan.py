"""The report scanner (tests/report_scan.py) finds what a person must never read; the executed chain's
reports (zh and en) are scanned in test_demo_rerun.py."""
from __future__ import annotations

import nbformat
import plotly.graph_objects as go

from report_scan import untranslated


def _notebook(path, outputs, markdown="## 1. 标题 · Title by brand"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), nbformat.v4.new_code_cell("x", outputs=outputs)]
    nbformat.write(nb, str(path))
    return path


def _md(text):
    return nbformat.v4.new_output("display_data", data={"text/markdown": text, "text/plain": text})


def test_a_clean_report_passes(tmp_path):
    fig = go.Figure(go.Bar(x=["乌鲁木齐"], y=[1], name="目标组")).update_layout(title="渗透率")
    path = _notebook(tmp_path / "ok.ipynb", [_md("**目标：** 新增 71 名手机报稳定用户。"),
                                             nbformat.v4.new_output("display_data", data={
                                                 "application/vnd.plotly.v1+json": fig.to_plotly_json()})])
    assert untranslated(path, "zh") == []


def test_identifiers_missing_values_and_english_errors_are_found(tmp_path):
    fig = go.Figure(go.Bar(x=["a"], y=[1], name="branch_id")).update_layout(title="responded：x")
    table = "<table><tr><th>0</th><td>nan</td><td>arpu_mean</td></tr></table>"
    path = _notebook(tmp_path / "bad.ipynb", [
        _md("以活动前的 content_pref_edition_top 作协变量"), _md("渠道 channel 的提升"),
        nbformat.v4.new_output("display_data", data={"text/html": table, "text/plain": "x"}),
        nbformat.v4.new_output("display_data", data={"application/vnd.plotly.v1+json": fig.to_plotly_json()}),
        nbformat.v4.new_output("error", ename="ParameterError", evalue="The 'x' parameter must be 1. Got 2 instead.",
                               traceback=[]),
    ])
    found = "\n".join(untranslated(path, "zh"))
    for what in ("'content_pref_edition_top'", "'channel'", "'nan'", "'arpu_mean'", "'branch_id'", "cell 1 error",
                 "' must be '", "'Got '"):
        assert what in found, what
    english = "\n".join(untranslated(path, "en"))
    assert "'channel'" not in english and "' must be '" not in english      # English prose may say "channel"
    assert "'arpu_mean'" in english and "'nan'" in english
    assert "'brand'" not in found                                            # titles are bilingual on purpose


def test_english_prose_is_not_a_missing_value(tmp_path):
    path = _notebook(tmp_path / "prose.ipynb", [_md("None of their contacts is counted."), _md("Control: None")],
                     markdown="## Title")
    assert ["'None'" in p for p in untranslated(path, "en")] == [True]     # only the leaked value
