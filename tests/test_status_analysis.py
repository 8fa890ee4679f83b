"""Status findings: scope, the summaries of each step (hand-computed), the file (their words: test_report_t01)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from workbench.errors import ParameterError
from workbench.status.analysis import (
    CAPITAL, FINDINGS_FILE, FINDINGS_VERSION, check_scope, conversion_horizon, load_findings, read_findings,
    scoped_connection, status_findings, summarise_drivers, summarise_kpis, summarise_penetration,
    summarise_potential, summarise_retention, write_findings,
)

D = pd.to_datetime
KPIS = pd.DataFrame({
    "month": D(["2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01"]),
    "subscribers": [10, 12, 15, 14, 18], "orders": [10, 4, 5, 2, 6], "unsubscribes": [0, 2, 2, 3, 2],
    "net_adds": [10, 2, 3, -1, 4], "free_month_leavers": [0, 1, 2, 0, 1],
})
PEN = pd.DataFrame([
    ("total", "total", 1000, 100, 0.10, 1.0),
    ("branch_id", "urumqi", 400, 60, 0.15, 1.5),
    ("branch_id", "hami", 500, 35, 0.07, 0.7),
    ("branch_id", "kizilsu", 100, 5, 0.05, 0.5),
    ("brand", "gotone", 200, 40, 0.20, 2.0),
    ("brand", "easyown", 795, 60, 60 / 795, 0.75),
    ("brand", "mzone", 5, 0, 0.0, 0.0),          # under 1 % of the base: never named
    ("age_band", "unknown", 300, 50, 50 / 300, 1.7),   # never named
    ("age_band", "18-25", 700, 50, 50 / 700, 0.7),
], columns=["dimension", "value", "subscribers", "active", "penetration", "lift"])
CURVES = pd.DataFrame({
    "cohort": D(["2026-07-01"] * 4 + ["2026-09-01"] * 2), "k": [0, 1, 2, 3, 0, 1],
    "cohort_size": [4, 4, 4, 4, 2, 2], "retained": [4, 3, 2, 2, 2, 1],
    "retention": [1.0, 0.75, 0.5, 0.5, 1.0, 0.5],
})
DRIVERS = pd.DataFrame({
    "rank": [2, 1, 3], "feature": ["brand", "arpu_mean", "not_in_catalogue"], "kind": ["categorical", "numeric", "x"],
    "iv": [0.4, 0.9, 0.1], "bins": [3, 10, 2], "top_bin": ["gotone", "> 200", "a"],
    "top_bin_share": [0.2, 0.1, 0.5], "top_bin_rate": [0.1, 0.2, 0.05], "lift": [2.5, 5.0, 1.2],
    "sample": [950] * 3, "events": [60] * 3,
})
BANDS = pd.DataFrame({
    "band": [1, 2, 3], "subscribers": [100, 200, 700], "stable": [30, 20, 10], "nonsubscribers": [60, 170, 680],
    "high_potential": [True, True, False], "expected_new_stable": [3.0, 4.0, 1.0],
})
BANDS.attrs["drivers"] = ["arpu_mean", "brand"]


def full_findings(branches=()) -> dict:
    return status_findings(
        "mobile_newspaper", "2026-10", branches, stable_months=3,
        kpis=summarise_kpis(KPIS, "2026-09", recent_months=3), penetration=summarise_penetration(PEN),
        retention=summarise_retention(CURVES, 3), drivers=summarise_drivers(DRIVERS, top=2),
        potential=summarise_potential(BANDS, horizon=6))


# ----------------------------------------------------------------- scope
def test_check_scope_normalises_and_names_bad_parameters():
    assert check_scope("mobile_newspaper", "2026-10", ["hami", "urumqi", "hami"]) == (
        "mobile_newspaper", "2026-10", ["hami", "urumqi"])
    assert check_scope("fetion", pd.Timestamp("2026-03-15"), None) == ("fetion", "2026-03", [])
    with pytest.raises(ParameterError, match=r"'product' parameter must be one of \['mobile_newspaper'.*Got 'news'"):
        check_scope("news", "2026-10")
    with pytest.raises(ParameterError, match=r"'snapshot' parameter must be a month such as '2026-10'.*Got 'Oct'"):
        check_scope("mobile_newspaper", "Oct")
    with pytest.raises(ParameterError, match=r"'branches' parameter must be a list of branch ids .*Got \['paris'\]"):
        check_scope("mobile_newspaper", "2026-10", ["hami", "paris"])
    with pytest.raises(ParameterError, match=r"'branches' parameter must be a list of branch ids .*Got 'hami'"):
        check_scope("mobile_newspaper", "2026-10", "hami")
    assert conversion_horizon(3) == 6
    with pytest.raises(ParameterError, match="'stable_months' parameter must be an integer >= 1. Got 0"):
        conversion_horizon(0)


def _province() -> dict[str, pd.DataFrame]:
    subs = pd.DataFrame({"subscriber_id": [1, 2, 3, 4], "branch_id": ["urumqi", "urumqi", "hami", "kashgar"]})
    usage = pd.DataFrame({"subscriber_id": [1, 1, 2, 3, 3, 4], "month": D(["2026-10-01"] * 6),
                          "arpu": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    orders = pd.DataFrame({"event_id": [1, 2, 3], "subscriber_id": [1, 3, 4], "product_id": ["mn"] * 3})
    products = pd.DataFrame({"product_id": ["mn"], "family": ["mobile_newspaper"]})
    return {"subscribers": subs, "monthly_usage": usage, "vas_orders": orders, "vas_products": products}


def _counts(con) -> dict[str, int]:
    return {name: con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
            for name in ("subscribers", "monthly_usage", "vas_orders", "vas_products")}


@pytest.mark.parametrize("kind", ["frames", "folder"])
def test_scoped_connection_keeps_only_the_branches_rows(kind, tmp_path):
    frames = _province()
    if kind == "folder":
        for name, frame in frames.items():
            frame.to_parquet(tmp_path / f"{name}.parquet")
        data = tmp_path
    else:
        data = frames
    con = scoped_connection(data, ["hami", "kashgar"])
    try:
        assert _counts(con) == {"subscribers": 2, "monthly_usage": 3, "vas_orders": 2, "vas_products": 1}
        assert con.execute("SELECT sum(arpu) FROM monthly_usage").fetchall()[0][0] == 15.0
    finally:
        con.close()
    con = scoped_connection(data, [])
    try:
        assert _counts(con) == {"subscribers": 4, "monthly_usage": 6, "vas_orders": 3, "vas_products": 1}
    finally:
        con.close()


def test_scoped_connection_names_missing_data_and_unknown_branches(tmp_path):
    with pytest.raises(ParameterError, match=r"'data' parameter must be an existing folder .*does not exist"):
        scoped_connection(tmp_path / "nowhere")
    with pytest.raises(ParameterError, match=r"'branches' parameter .*Got \['atlantis'\]"):
        scoped_connection(_province(), ["atlantis"])


# ----------------------------------------------------------------- summaries
def test_summarise_kpis_by_hand():
    k = summarise_kpis(KPIS, "2026-09", recent_months=3)   # July, August, September
    assert (k["first_month"], k["last_month"], k["months"]) == ("2026-07", "2026-09", 3)
    assert (k["subscribers"], k["subscribers_before"]) == (14, 10)
    assert (k["orders"], k["unsubscribes"], k["net_adds"], k["free_month_leavers"]) == (11, 7, 4, 3)
    assert k["orders_per_month"] == pytest.approx(11 / 3) and k["net_adds_per_month"] == pytest.approx(4 / 3)
    assert k["unsubscribes_per_month"] == pytest.approx(7 / 3)
    assert k["free_month_leaver_share"] == pytest.approx(3 / 7)
    assert k["churn_rate"] == pytest.approx(7 / (10 + 12 + 15))   # month-start bases
    assert k["growth"] == pytest.approx(4 / 10)
    last = summarise_kpis(KPIS, recent_months=12)   # every month; nobody before June
    assert (last["first_month"], last["months"], last["subscribers_before"]) == ("2026-06", 5, 0)
    assert last["growth"] is None and last["subscribers"] == 18
    quiet = summarise_kpis(KPIS.assign(unsubscribes=0, free_month_leavers=0), recent_months=2)
    assert quiet["free_month_leaver_share"] is None and quiet["churn_rate"] == 0.0
    json.dumps(k, allow_nan=False)


def test_summarise_kpis_names_bad_input():
    with pytest.raises(ParameterError, match=r"'kpis' parameter must be product_kpis\(\) output"):
        summarise_kpis(KPIS.drop(columns="orders"))
    with pytest.raises(ParameterError, match=r"'kpis' parameter must be at least one month on or before the snapshot"):
        summarise_kpis(KPIS, "2026-01")
    with pytest.raises(ParameterError, match="'recent_months' parameter must be an integer >= 1. Got 0"):
        summarise_kpis(KPIS, recent_months=0)


def test_summarise_penetration_capital_prefectures_and_segments():
    p = summarise_penetration(PEN)
    assert (p["base"], p["active"], p["penetration"]) == (1000, 100, 0.1)
    assert p["capital"] == {"subscribers": 400, "active": 60, "penetration": 0.15}
    assert p["prefectures"] == {"subscribers": 600, "active": 40, "penetration": pytest.approx(40 / 600)}
    assert p["capital_ratio"] == pytest.approx(0.15 / (40 / 600))
    seg = p["segments"]
    assert (seg["branch_id"]["highest"]["value"], seg["branch_id"]["lowest"]["value"]) == ("urumqi", "kizilsu")
    assert (seg["brand"]["highest"]["value"], seg["brand"]["lowest"]["value"]) == ("gotone", "easyown")
    assert seg["age_band"]["highest"] == seg["age_band"]["lowest"] == {
        "value": "18-25", "subscribers": 700, "active": 50, "penetration": pytest.approx(50 / 700), "lift": 0.7}
    # a scope without the capital, and a table without branches
    no_capital = summarise_penetration(PEN[PEN["value"] != "urumqi"])
    assert no_capital["capital"] is None and no_capital["capital_ratio"] is None
    assert no_capital["prefectures"]["active"] == 40
    no_branch = summarise_penetration(PEN[PEN["dimension"] != "branch_id"], min_share=0.0)
    assert no_branch["capital"] is None and no_branch["prefectures"] is None
    assert no_branch["segments"]["brand"]["lowest"]["value"] == "mzone"   # no size floor now
    assert CAPITAL == ("urumqi",)


def test_summarise_penetration_names_bad_input():
    with pytest.raises(ParameterError, match=r"'pen' parameter must be penetration\(\) output"):
        summarise_penetration(PEN.drop(columns="lift"))
    with pytest.raises(ParameterError, match="'pen' parameter must be penetration.*'total' row"):
        summarise_penetration(PEN.iloc[1:])
    with pytest.raises(ParameterError, match=r"'min_share' parameter must be a share in \[0, 1\). Got 1.5"):
        summarise_penetration(PEN, min_share=1.5)


def test_summarise_retention_pools_the_cohorts():
    r = summarise_retention(CURVES, 3)
    # k=2 is observed for July only: 2 / 4; k=3 likewise
    assert r == {"orders": 6, "cohorts": 2, "k_stable": 2, "at_stable": 0.5, "k_last": 3, "at_last": 0.5,
                 "lost_before_stable": 0.5}
    assert summarise_retention(CURVES, 2)["at_stable"] == pytest.approx(4 / 6)
    unseen = summarise_retention(CURVES, 9)
    assert unseen["at_stable"] is None and unseen["lost_before_stable"] is None
    empty = summarise_retention(CURVES.iloc[:0], 3)
    assert empty["orders"] == 0 and empty["at_stable"] is None and empty["k_last"] is None
    with pytest.raises(ParameterError, match=r"'curves' parameter must be retention_curves\(\) output"):
        summarise_retention(CURVES.drop(columns="retained"))


def test_summarise_drivers_and_potential():
    d = summarise_drivers(DRIVERS, top=2)
    assert d == {"top": [{"feature": "arpu_mean", "iv": 0.9, "top_bin": "> 200", "lift": 5.0},
                         {"feature": "brand", "iv": 0.4, "top_bin": "gotone", "lift": 2.5}],
                 "sample": 950, "events": 60}
    assert summarise_drivers(DRIVERS.drop(columns=["sample", "events"]))["sample"] is None
    p = summarise_potential(BANDS, horizon=6, k=2.0)
    assert p == {"base": 1000, "stable": 60, "nonsubscribers": 910, "lookalikes": 230, "high_bands": 2,
                 "expected_new_stable": 7.0, "expected_new_stable_all": 8.0,
                 "conversion_rate": pytest.approx(7 / 230), "horizon_months": 6, "k": 2.0,
                 "drivers": ["arpu_mean", "brand"]}
    none_high = summarise_potential(BANDS.assign(high_potential=False), horizon=6)
    assert none_high["lookalikes"] == 0 and none_high["conversion_rate"] is None
    with pytest.raises(ParameterError, match="'top' parameter must be an integer >= 1. Got 0"):
        summarise_drivers(DRIVERS, top=0)
    with pytest.raises(ParameterError, match="'horizon' parameter must be an integer >= 1. Got 0"):
        summarise_potential(BANDS, horizon=0)
    with pytest.raises(ParameterError, match="'k' parameter must be a finite number > 0. Got -1"):
        summarise_potential(BANDS, horizon=6, k=-1)
    with pytest.raises(ParameterError, match=r"'bands' parameter must be potential\(\) output"):
        summarise_potential(BANDS.drop(columns="stable"), horizon=6)


def test_status_findings_holds_the_scope_and_the_summaries_given():
    f = full_findings(["urumqi", "hami"])
    assert (f["version"], f["product"], f["snapshot"], f["branches"], f["stable_months"]) == (
        FINDINGS_VERSION, "mobile_newspaper", "2026-10", ["hami", "urumqi"], 3)
    assert set(f) == {"version", "product", "snapshot", "branches", "stable_months", "kpis", "penetration",
                      "retention", "drivers", "potential"}
    json.dumps(f, allow_nan=False)
    start = status_findings("ringback_tone", "2026-09")
    assert set(start) == {"version", "product", "snapshot", "branches", "stable_months"}
    with pytest.raises(ParameterError, match="'kpis' parameter must be the dict summarise_kpis"):
        status_findings("mobile_newspaper", "2026-10", kpis=KPIS)
    with pytest.raises(ParameterError, match="'stable_months' parameter must be an integer >= 1"):
        status_findings("mobile_newspaper", "2026-10", stable_months=0)


# ----------------------------------------------------------------- the file
def test_findings_file_is_read_back_only_for_the_same_scope(tmp_path):
    f = full_findings(["hami"])
    path = write_findings(f, tmp_path / "run")
    assert path == tmp_path / "run" / FINDINGS_FILE
    assert read_findings(tmp_path / "run") == f
    assert read_findings(tmp_path / "run", "mobile_newspaper", "2026-10", ["hami"], 3) == f
    assert read_findings(tmp_path / "run", "mobile_newspaper", "2026-09", ["hami"]) is None
    assert read_findings(tmp_path / "run", "fetion", "2026-10", ["hami"]) is None
    assert read_findings(tmp_path / "run", "mobile_newspaper", "2026-10", []) is None
    assert read_findings(tmp_path / "run", stable_months=4) is None
    assert read_findings(tmp_path / "empty") is None
    found, how = load_findings(tmp_path / "run", tmp_path / "no_data_needed", "mobile_newspaper", "2026-10",
                               ["hami"])
    assert (found, how) == (f, "file")


def test_a_broken_or_old_findings_file_counts_as_absent(tmp_path):
    (tmp_path / FINDINGS_FILE).write_text("{not json", encoding="utf-8")
    assert read_findings(tmp_path) is None
    (tmp_path / FINDINGS_FILE).write_text(json.dumps({"version": 0, "product": "mobile_newspaper"}),
                                          encoding="utf-8")
    assert read_findings(tmp_path) is None
    with pytest.raises(ParameterError, match="'findings' parameter must be the dict status_findings"):
        write_findings(["x"], tmp_path)
