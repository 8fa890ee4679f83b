"""Executor assignment (balanced snake deal, score bands) and executor lists (masking, talking points, exports)."""
import hashlib

import numpy as np
import pandas as pd
import pytest

from workbench.campaign import (
    EXECUTOR, KNOWN_ROLES, LIST_COLUMNS, NUMBER_VISIBLE_ROLES, SCORE_BAND, ExportResult, assign_executors,
    build_list, can_see_numbers, export_list, mask_msisdn, score_bands, talking_points, workload,
)
from workbench.errors import DataValidationError, ParameterError
from workbench.viz.campaign import workload_figure


@pytest.fixture
def plan():
    rng = np.random.default_rng(3)
    n = 1_000
    return pd.DataFrame({
        "subscriber_id": np.arange(100, 100 + n),
        "branch_id": rng.choice(["hami", "aksu"], size=n),
        "channel": rng.choice(["outbound_call", "sms"], size=n, p=[0.3, 0.7]),
        "score": rng.random(n).round(4),
    })


EXECUTORS = {
    "hami": ["ma", "li", "wang"],
    "aksu": ["zhao", "qian"],
    ("aksu", "outbound_call"): ["sun", "zhou", "wu", "zheng"],
}


def test_every_row_gets_an_executor_of_its_list(plan):
    out = assign_executors(plan, EXECUTORS)
    assert len(out) == len(plan) and set(out["subscriber_id"]) == set(plan["subscriber_id"])
    assert list(out.columns) == [*plan.columns, EXECUTOR, SCORE_BAND]
    staff = out.groupby(["branch_id", "channel"])[EXECUTOR].agg(lambda s: sorted(set(s))).to_dict()
    assert staff[("hami", "sms")] == ["li", "ma", "wang"]
    assert staff[("aksu", "sms")] == ["qian", "zhao"]
    assert staff[("aksu", "outbound_call")] == ["sun", "wu", "zheng", "zhou"]  # the list-specific entry wins


def test_workloads_differ_by_at_most_one_and_bands_are_spread(plan):
    out = assign_executors(plan, EXECUTORS)
    w = workload(out)
    assert list(w.columns) == ["branch_id", "channel", "executor", "A", "B", "C", "D", "E", "total"]
    for _, lst in w.groupby(["branch_id", "channel"]):
        assert lst["total"].max() - lst["total"].min() <= 1
        for band in "ABCDE":
            assert lst[band].max() - lst[band].min() <= 2  # a snake deal spreads every score level
    # the snake: the k best go to executors 1..k, the next k to k..1
    one = out[(out["branch_id"] == "hami") & (out["channel"] == "sms")].sort_values("score", ascending=False)
    assert one[EXECUTOR].head(6).tolist() == ["ma", "li", "wang", "wang", "li", "ma"]


def test_rows_are_sorted_by_list_executor_and_score(plan):
    out = assign_executors(plan, EXECUTORS)
    for _, part in out.groupby(["branch_id", "channel", EXECUTOR], sort=False):
        assert part["score"].is_monotonic_decreasing
    first = out[(out["branch_id"] == "hami") & (out["channel"] == "sms")]
    assert list(dict.fromkeys(first[EXECUTOR])) == ["ma", "li", "wang"]  # in the given order


def test_executors_as_dataframe(plan):
    ex = pd.DataFrame({"branch_id": ["hami", "hami", "aksu"], "channel": [None, None, None],
                       EXECUTOR: ["a", "b", "c"]})
    out = assign_executors(plan, ex)
    assert set(out.loc[out["branch_id"] == "aksu", EXECUTOR]) == {"c"}
    by_branch = pd.DataFrame({"branch_id": ["hami", "aksu"], EXECUTOR: ["a", "c"]})
    assert set(assign_executors(plan, by_branch)[EXECUTOR]) == {"a", "c"}


def test_result_does_not_depend_on_row_order(plan):
    a = assign_executors(plan, EXECUTORS).set_index("subscriber_id")
    b = assign_executors(plan.sample(frac=1, random_state=2), EXECUTORS).set_index("subscriber_id").loc[a.index]
    pd.testing.assert_series_equal(a[EXECUTOR], b[EXECUTOR])
    pd.testing.assert_series_equal(a[SCORE_BAND], b[SCORE_BAND])


def test_score_bands():
    bands = score_bands([0.5, 0.9, 0.5, 0.1, 0.7], ids=[5, 4, 3, 2, 1], n_bands=5)
    assert bands.tolist() == ["D", "A", "C", "E", "B"]  # the tie 0.5 goes by id: 3 before 5
    assert pd.Series(score_bands(np.random.default_rng(0).random(1000), np.arange(1000))).value_counts().tolist() \
        == [200] * 5
    with pytest.raises(ParameterError, match="'n_bands' parameter must be an integer in \\[1, 10\\]. Got 11"):
        score_bands([0.1], [1], n_bands=11)


def test_assignment_errors(plan):
    with pytest.raises(ParameterError, match="'executors' parameter must be at least one executor for every "
                                             "\\(branch, channel\\) of the plan; lists without one. "
                                             "Got \\['aksu/outbound_call', 'aksu/sms'\\]"):
        assign_executors(plan, {"hami": ["ma"]})
    with pytest.raises(DataValidationError, match="plan: missing column\\(s\\) \\['score'\\]"):
        assign_executors(plan.drop(columns="score"), EXECUTORS)
    with pytest.raises(DataValidationError, match="plan: column 'subscriber_id' must be unique"):
        assign_executors(pd.concat([plan, plan.head(1)]), EXECUTORS)
    with pytest.raises(ParameterError, match="'executors\\[hami\\]' parameter must be a list of executor names"):
        assign_executors(plan, {"hami": "ma", "aksu": ["x"]})
    with pytest.raises(ParameterError, match="'executors' parameter must be each executor once per list"):
        assign_executors(plan, {"hami": ["ma", "ma"], "aksu": ["x"]})
    with pytest.raises(ParameterError, match="'executors' parameter must be non-empty executor names"):
        assign_executors(plan, {"hami": [""], "aksu": ["x"]})
    with pytest.raises(ParameterError, match="'executors' parameter must be a DataFrame"):
        assign_executors(plan, ["ma"])
    with pytest.raises(ParameterError, match="'assigned' parameter must be an assign_executors\\(\\) result"):
        workload(plan)


def test_workload_figure(plan):
    w = workload(assign_executors(plan, EXECUTORS))
    fig = workload_figure(w, lang="en")
    assert [d.name for d in fig.data] == [f"Score band {b}" for b in "ABCDE"]
    assert sum(sum(d.y) for d in fig.data) == len(plan)
    assert fig.layout.title.text == "Workload per executor by score band"


# ------------------------------------------------------------------ lists
def test_list_columns_and_roles_match_the_store():
    from workbench.store import MEMBER_COLUMNS, ROLES

    assert LIST_COLUMNS == MEMBER_COLUMNS
    assert set(KNOWN_ROLES) == set(ROLES)
    assert NUMBER_VISIBLE_ROLES <= set(ROLES)


def test_can_see_numbers_policy():
    assert can_see_numbers("executor")
    for role in ("analyst", "branch_manager", "province_manager", "admin"):
        assert not can_see_numbers(role)
    with pytest.raises(ParameterError, match="'role' parameter must be one of .*Got 'guest'"):
        can_see_numbers("guest")


def test_mask_msisdn():
    s = pd.Series(["13812341234", "1381234123", "+8613812341234", None, "abc"])
    out = mask_msisdn(s)
    assert out.iloc[0] == "138****1234"
    assert out.iloc[1] == "*" * 10 and out.iloc[2] == "*" * 14 and out.iloc[4] == "***"
    assert pd.isna(out.iloc[3])
    assert not out.dropna().str.fullmatch(r"\d{11}").any()


def test_talking_points_from_the_catalogue():
    zh = talking_points("outbound_call", "sports", free_months=2, lang="zh")
    assert zh.startswith("外呼") and "体育版" in zh and "首2个月免费" in zh
    en = talking_points("sms", "travel", lang="en")
    assert en.startswith("Short text") and "travel: the edition matching" in en
    assert talking_points("ivr", None, lang="en") == talking_points("ivr", "by_preference", lang="en")


@pytest.fixture
def assigned():
    plan = pd.DataFrame({"subscriber_id": [1, 2, 3, 4], "branch_id": "hami",
                         "channel": ["sms", "sms", "outbound_call", "outbound_call"], "score": [0.9, 0.8, 0.7, 0.6]})
    return assign_executors(plan, {"hami": ["ma", "li"]})


NUMBERS = pd.Series(["13900000001", "13900000002", "13900000003", "13900000004"], index=[1, 2, 3, 4])


def test_build_list_rows(assigned):
    rows = build_list(assigned, msisdn=NUMBERS, reasons=pd.Series({1: "reads news daily", 3: "new handset"}),
                      editions=pd.DataFrame({"subscriber_id": [1, 2], "edition": ["sports", None]}),
                      edition="news", free_months=1, lang="en")
    assert tuple(rows.columns) == LIST_COLUMNS
    r = rows.set_index("subscriber_id")
    assert r.loc[1, "msisdn_masked"] == "139****0001"
    assert not rows["msisdn_masked"].str.fullmatch(r"\d{11}").any()
    assert r.loc[1, "edition"] == "sports" and r.loc[2, "edition"] == "news" and r.loc[3, "edition"] == "news"
    assert "Sports edition" in r.loc[1, "talking_points"] and r.loc[1, "talking_points"].startswith("Short text")
    assert r.loc[3, "talking_points"].startswith("Call:") and "First 1 month(s) free." in r.loc[3, "talking_points"]
    assert r.loc[1, "reasons"] == "reads news daily" and pd.isna(r.loc[2, "reasons"])
    assert (rows["group"] == "target").all()
    # the store accepts the rows as they are
    from workbench.store import validate_members

    validate_members(rows)


def test_build_list_without_optional_inputs(assigned):
    rows = build_list(assigned.assign(group="control"), edition="by_preference")
    assert rows["msisdn_masked"].isna().all() and rows["edition"].isna().all()
    assert (rows["group"] == "control").all()
    with pytest.raises(DataValidationError, match="assigned: missing column\\(s\\) \\['executor'\\]"):
        build_list(assigned.drop(columns=EXECUTOR))
    with pytest.raises(DataValidationError, match="msisdn: one value per 'subscriber_id' expected"):
        build_list(assigned, msisdn=pd.Series(["1", "2"], index=[1, 1]))
    with pytest.raises(ParameterError, match="'reasons' parameter must be a Series indexed by 'subscriber_id'"):
        build_list(assigned, reasons=["a", "b"])


def test_export_masks_unless_role_permits(tmp_path, assigned):
    rows = build_list(assigned, msisdn=NUMBERS)
    meta = export_list(rows, tmp_path / "analyst.csv", role="analyst", msisdn=NUMBERS)
    assert isinstance(meta, ExportResult)
    assert meta.masked and meta.rows == 4 and meta.role == "analyst" and meta.format == "csv"
    text = (tmp_path / "analyst.csv").read_text(encoding="utf-8-sig")
    assert "13900000001" not in text and "139****0001" in text
    assert meta.sha256 == hashlib.sha256((tmp_path / "analyst.csv").read_bytes()).hexdigest()
    assert meta.to_dict()["masked"] is True

    meta = export_list(rows, tmp_path / "executor.csv", role="executor", msisdn=NUMBERS)
    assert not meta.masked and "msisdn" in meta.columns and "msisdn_masked" not in meta.columns
    back = pd.read_csv(tmp_path / "executor.csv", dtype={"msisdn": str}, encoding="utf-8-sig")
    assert back.set_index("subscriber_id").loc[3, "msisdn"] == "13900000003"

    # a permitted role without the numbers still gets masked numbers only
    assert export_list(rows, tmp_path / "e2.csv", role="executor").masked
    # plain numbers smuggled into the rows are masked for a role that may not see them
    leaky = rows.assign(msisdn=NUMBERS.reindex(rows["subscriber_id"]).to_numpy())
    export_list(leaky, tmp_path / "leak.csv", role="branch_manager")
    assert "13900000001" not in (tmp_path / "leak.csv").read_text(encoding="utf-8-sig")


def test_export_excel_with_catalogue_headers(tmp_path, assigned):
    rows = build_list(assigned, msisdn=NUMBERS, lang="zh")
    meta = export_list(rows, tmp_path / "sub" / "list.xlsx", role="branch_manager", lang="zh")
    assert meta.format == "xlsx" and meta.masked
    back = pd.read_excel(tmp_path / "sub" / "list.xlsx", engine="openpyxl")
    assert list(back.columns)[:3] == ["用户编号", "分公司", "组别"]
    assert back["手机号码（脱敏）"].str.contains(r"\*\*\*\*").all()
    assert len(back) == 4


def test_export_errors(tmp_path, assigned):
    rows = build_list(assigned)
    with pytest.raises(ParameterError,
                       match="'path' parameter must be a file name ending in one of \\['.csv', '.xlsx'\\]"):
        export_list(rows, tmp_path / "list.pdf", role="analyst")
    with pytest.raises(ParameterError, match="'role' parameter must be one of"):
        export_list(rows, tmp_path / "list.csv", role="intern")
    with pytest.raises(ParameterError, match="'rows' parameter must be a DataFrame with 'subscriber_id'"):
        export_list(pd.DataFrame({"x": [1]}), tmp_path / "list.csv", role="analyst")
    assert not (tmp_path / "list.csv").exists()
