"""Feature builder: hand-computed values of every feature family, leakage, sources, catalogue."""
from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from workbench.data.tables import BRANDS, CAPABILITIES, CONTENT_CATEGORIES, PRODUCT_FAMILIES, USAGE_MEASURES
from workbench.errors import DataValidationError, ParameterError
from workbench.features import (
    FEATURES, apply_feature_dtypes, build_features, family_feature_names, feature, feature_names, read_features,
    render_feature_doc,
)
from workbench.features.catalogue import DOC_PATH

D = pd.to_datetime
SNAP, WINDOW = "2026-10", 3  # window = Aug, Sep, Oct 2026


def usage_rows(sid, months: dict[str, dict[str, float]]) -> list[dict]:
    rows = []
    for month, values in months.items():
        row = {"subscriber_id": sid, "month": pd.Timestamp(month + "-01")}
        row.update({m: 0 for m in USAGE_MEASURES})
        row.update(values)
        rows.append(row)
    return rows


def province() -> dict[str, pd.DataFrame]:
    """Four subscribers; subscriber 3 joins after the snapshot."""
    branches = pd.DataFrame({
        "branch_id": ["urumqi", "hami", "kashgar"], "name_zh": ["乌鲁木齐", "哈密", "喀什"],
        "name_en": ["Urumqi", "Hami", "Kashgar"], "is_capital": [True, False, False]})
    subscribers = pd.DataFrame({
        "subscriber_id": [1, 2, 3, 4],
        "msisdn": ["13800000001", "13800000002", "13800000003", "13800000004"],
        "branch_id": ["urumqi", "hami", "hami", "kashgar"],
        "brand": ["gotone", "mzone", "easyown", "gotone"],
        "tariff_plan": ["t_a", "t_b", "t_a", "t_a"],
        "join_date": D(["2025-12-20", "2026-10-31", "2026-11-01", "2010-01-01"]),
        "age": [30.0, np.nan, 40.0, 55.0],
        "gender": ["M", None, "F", "F"],
        "rejoined": [False, True, False, False],
    })
    usage = pd.DataFrame(
        usage_rows(1, {
            "2026-07": {"arpu": 1000, "content_games": 100},
            "2026-08": {"arpu": 10, "voice_minutes": 1, "content_news": 3},
            "2026-09": {"arpu": 20, "voice_minutes": 2, "content_music": 4},
            "2026-10": {"arpu": 60, "voice_minutes": 3, "content_news": 1},
            "2026-11": {"arpu": 5000, "voice_minutes": 99},
        })
        + usage_rows(2, {"2026-10": {"arpu": 7, "sms_count": 5}})
        + usage_rows(4, {"2026-08": {"arpu": 10}, "2026-09": {"arpu": 30}})
    )
    int_measures = [c.name for c in _usage_columns() if c.dtype == "int"]
    usage[int_measures] = usage[int_measures].astype("int64")
    usage[[m for m in USAGE_MEASURES if m not in int_measures]] = \
        usage[[m for m in USAGE_MEASURES if m not in int_measures]].astype("float64")
    products = pd.DataFrame({
        "product_id": ["mn_a", "mn_b", "st", "rb"],
        "family": ["mobile_newspaper", "mobile_newspaper", "mobile_stock", "ringback_tone"],
        "name_zh": ["手机报A", "手机报B", "炒股", "彩铃"], "name_en": ["MN A", "MN B", "Stock", "Ringback"],
        "content_category": ["news", "sports", "finance", None],
        "edition": ["general", "sports", None, None],
        "monthly_fee": [3.0, 3.0, 10.0, 5.0], "free_months": [1, 0, 0, 0],
        "required_capability": ["mms", "mms", "java", None],
    })
    orders = pd.DataFrame([
        (1, 1, "mn_a", "2026-03-10", "order"), (2, 1, "mn_a", "2026-08-15", "unsubscribe"),
        (3, 1, "mn_b", "2026-09-01", "order"), (4, 1, "mn_b", "2026-11-10", "unsubscribe"),
        (5, 1, "st", "2026-12-01", "order"),
        (6, 4, "rb", "2026-10-31", "order"),
        (7, 4, "mn_a", "2026-01-05", "order"), (8, 4, "mn_a", "2026-02-01", "order"),
        (9, 4, "mn_a", "2026-07-31", "unsubscribe"),
    ], columns=["event_id", "subscriber_id", "product_id", "event_date", "event_type"])
    orders["event_date"] = D(orders["event_date"])
    orders["channel"] = "sms"
    models = pd.DataFrame({
        "handset_model": ["m_low", "m_high"], "vendor": ["v1", "v2"], "price_band": ["low", "high"],
        "cap_wap": [True, True], "cap_mms": [False, True], "cap_java": [False, True], "cap_mp3": [False, True],
        "smartphone": [False, True]})
    handsets = pd.DataFrame({
        "subscriber_id": [1, 1, 1, 4, 4],
        "event_date": D(["2019-05-01", "2026-10-03", "2026-11-20", "2026-08-20", "2026-09-30"]),
        "imei": ["860000000000001", "860000000000002", "860000000000003", "860000000000004", "860000000000005"],
        "handset_model": ["m_low", "m_high", "m_low", "m_high", "m_low"]})
    return {"branches": branches, "handset_models": models, "vas_products": products, "subscribers": subscribers,
            "monthly_usage": usage, "vas_orders": orders, "handset_events": handsets}


def _usage_columns():
    from workbench.data.tables import table

    return [table("monthly_usage").column(m) for m in USAGE_MEASURES]


@pytest.fixture(scope="module")
def feats() -> pd.DataFrame:
    return build_features(province(), SNAP, WINDOW)


def test_one_row_per_subscriber_joined_by_the_snapshot_in_catalogue_order(feats):
    assert list(feats.index) == [1, 2, 4]
    assert feats.index.name == "subscriber_id"
    assert list(feats.columns) == [f.name for f in FEATURES]


def test_attributes(feats):
    assert feats["tenure_months"].tolist() == [10, 0, 201]
    assert feats["is_capital"].tolist() == [True, False, False]
    assert feats["rejoined"].tolist() == [False, True, False]
    assert feats.loc[1, "age"] == 30.0 and math.isnan(feats.loc[2, "age"])
    assert feats.loc[1, "gender"] == "M" and pd.isna(feats.loc[2, "gender"])
    assert list(feats["brand"].cat.categories) == list(BRANDS)
    assert list(feats["tariff_plan"].cat.categories) == ["t_a", "t_b"]
    assert feats["branch_id"].astype(str).tolist() == ["urumqi", "hami", "kashgar"]


def test_usage_level_peak_last_and_least_squares_trend(feats):
    # subscriber 1: arpu 10, 20, 60 in Aug..Oct (July and November are outside the window)
    assert feats.loc[1, "arpu_mean"] == pytest.approx(30.0)
    assert feats.loc[1, "arpu_max"] == 60.0
    assert feats.loc[1, "arpu_last"] == 60.0
    assert feats.loc[1, "arpu_trend"] == pytest.approx(25.0)  # slope of (0,10),(1,20),(2,60)
    assert feats.loc[1, "voice_minutes_trend"] == pytest.approx(1.0)
    assert feats.loc[1, "usage_months"] == 3
    # subscriber 4: Aug 10, Sep 30, no October row
    assert feats.loc[4, "arpu_mean"] == pytest.approx(20.0)
    assert math.isnan(feats.loc[4, "arpu_last"])
    assert feats.loc[4, "arpu_trend"] == pytest.approx(20.0)
    # subscriber 2: one month only -> no trend
    assert feats.loc[2, "sms_count_mean"] == 5.0 and feats.loc[2, "sms_count_last"] == 5.0
    assert math.isnan(feats.loc[2, "sms_count_trend"])
    assert feats.loc[2, "usage_months"] == 1


def test_content_shares(feats):
    # subscriber 1 consumed news 3 + 1 and music 4 in the window (games 100 in July do not count)
    assert feats.loc[1, "content_share_news"] == pytest.approx(0.5)
    assert feats.loc[1, "content_share_music"] == pytest.approx(0.5)
    assert feats.loc[1, "content_share_games"] == 0.0
    assert sum(feats.loc[1, f"content_share_{c}"] for c in CONTENT_CATEGORIES) == pytest.approx(1.0)
    assert all(math.isnan(feats.loc[4, f"content_share_{c}"]) for c in CONTENT_CATEGORIES)


def test_vas_history_by_family_and_category(feats):
    f = feats
    # subscriber 1: mn_a ordered in March, left in August; mn_b ordered in September (left after the snapshot)
    assert f.loc[1, "vas_fam_mobile_newspaper_orders"] == 1
    assert f.loc[1, "vas_fam_mobile_newspaper_unsubscribes"] == 1
    assert bool(f.loc[1, "vas_fam_mobile_newspaper_active"]) is True
    assert f.loc[1, "vas_fam_mobile_newspaper_months_since_order"] == 1.0
    assert (f.loc[1, "vas_cat_news_orders"], f.loc[1, "vas_cat_news_unsubscribes"]) == (0, 1)
    assert bool(f.loc[1, "vas_cat_news_active"]) is False
    assert f.loc[1, "vas_cat_news_months_since_order"] == 7.0
    assert (f.loc[1, "vas_cat_sports_orders"], bool(f.loc[1, "vas_cat_sports_active"])) == (1, True)
    # the stock order of December is after the snapshot
    assert f.loc[1, "vas_fam_mobile_stock_orders"] == 0
    assert math.isnan(f.loc[1, "vas_fam_mobile_stock_months_since_order"])
    # subscriber 4: ring-back tone ordered on the snapshot month's last day; mn_a (repeated order) left in July
    assert (f.loc[4, "vas_fam_ringback_tone_orders"], bool(f.loc[4, "vas_fam_ringback_tone_active"])) == (1, True)
    assert f.loc[4, "vas_fam_ringback_tone_months_since_order"] == 0.0
    assert (f.loc[4, "vas_fam_mobile_newspaper_orders"], f.loc[4, "vas_fam_mobile_newspaper_unsubscribes"]) == (0, 0)
    assert f.loc[4, "vas_fam_mobile_newspaper_months_since_order"] == 9.0  # the spell started 2026-01-05
    # subscriber 2 never ordered anything
    assert f.loc[2, [c for c in f.columns if c.endswith("_orders")]].sum() == 0
    assert not f.loc[2, [c for c in f.columns if c.startswith("vas_") and c.endswith("_active")]].any()


def test_handset_at_the_snapshot(feats):
    f = feats
    # subscriber 1 changed to m_high on 2026-10-03 (the November change is after the snapshot)
    assert [bool(f.loc[1, f"handset_cap_{c}"]) for c in CAPABILITIES] == [True] * len(CAPABILITIES)
    assert f.loc[1, "handset_price_band"] == "high" and bool(f.loc[1, "handset_smartphone"])
    assert f.loc[1, "handset_months_since_change"] == 0.0
    assert (bool(f.loc[1, "handset_changed_1m"]), bool(f.loc[1, "handset_changed_2m"])) == (True, True)
    assert f.loc[1, "handset_changes_window"] == 1
    # subscriber 4: first handset in August (not a change), changed on 2026-09-30
    assert f.loc[4, "handset_price_band"] == "low"
    assert (bool(f.loc[4, "handset_cap_wap"]), bool(f.loc[4, "handset_cap_mms"])) == (True, False)
    assert f.loc[4, "handset_months_since_change"] == 1.0
    assert (bool(f.loc[4, "handset_changed_1m"]), bool(f.loc[4, "handset_changed_2m"])) == (False, True)
    assert f.loc[4, "handset_changes_window"] == 1
    # subscriber 2: no handset known
    assert not f.loc[2, "handset_known"] and pd.isna(f.loc[2, "handset_price_band"])
    assert math.isnan(f.loc[2, "handset_months_since_change"]) and f.loc[2, "handset_changes_window"] == 0


def test_dtypes_follow_the_catalogue(feats):
    expected = {"int": "int64", "float": "float64", "bool": "bool", "category": "category"}
    for f in FEATURES:
        assert str(feats[f.name].dtype) == expected[f.dtype], f.name


def _perturbed_after_snapshot(data: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Change every row dated after the snapshot month, add new ones and a late subscriber."""
    end = pd.Timestamp("2026-10-31")
    d = {k: v.copy() for k, v in data.items()}
    u = d["monthly_usage"]
    late = u["month"] > end
    measures = list(USAGE_MEASURES)
    u.loc[late, measures] = u.loc[late, measures] * 7 + 3
    extra = pd.DataFrame(usage_rows(2, {"2026-12": {"arpu": 999, "content_sports": 50}}))
    d["monthly_usage"] = pd.concat([u, extra.astype(u.dtypes.to_dict())], ignore_index=True)
    o = d["vas_orders"]
    o.loc[o["event_date"] > end, "event_type"] = "unsubscribe"
    o.loc[o["event_date"] > end, "event_date"] = pd.Timestamp("2026-11-01")
    more = pd.DataFrame({"event_id": [100, 101], "subscriber_id": [2, 4], "product_id": ["mn_b", "rb"],
                         "event_date": D(["2026-11-02", "2026-11-03"]), "event_type": ["order", "unsubscribe"],
                         "channel": ["wap", "hall"]})
    d["vas_orders"] = pd.concat([o, more], ignore_index=True)
    h = d["handset_events"]
    h.loc[h["event_date"] > end, "handset_model"] = "m_high"
    d["handset_events"] = pd.concat([h, pd.DataFrame({
        "subscriber_id": [2], "event_date": D(["2026-11-15"]), "imei": ["860000000000009"],
        "handset_model": ["m_high"]})], ignore_index=True)
    s = d["subscribers"]
    d["subscribers"] = pd.concat([s, s.iloc[[2]].assign(subscriber_id=5, join_date=D(["2026-12-01"]))],
                                 ignore_index=True)
    return d


def test_no_leakage_from_rows_after_the_snapshot(feats):
    moved = build_features(_perturbed_after_snapshot(province()), SNAP, WINDOW)
    pd.testing.assert_frame_equal(moved, feats)


def test_a_change_inside_the_window_does_move_features(feats):
    """The leakage test's counterpart: it would notice a change (the assertion can fail)."""
    d = province()
    d["monthly_usage"].loc[d["monthly_usage"]["month"] == pd.Timestamp("2026-10-01"), "arpu"] += 1
    moved = build_features(d, SNAP, WINDOW)
    assert moved.loc[1, "arpu_last"] == 61.0 and feats.loc[1, "arpu_last"] == 60.0


def test_same_features_from_parquet_csv_duckdb_and_frames(tmp_path, feats):
    data = province()
    pq, csv = tmp_path / "pq", tmp_path / "csv"
    pq.mkdir()
    csv.mkdir()
    db = duckdb.connect(str(tmp_path / "province.duckdb"))
    for name, df in data.items():
        df.to_parquet(pq / f"{name}.parquet", index=False)
        df.to_csv(csv / f"{name}.csv", index=False)
        db.register("frame", df)
        db.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
        db.unregister("frame")
    db.close()
    for location in (pq, csv, tmp_path / "province.duckdb"):
        pd.testing.assert_frame_equal(build_features(location, SNAP, WINDOW), feats, check_exact=False)


def test_out_writes_parquet_and_read_features_restores_dtypes(tmp_path, feats):
    path = build_features(province(), SNAP, WINDOW, out=tmp_path / "f" / "features.parquet",
                          memory_limit="1GB", temp_directory=tmp_path / "spill", threads=1)
    assert path.is_file()
    pd.testing.assert_frame_equal(read_features(path), feats)
    part = read_features(path, columns=["arpu_mean", "brand"])
    assert list(part.columns) == ["arpu_mean", "brand"] and part["brand"].dtype == "category"


def test_open_connection_is_accepted_and_left_open(feats):
    from workbench.data.source import connect

    con = connect(province())
    pd.testing.assert_frame_equal(build_features(con, SNAP, WINDOW), feats)
    assert con.execute("SELECT count(*) FROM subscribers").fetchall() == [(4,)]
    con.close()


def test_bad_parameters_are_named():
    with pytest.raises(ParameterError, match="'snapshot' parameter must be a month such as '2026-10'.*'Oct'"):
        build_features(province(), "Oct", WINDOW)
    with pytest.raises(ParameterError, match="'window' parameter must be an integer >= 1. Got 0"):
        build_features(province(), SNAP, 0)
    with pytest.raises(ParameterError, match="'out' parameter must be a Parquet file path"):
        build_features(province(), SNAP, WINDOW, out=DOC_PATH.parent)
    with pytest.raises(ParameterError, match="'columns' parameter must be names of the feature catalogue"):
        read_features(DOC_PATH, columns=["nope"])
    with pytest.raises(FileNotFoundError, match="feature file .* does not exist"):
        read_features(DOC_PATH.parent / "no-such-file.parquet")


def test_missing_table_and_column_are_named():
    data = province()
    del data["handset_events"]
    with pytest.raises(DataValidationError, match="table 'handset_events' is missing"):
        build_features(data, SNAP, WINDOW)
    data = province()
    data["monthly_usage"] = data["monthly_usage"].drop(columns=["gprs_mb"])
    with pytest.raises(DataValidationError, match="'monthly_usage' lacks column\\(s\\) gprs_mb") as err:
        build_features(data, SNAP, WINDOW)
    assert err.value.problems[0]["table"] == "monthly_usage"


def test_a_boolean_feature_with_missing_values_is_refused():
    with pytest.raises(DataValidationError, match="feature 'is_capital' is boolean but has 1 missing values"):
        apply_feature_dtypes(pd.DataFrame({"is_capital": [True, None]}))


def test_catalogue_names_and_filters():
    assert len({f.name for f in FEATURES}) == len(FEATURES)
    assert len(feature_names("usage")) == 1 + 4 * len(USAGE_MEASURES)
    assert feature_names("vas_family", dtype="bool") == [f"vas_fam_{p}_active" for p in PRODUCT_FAMILIES]
    own = family_feature_names("mobile_newspaper")
    assert own == [f"vas_fam_mobile_newspaper_{k}" for k in ("orders", "unsubscribes", "active", "months_since_order")]
    kept = feature_names(exclude_product_family="mobile_newspaper")
    assert not set(own) & set(kept) and len(kept) == len(FEATURES) - 4
    assert feature("arpu_trend").measure == "arpu"
    with pytest.raises(KeyError, match="'nope' is not a feature of the catalogue"):
        feature("nope")
    with pytest.raises(ParameterError, match="'family' parameter must be one of"):
        feature_names("nope")
    with pytest.raises(ParameterError, match="'dtype' parameter must be one of"):
        feature_names(dtype="text")


def test_committed_doc_equals_the_rendering():
    assert DOC_PATH.read_text(encoding="utf-8") == render_feature_doc(), (
        "docs/features.md is stale: run "
        "python -c 'from workbench.features import write_feature_doc; write_feature_doc()'")
