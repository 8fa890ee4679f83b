"""Tests of the synthetic province generator (workbench.data.synth) and `workbench sample`."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score

from workbench.cli import main
from workbench.data.source import connect
from workbench.data.synth import (
    CAMPAIGN_CHANNELS, DEFAULT_CHUNK_SIZE, DEFAULT_END_MONTH, DEFAULT_MONTHS, DEFAULT_SEED, DEFAULT_SUBSCRIBERS,
    META_FILE, STABLE_MONTHS, TARGET_STABLE_SHARE, TRUTH_FILE, default_truth_folder, draw_campaign_response,
    generate_province, load_truth, truth_schema,
)
from workbench.data.synth.writer import ARROW_TYPES
from workbench.data.tables import (
    BRANCHES, CONTENT_CATEGORIES, ORDER_CHANNELS, PRODUCT_FAMILIES, TABLE_ORDER, TABLES,
)
from workbench.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "province"
END = pd.Timestamp("2026-10-31")
WINDOW_START = pd.Timestamp("2026-05-01")


def _q(con, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """3,000 subscribers in 3 chunks."""
    out = tmp_path_factory.mktemp("small") / "prov"
    summary = generate_province(3000, 6, seed=7, out=out, chunk_size=1000, progress=False)
    return out, summary


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """50,000 subscribers with the default seed: the statistical checks."""
    out = tmp_path_factory.mktemp("big") / "prov"
    summary = generate_province(50_000, 6, out=out, progress=False)
    con = connect(out)
    truth, meta = load_truth(default_truth_folder(out))
    con.register("truth", truth)
    return con, truth, meta, summary


# ------------------------------------------------------------------ schema and data-model conformance
def test_every_table_is_written_with_the_data_model_columns_and_types(small):
    out, summary = small
    for name in TABLE_ORDER:
        schema = pq.read_schema(out / f"{name}.parquet")
        expected = [(c.name, ARROW_TYPES[c.dtype]) for c in TABLES[name].columns]
        assert [(f.name, f.type) for f in schema] == expected, name
        assert pq.ParquetFile(out / f"{name}.parquet").metadata.num_rows == summary["rows"][name]
    assert summary["rows"]["subscribers"] == 3000
    assert summary["rows"]["branches"] == len(BRANCHES)


def test_values_respect_nullability_allowed_values_and_bounds(small):
    out, _ = small
    con = connect(out)
    for name in TABLE_ORDER:
        for c in TABLES[name].columns:
            col = f'"{c.name}"'
            if not c.nullable:
                assert _q(con, f"SELECT count(*) n FROM {name} WHERE {col} IS NULL").n[0] == 0, (name, c.name)
            if c.allowed:
                vals = set(_q(con, f"SELECT DISTINCT {col} v FROM {name} WHERE {col} IS NOT NULL").v)
                assert vals <= set(c.allowed), (name, c.name, vals - set(c.allowed))
            if c.min is not None:
                assert _q(con, f"SELECT count(*) n FROM {name} WHERE {col} < {c.min}").n[0] == 0, (name, c.name)
            if c.max is not None:
                assert _q(con, f"SELECT count(*) n FROM {name} WHERE {col} > {c.max}").n[0] == 0, (name, c.name)
            if c.dtype == "date":
                latest = _q(con, f"SELECT max({col}) m FROM {name}").m[0]
                assert pd.Timestamp(latest) <= END, (name, c.name, latest)


def test_primary_keys_are_unique_and_foreign_keys_resolve(small):
    out, _ = small
    con = connect(out)
    for name in TABLE_ORDER:
        t = TABLES[name]
        keys = ", ".join(t.primary_key)
        dup = _q(con, f"SELECT count(*) n FROM (SELECT {keys} FROM {name} GROUP BY {keys} HAVING count(*) > 1)")
        assert dup.n[0] == 0, name
        for col, (ref, ref_col) in t.foreign_keys.items():
            orphans = _q(con, f"SELECT count(*) n FROM {name} x ANTI JOIN {ref} r ON x.{col} = r.{ref_col}")
            assert orphans.n[0] == 0, (name, col)


def test_the_province_passes_the_workbench_validator(small):
    from workbench.data.io import validate

    out, _ = small
    report = validate(out, "2026-10-31", progress=False)
    assert report.ok, report.format()


def test_identifiers_phone_numbers_imeis_and_event_ids(small):
    out, _ = small
    con = connect(out)
    s = _q(con, "SELECT msisdn FROM subscribers")
    assert s.msisdn.str.fullmatch(r"1[35]\d{9}").all() and s.msisdn.is_unique
    h = _q(con, "SELECT imei FROM handset_events")
    assert h.imei.str.fullmatch(r"\d{15}").all() and h.imei.is_unique
    o = _q(con, "SELECT event_id, subscriber_id FROM vas_orders")
    assert (o.event_id // 1000 == o.subscriber_id).all()


def test_calendar_months_join_dates_and_the_first_handset(small):
    out, _ = small
    con = connect(out)
    months = _q(con, "SELECT DISTINCT month FROM monthly_usage ORDER BY 1").month
    assert list(months) == list(pd.date_range(WINDOW_START, periods=6, freq="MS"))
    # subscribers who joined inside the window start in their join month, one row per month since
    j = _q(con, """SELECT s.subscriber_id, date_trunc('month', s.join_date) jm, min(u.month) first, count(*) n
                   FROM subscribers s JOIN monthly_usage u USING (subscriber_id) GROUP BY ALL""")
    late = j[j.jm >= WINDOW_START]
    assert len(late) > 20
    assert (late["first"] == late.jm).all()
    assert (late.n == (END.year * 12 + END.month) - (late.jm.dt.year * 12 + late.jm.dt.month) + 1).all()
    early = j[j.jm < WINDOW_START]
    assert (early["first"] == WINDOW_START).all() and (early.n == 6).all()
    first = _q(con, """SELECT h.event_date, greatest(s.join_date, DATE '2026-05-01') expected
                       FROM (SELECT subscriber_id, min(event_date) event_date FROM handset_events GROUP BY 1) h
                       JOIN subscribers s USING (subscriber_id)""")
    assert (first.event_date == first.expected).all()


def test_orders_never_precede_the_join_date_and_history_precedes_the_window(small):
    out, _ = small
    con = connect(out)
    before_join = _q(con, """SELECT count(*) n FROM vas_orders o JOIN subscribers s USING (subscriber_id)
                             WHERE o.event_date < s.join_date""")
    assert before_join.n[0] == 0
    assert _q(con, "SELECT count(*) n FROM vas_orders WHERE event_date < DATE '2026-05-01'").n[0] > 100
    # an unsubscribe always follows an order of the same product
    bad = _q(con, """SELECT count(*) n FROM (
                       SELECT event_type, lag(event_type) OVER (PARTITION BY subscriber_id, product_id
                                                                ORDER BY event_date) prev FROM vas_orders)
                     WHERE event_type = 'unsubscribe' AND (prev IS NULL OR prev <> 'order')""")
    assert bad.n[0] == 0


# ------------------------------------------------------------------ determinism and chunks
def test_same_arguments_give_byte_identical_files_and_another_seed_differs(small, tmp_path):
    out, _ = small
    again = tmp_path / "prov"
    generate_province(3000, 6, seed=7, out=again, chunk_size=1000, progress=False)
    for name in TABLE_ORDER:
        assert (again / f"{name}.parquet").read_bytes() == (out / f"{name}.parquet").read_bytes(), name
    for name in (TRUTH_FILE, META_FILE):
        assert (default_truth_folder(again) / name).read_bytes() == (default_truth_folder(out) / name).read_bytes()
    other = tmp_path / "other"
    generate_province(3000, 6, seed=8, out=other, chunk_size=1000, progress=False)
    a = pq.read_table(out / "subscribers.parquet")
    b = pq.read_table(other / "subscribers.parquet")
    assert a.column("subscriber_id").equals(b.column("subscriber_id"))
    assert not a.equals(b)
    assert (other / "monthly_usage.parquet").read_bytes() != (out / "monthly_usage.parquet").read_bytes()


def test_chunk_size_keeps_schemas_and_row_counts_of_the_catalogues(small, tmp_path):
    out, _ = small
    one = tmp_path / "one"
    summary = generate_province(3000, 6, seed=7, out=one, chunk_size=3000, progress=False)
    assert summary["rows"]["subscribers"] == 3000
    for name in TABLE_ORDER:
        assert pq.read_schema(one / f"{name}.parquet").equals(pq.read_schema(out / f"{name}.parquet")), name
    for name in ("branches", "handset_models", "vas_products"):
        assert pq.read_table(one / f"{name}.parquet").equals(pq.read_table(out / f"{name}.parquet"))
    assert pq.read_schema(default_truth_folder(one) / TRUTH_FILE).equals(truth_schema())


def _assert_same_table(a, b, where: str) -> None:
    assert a.schema.equals(b.schema), where
    for name in a.column_names:
        x, y = a.column(name), b.column(name)
        if x.type in ("double", "float"):
            np.testing.assert_allclose(x.to_numpy(), y.to_numpy(), rtol=1e-9, atol=1e-12, err_msg=f"{where}.{name}")
        else:
            assert x.equals(y), f"{where}.{name}"


def test_committed_sample_equals_its_regeneration(tmp_path):
    """The sample made by ``make sample``.

    (``workbench sample --subscribers 20000 --months 6 --seed 20261126 --out sample_data/province``)
    """
    out = tmp_path / "province"
    assert main(["sample", "--subscribers", "20000", "--months", "6", "--seed", "20261126",
                 "--out", str(out), "--no-progress"]) == 0
    for name in TABLE_ORDER:
        committed = SAMPLE / f"{name}.parquet"
        if committed.read_bytes() != (out / f"{name}.parquet").read_bytes():
            # other library builds may write other bytes: then the contents must still be equal
            _assert_same_table(pq.read_table(committed), pq.read_table(out / f"{name}.parquet"), name)
    truth_dir = default_truth_folder(SAMPLE)
    _assert_same_table(pq.read_table(truth_dir / TRUTH_FILE),
                       pq.read_table(out.with_name("province_truth") / TRUTH_FILE), "truth")
    assert json.loads((truth_dir / META_FILE).read_text()) == json.loads(
        (out.with_name("province_truth") / META_FILE).read_text())


# ------------------------------------------------------------------ calibration and behaviour
def test_stable_newspaper_share_is_calibrated(big):
    con, truth, meta, summary = big
    share = meta["stable_share_mobile_newspaper"]
    # 3.66 % (38,086 of 1,039,229); at 50k the sampling sd is 0.08 pp
    assert abs(share - TARGET_STABLE_SHARE) < 0.004, share
    assert truth["stable_end_mobile_newspaper"].mean() == pytest.approx(share, abs=1e-6)


def test_stable_subscribers_follow_from_the_order_records(big):
    """Re-derive the stable holders from vas_orders alone: a newspaper order not undone, ordered by month M-2."""
    con, truth, _, _ = big
    derived = _q(con, f"""
        WITH e AS (
            SELECT o.subscriber_id, o.event_type, o.event_date,
                   row_number() OVER (PARTITION BY o.subscriber_id ORDER BY o.event_date DESC, o.event_id DESC) r
            FROM vas_orders o JOIN vas_products p USING (product_id) WHERE p.family = 'mobile_newspaper')
        SELECT subscriber_id FROM e
        WHERE r = 1 AND event_type = 'order'
          AND event_date < DATE '2026-10-01' - INTERVAL {STABLE_MONTHS - 2} MONTH""")
    expected = truth.loc[truth.stable_end_mobile_newspaper, "subscriber_id"]
    assert set(derived.subscriber_id) == set(expected)


def test_about_a_quarter_change_handset_per_year_more_at_high_arpu(big):
    con, *_ = big
    d = _q(con, """
        WITH h AS (SELECT subscriber_id, count(*) - 1 changes FROM handset_events GROUP BY 1),
             a AS (SELECT subscriber_id, avg(arpu) arpu FROM monthly_usage GROUP BY 1 HAVING count(*) = 6)
        SELECT ntile(4) OVER (ORDER BY arpu) q, changes > 0 changed FROM h JOIN a USING (subscriber_id)""")
    six_months = d.changed.mean()
    yearly = 1 - (1 - six_months) ** 2
    assert 0.20 < yearly < 0.30, yearly
    by_q = d.groupby("q").changed.mean()
    assert by_q[4] > 1.5 * by_q[1]


def test_new_handsets_are_more_capable(big):
    con, *_ = big
    d = _q(con, """
        SELECT (row_number() OVER (PARTITION BY subscriber_id ORDER BY event_date) > 1) is_new, m.cap_mms, m.smartphone
        FROM handset_events JOIN handset_models m USING (handset_model)""")
    g = d.groupby("is_new")[["cap_mms", "smartphone"]].mean()
    assert g.loc[True, "cap_mms"] > g.loc[False, "cap_mms"] + 0.05
    assert g.loc[True, "smartphone"] > g.loc[False, "smartphone"]


def test_urumqi_behaves_measurably_differently(big):
    con, *_ = big
    d = _q(con, """
        SELECT s.branch_id = 'urumqi' capital, avg(u.arpu) arpu, avg(u.gprs_mb) gprs, avg(u.wap_visits) wap,
               avg((s.brand = 'gotone')::int) gotone
        FROM monthly_usage u JOIN subscribers s USING (subscriber_id) GROUP BY 1""").set_index("capital")
    for col in ("arpu", "gprs", "wap", "gotone"):
        assert d.loc[True, col] > 1.25 * d.loc[False, col], col
    sizes = _q(con, "SELECT branch_id, count(*) n FROM subscribers GROUP BY 1").set_index("branch_id").n
    assert 0.23 < sizes["urumqi"] / sizes.sum() < 0.27
    assert sizes.idxmax() == "urumqi" and len(sizes) == len(BRANCHES)
    smart = _q(con, """
        SELECT s.branch_id = 'urumqi' capital, avg(m.smartphone::int) smart
        FROM handset_events h JOIN handset_models m USING (handset_model) JOIN subscribers s USING (subscriber_id)
        GROUP BY 1""").set_index("capital").smart
    assert smart[True] > 1.5 * smart[False]


def test_brand_mix_and_attributes(big):
    con, *_ = big
    brand = _q(con, "SELECT brand, count(*) / sum(count(*)) OVER () share FROM subscribers GROUP BY 1")
    share = brand.set_index("brand").share
    assert share["gotone"] == pytest.approx(0.15, abs=0.02)
    assert share["mzone"] == pytest.approx(0.30, abs=0.03)
    assert share["easyown"] == pytest.approx(0.55, abs=0.03)
    s = _q(con, """SELECT avg(rejoined::int) rejoined, avg((age IS NULL)::int) no_age,
                          avg((gender IS NULL)::int) no_gender, min(join_date) first_join FROM subscribers""")
    assert 0.10 < s.rejoined[0] < 0.20 and 0 < s.no_age[0] < 0.15 and 0 < s.no_gender[0] < 0.1
    assert pd.Timestamp(s.first_join[0]) < pd.Timestamp("2016-01-01")
    arpu = _q(con, """SELECT s.brand, avg(u.arpu) arpu, avg(u.sms_count) sms FROM monthly_usage u
                      JOIN subscribers s USING (subscriber_id) GROUP BY 1""").set_index("brand")
    assert arpu.arpu["gotone"] > arpu.arpu["mzone"] > arpu.arpu["easyown"]
    assert arpu.sms["mzone"] > 2 * arpu.sms["easyown"]
    plans = _q(con, "SELECT brand, count(DISTINCT tariff_plan) n FROM subscribers GROUP BY 1").set_index("brand").n
    assert plans.between(3, 4).all()


def test_free_month_leavers_and_re_orders_exist(big):
    con, *_ = big
    d = _q(con, """
        WITH o AS (
            SELECT o.subscriber_id, o.event_type, o.event_date, p.family,
                   lead(o.event_type) OVER w next_type, lead(o.event_date) OVER w next_date
            FROM vas_orders o JOIN vas_products p USING (product_id)
            WINDOW w AS (PARTITION BY o.subscriber_id, p.family ORDER BY o.event_date))
        SELECT avg((next_type = 'unsubscribe' AND date_diff('month', date_trunc('month', event_date),
                    date_trunc('month', next_date)) = 1 AND day(next_date) <= 7)::int) free_leavers,
               count(*) orders
        FROM o WHERE event_type = 'order' AND family = 'mobile_newspaper'""")
    assert 0.2 < d.free_leavers[0] < 0.6
    re = _q(con, """SELECT count(*) n FROM (SELECT subscriber_id, product_id FROM vas_orders
                    WHERE event_type = 'order' GROUP BY ALL HAVING count(*) > 1)""")
    assert re.n[0] > 50


def test_order_channels_have_a_realistic_mix(big):
    con, *_ = big
    mix = _q(con, """SELECT channel, count(*) / sum(count(*)) OVER () share FROM vas_orders
                     WHERE event_type = 'order' GROUP BY 1""").set_index("channel").share
    assert set(mix.index) == set(ORDER_CHANNELS)
    assert mix.idxmax() == "sms" and mix["key_account"] < 0.1
    key = _q(con, """SELECT s.brand, avg((o.channel = 'key_account')::int) k FROM vas_orders o
                     JOIN subscribers s USING (subscriber_id) WHERE o.event_type = 'order' GROUP BY 1""")
    k = key.set_index("brand").k
    assert k["gotone"] > 2 * k["easyown"]


def test_content_consumption_reveals_the_true_preference(big):
    con, truth, *_ = big
    cols = ", ".join(f"sum(content_{c}) {c}" for c in CONTENT_CATEGORIES)
    u = _q(con, f"SELECT subscriber_id, {cols} FROM monthly_usage GROUP BY 1 ORDER BY 1")
    u = u.merge(truth[["subscriber_id", *[f"pref_{c}" for c in CONTENT_CATEGORIES]]], on="subscriber_id")
    total = u[list(CONTENT_CATEGORIES)].sum(axis=1)
    heavy = u[total >= 30]
    for c in CONTENT_CATEGORIES:
        r = np.corrcoef(heavy[c] / total[heavy.index], heavy[f"pref_{c}"])[0, 1]
        assert 0.6 < r < 0.999, (c, r)
    prefs = truth[[f"pref_{c}" for c in CONTENT_CATEGORIES]].sum(axis=1)
    np.testing.assert_allclose(prefs, 1.0, atol=1e-6)


def test_uptake_relates_to_observables_but_is_not_a_copy_of_one(big):
    con, truth, *_ = big
    by = _q(con, """SELECT s.brand, s.branch_id, t.stable_end_mobile_newspaper::int st
                    FROM truth t JOIN subscribers s USING (subscriber_id)""")
    brand = by.groupby("brand").st.mean()
    assert brand["gotone"] > 2 * brand["easyown"] and brand["mzone"] > 2 * brand["easyown"]
    branch = by.groupby("branch_id").st.mean()
    assert branch["urumqi"] == branch.max() and branch.max() > 1.8 * branch.min()
    # no MMS handset at the end of the window -> cannot become a newspaper subscriber
    mms = _q(con, """SELECT t.p_stable_next_mobile_newspaper p, t.p_order_base base, m.cap_mms
                     FROM truth t JOIN (SELECT subscriber_id, arg_max(handset_model, event_date) model
                                        FROM handset_events GROUP BY 1) h USING (subscriber_id)
                     JOIN handset_models m ON m.handset_model = h.model""")
    assert (mms.loc[~mms.cap_mms, ["p", "base"]] == 0).all().all()
    assert (mms.loc[mms.cap_mms, "p"] > 0).mean() > 0.9


def test_oracle_probability_is_exact_and_discriminates_the_realised_labels(big):
    _, truth, _, _ = big
    for fam in PRODUCT_FAMILIES:
        eligible = ~truth[f"held_end_{fam}"]
        p = truth.loc[eligible, f"p_stable_next_{fam}"]
        y = truth.loc[eligible, f"next_stable_{fam}"]
        # the realised count matches the true probabilities within 4.5 standard deviations
        expected, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
        assert abs(y.sum() - expected) < 4.5 * sd, (fam, y.sum(), expected)
        nexts = [f"p_stable_next_{fam}", f"next_stable_{fam}", f"next_order_{fam}"]
        assert (truth.loc[~eligible, nexts] == 0).all().all()
        assert (y <= truth.loc[eligible, f"next_order_{fam}"]).all()
    eligible = ~truth["held_end_mobile_newspaper"]
    auc = roc_auc_score(truth.loc[eligible, "next_stable_mobile_newspaper"],
                        truth.loc[eligible, "p_stable_next_mobile_newspaper"])
    assert 0.80 < auc < 0.95, auc


def test_campaign_truth_has_sure_things_persuadables_and_sleeping_dogs(big):
    _, truth, _, _ = big
    t = truth[truth.p_order_base > 0]
    for ch in CAMPAIGN_CHANNELS:
        uplift = t[f"p_order_{ch}"] - t.p_order_base
        assert uplift.mean() > 0
        assert 0.01 < (uplift < 0).mean() < 0.15                       # sleeping dogs
        assert 0.1 < np.corrcoef(t.p_order_base, uplift)[0, 1] < 0.8     # only partly aligned
        k = len(t) // 10
        by_uplift = uplift.nlargest(k).sum()
        by_base = uplift[t.p_order_base.rank(ascending=False, method="first") <= k].sum()
        assert by_uplift > 1.2 * by_base
    assert (t.p_order_outbound_call - t.p_order_base).mean() > (t.p_order_sms - t.p_order_base).mean()
    assert truth.p_keep.between(0, 1).all() and 0.3 < truth.p_keep.mean() < 0.8


def test_truth_folder_is_separate_and_documented(big, tmp_path):
    con, truth, meta, summary = big
    out, truth_dir = Path(summary["out"]), Path(summary["truth_out"])
    assert truth_dir == default_truth_folder(out) and truth_dir.name == "prov_truth"
    assert not (out / TRUTH_FILE).exists() and sorted(p.name for p in out.iterdir()) == sorted(
        f"{n}.parquet" for n in TABLE_ORDER)
    assert list(truth.columns) == truth_schema().names
    for fam in PRODUCT_FAMILIES:
        for col in ("p_stable_next", "next_order", "next_stable", "held_end", "stable_end"):
            assert f"{col}_{fam}" in truth.columns
    for c in CONTENT_CATEGORIES:
        assert f"pref_{c}" in truth.columns
    for ch in CAMPAIGN_CHANNELS:
        assert f"p_order_{ch}" in truth.columns
    assert {"p_order_base", "p_keep"} <= set(truth.columns)
    assert truth.subscriber_id.tolist() == list(range(1, 50_001))
    assert meta["seed"] == DEFAULT_SEED and meta["n_subscribers"] == 50_000 and meta["end_month"] == "2026-10"
    assert meta["target_stable_share_mobile_newspaper"] == round(TARGET_STABLE_SHARE, 6)
    custom = tmp_path / "elsewhere"
    s = generate_province(10, 2, seed=1, out=tmp_path / "p", truth_out=custom, progress=False)
    assert s["truth_out"] == str(custom) and (custom / TRUTH_FILE).is_file()


def test_load_truth_reads_columns_and_reports_problems(small, tmp_path):
    out, _ = small
    frame, meta = load_truth(default_truth_folder(out), columns=["subscriber_id", "p_order_base"])
    assert list(frame.columns) == ["subscriber_id", "p_order_base"] and len(frame) == 3000
    assert meta["seed"] == 7
    with pytest.raises(FileNotFoundError, match="no ground truth in"):
        load_truth(tmp_path)
    with pytest.raises(ParameterError, match="'columns' parameter"):
        load_truth(default_truth_folder(out), columns=["subscriber_id", "p_magic"])


# ------------------------------------------------------------------ campaign draws
def test_draw_campaign_response_uses_the_treated_probability():
    truth = pd.DataFrame({
        "subscriber_id": [1, 2, 3, 4],
        "p_order_base": [0.0, 1.0, 0.0, 1.0],
        "p_order_ivr": [1.0, 1.0, 0.0, 0.0],
        "p_keep": [1.0, 0.0, 1.0, 1.0],
    })
    r = draw_campaign_response(truth, [True, False, True, True], "ivr", rng=np.random.default_rng(0))
    assert r.columns.tolist() == ["subscriber_id", "treated", "ordered", "kept"]
    assert r.ordered.tolist() == [True, True, False, False]
    assert r.kept.tolist() == [True, False, False, False]
    big = pd.DataFrame({"subscriber_id": np.arange(20_000), "p_order_base": 0.1, "p_order_sms": 0.3, "p_keep": 0.5})
    treated = np.arange(20_000) % 2 == 0
    r = draw_campaign_response(big, treated, "sms", rng=1)
    assert r.ordered[treated].mean() == pytest.approx(0.3, abs=0.02)
    assert r.ordered[~treated].mean() == pytest.approx(0.1, abs=0.02)
    assert r.kept.sum() / r.ordered.sum() == pytest.approx(0.5, abs=0.03)


def test_draw_campaign_response_rejects_bad_arguments():
    truth = pd.DataFrame({"subscriber_id": [1], "p_order_base": [0.1], "p_order_sms": [0.2], "p_keep": [0.5]})
    with pytest.raises(ParameterError, match="'channel' parameter must be one of"):
        draw_campaign_response(truth, [True], "fax")
    with pytest.raises(ParameterError, match="'treated' parameter must be a boolean mask of length 1"):
        draw_campaign_response(truth, [True, False], "sms")
    with pytest.raises(ParameterError, match=r"truth table lacks columns \['p_order_ivr'\]"):
        draw_campaign_response(truth, [True], "ivr")


# ------------------------------------------------------------------ parameters and the command
@pytest.mark.parametrize("kwargs, match", [
    ({"n_subscribers": 0}, "'n_subscribers' parameter must be an integer from 1"),
    ({"n_subscribers": 2.5}, "'n_subscribers' parameter must be an integer"),
    ({"months": 0}, "'months' parameter must be an integer from 1 to 120"),
    ({"months": 121}, "'months' parameter must be an integer from 1 to 120"),
    ({"seed": -1}, "'seed' parameter must be an integer from 0"),
    ({"chunk_size": 0}, "'chunk_size' parameter must be an integer from 1"),
    ({"end_month": "2026-13"}, "'end_month' parameter must be a month written 'YYYY-MM'"),
    ({"end_month": "Oct 2026"}, "'end_month' parameter must be a month written 'YYYY-MM'"),
])
def test_bad_parameters_are_rejected(tmp_path, kwargs, match):
    args = {"n_subscribers": 10, "months": 2, "out": tmp_path / "p", "progress": False, **kwargs}
    with pytest.raises(ParameterError, match=match):
        generate_province(**args)
    assert not (tmp_path / "p").exists()


def test_truth_folder_must_differ_from_the_province_folder(tmp_path):
    with pytest.raises(ParameterError, match="'truth_out' parameter must be a folder other than the province"):
        generate_province(10, 2, out=tmp_path / "p", truth_out=tmp_path / "p", progress=False)


def test_command_defaults_match_the_generator():
    from workbench.commands.sample import DEFAULTS

    assert DEFAULTS == {"n_subscribers": DEFAULT_SUBSCRIBERS, "months": DEFAULT_MONTHS, "seed": DEFAULT_SEED,
                        "end_month": DEFAULT_END_MONTH, "chunk_size": DEFAULT_CHUNK_SIZE}


def test_command_writes_a_province_and_reports_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "en")  # the messages are compared in English (the CLI's default is zh)
    out = tmp_path / "p"
    rc = main(["sample", "--subscribers", "50", "--months", "2", "--seed", "3", "--out", str(out),
               "--truth-out", str(tmp_path / "t"), "--end-month", "2025-12", "--chunk-size", "20", "--no-progress"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"]["subscribers"] == 50 and summary["end_month"] == "2025-12"
    assert summary["chunk_size"] == 20 and (tmp_path / "t" / META_FILE).is_file()
    usage = pq.read_table(out / "monthly_usage.parquet").to_pandas()
    assert {str(m)[:7] for m in usage.month} <= {"2025-11", "2025-12"}
    assert main(["sample", "--subscribers", "0", "--out", str(tmp_path / "q"), "--no-progress"]) == 1
    assert "'n_subscribers' parameter" in capsys.readouterr().err
