"""Tables and chart labels formatted for people (report.format.people_table, viz.ticks)."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.errors import ParameterError
from workbench.report.format import MISSING, PeopleTable, people_table
from workbench.viz.ticks import funnel_text, rate_axis


def test_numbers_become_text_of_their_kind_and_money_gets_its_unit():
    frame = pd.DataFrame({"响应率": [0.035, 0.1], "人数": [23.0, 1500.0], "成本": [1315.2, 3.0],
                          "提升": [0.0601, -0.01], "渠道": ["外呼", "短信"]})
    table = people_table(frame, {"响应率": "pct", "成本": "money", "提升": "signed_pct"}, lang="zh")
    assert isinstance(table, PeopleTable) and table.columns.tolist() == ["响应率", "人数", "成本（元）", "提升", "渠道"]
    assert table.iloc[0].tolist() == ["3.50%", "23", "1,315", "+6.01%", "外呼"]
    assert table.iloc[1].tolist() == ["10.00%", "1,500", "3", "-1.00%", "短信"]
    en = people_table(pd.DataFrame({"Cost": [1.0]}), {"Cost": "money"}, lang="en")
    assert en.columns.tolist() == ["Cost (yuan)"]
    assert people_table(pd.DataFrame({"成本（元）": [1.0]}), {"成本（元）": "money"}).columns.tolist() == ["成本（元）"]


def test_no_index_column_and_no_nan():
    frame = pd.DataFrame({"rate": [0.1, float("nan")], "n": [1, 2], "name": ["a", None]})
    table = people_table(frame, {"rate": "pct"}, missing={"rate": "无对照组"})
    assert table["rate"].tolist() == ["10.00%", "无对照组"] and table["name"].tolist() == ["a", MISSING]
    html = table._repr_html_()
    assert "<th" in html and ">0</th>" not in html and ">1</th>" not in html      # the 0..n index is hidden
    assert "nan" not in repr(table) and "None" not in html
    assert not repr(table).splitlines()[1].startswith("0")


def test_a_named_index_stays_as_the_rows_labels():
    frame = pd.DataFrame({"users": [3.0]}, index=pd.Index(["Outbound call"], name="Channel"))
    table = people_table(frame)
    assert table.index.name == "Channel" and table.loc["Outbound call", "users"] == "3"
    assert "Channel" in table._repr_html_() and "Outbound call" in table._repr_html_()


def test_unknown_kinds_are_refused():
    with pytest.raises(ParameterError, match="'kinds' parameter must be kinds among"):
        people_table(pd.DataFrame({"a": [1]}), {"a": "percent"})


def test_funnel_labels_are_whole_numbers_with_a_share_of_the_first_step():
    assert funnel_text(19194.0, 19194) == "19,194 (100.0%)"
    assert funnel_text(18811.6, 19194) == "18,812 (98.0%)"          # not "18.8116k", not "98 0%"
    assert funnel_text(5, 0) == "5"


def test_rate_axes_cover_the_predicted_range_with_percent_ticks():
    narrow = rate_axis([0.01, 0.02, 0.05])
    assert narrow == {"tickformat": ".1%", "range": [0, pytest.approx(0.055)]}
    wide = rate_axis([0.0005, 0.01, 0.3, 0.0])
    assert wide["type"] == "log" and wide["tickformat"] == ".2~%"
    assert 10 ** wide["range"][0] < 0.0005 and 10 ** wide["range"][1] > 0.3
