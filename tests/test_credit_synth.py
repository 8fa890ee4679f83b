"""The synthetic province's credit tables: what they hold, their truth, and their validation."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.io import load, validate
from workbench.data.synth import generate_province
from workbench.data.synth.credit import CREDIT_SPAN_MONTHS, load_credit_truth
from workbench.data.tables import CREDIT_TABLES, REQUIRED_TABLES

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "province"
TRUTH = SAMPLE.with_name("province_truth")
AS_OF = "2026-10-31"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("credit") / "province"
    generate_province(3000, months=6, out=out, chunk_size=1000, progress=False)
    return out


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(folder / f"{name}.parquet")


def test_credit_tables_are_generated_deterministically_and_validate(small, tmp_path):
    again = tmp_path / "again"
    generate_province(3000, months=6, out=again, chunk_size=1000, progress=False)
    for name in CREDIT_TABLES:
        assert (small / f"{name}.parquet").read_bytes() == (again / f"{name}.parquet").read_bytes(), name
        assert len(_read(small, name)) > 0, name
    report = validate(small, as_of=AS_OF)
    assert report.ok, report.message()
    assert set(REQUIRED_TABLES) | set(CREDIT_TABLES) <= set(report.tables)


def test_accounts_are_the_recent_joiners_and_records_follow_them(small):
    subs = _read(small, "subscribers")
    acc = _read(small, "credit_accounts").merge(subs, on="subscriber_id")
    join = pd.to_datetime(subs["join_date"])
    first = pd.Timestamp("2026-10-01") - pd.DateOffset(months=CREDIT_SPAN_MONTHS - 1)
    assert set(acc["subscriber_id"]) == set(subs.loc[join >= first, "subscriber_id"])
    # bills only for postpaid accounts; the dealer only on the dealer channel
    bills = _read(small, "monthly_bills")
    postpaid = set(acc.loc[acc["payment_type"] == "postpaid", "subscriber_id"])
    assert set(bills["subscriber_id"]) <= postpaid
    assert acc["dealer_id"].notna().eq(acc["join_channel"] == "dealer").all()
    paid = bills["paid_date"].notna()
    assert (bills.loc[paid, "amount_paid"] == bills.loc[paid, "amount_due"]).all()
    assert (bills.loc[~paid, "amount_paid"] == 0).all()
    # a re-joiner's earlier subscription: exactly the re-joined accounts, ended before the new one began
    prev = _read(small, "previous_subscriptions").merge(subs[["subscriber_id", "join_date", "rejoined"]])
    assert set(prev["subscriber_id"]) == set(acc.loc[acc["rejoined"], "subscriber_id"])
    assert (pd.to_datetime(prev["previous_end_date"]) < pd.to_datetime(prev["join_date"])).all()
    assert (prev.loc[prev["end_reason"] == "voluntary", "unpaid_amount"] == 0).all()
    assert not prev["previous_subscriber_id"].isin(subs["subscriber_id"]).any()
    # several numbers share one ID document
    assert acc["id_key"].value_counts().max() > 1


def test_every_restart_follows_a_stop_and_write_offs_are_not_restarted(small):
    ev = _read(small, "account_events").sort_values(["subscriber_id", "event_date", "event_id"])
    previous = ev.groupby("subscriber_id")["event"].shift()
    assert (previous[ev["event"] == "restarted"] == "stopped_arrears").all()
    assert (previous[ev["event"] == "written_off"] == "stopped_arrears").all()


def test_truth_is_calibrated_and_urumqi_bad_payers_look_different():
    truth = load_credit_truth(TRUTH)
    assert truth["p_bad"].between(0, 1).all()
    assert abs(truth["p_bad"].mean() - truth["bad_realised"].mean()) < 0.015
    m = truth.merge(pd.read_parquet(SAMPLE / "subscribers.parquet"), on="subscriber_id")
    months = pd.read_parquet(SAMPLE / "account_months.parquet")
    first = months.sort_values("month").groupby("subscriber_id", as_index=False).nth(1)[["subscriber_id", "charges"]]
    m = m.merge(first, on="subscriber_id")
    urumqi = m["branch_id"] == "urumqi"
    corr_u = np.corrcoef(m.loc[urumqi, "charges"], m.loc[urumqi, "p_bad"])[0, 1]
    corr_o = np.corrcoef(m.loc[~urumqi, "charges"], m.loc[~urumqi, "p_bad"])[0, 1]
    # in Urumqi heavy early usage signals risk; elsewhere spending power protects
    assert corr_u > 0.2 and corr_o < 0


def test_validate_names_bad_rows_of_a_credit_table(tmp_path):
    frames = {name: pd.read_parquet(SAMPLE / f"{name}.parquet") for name in (*REQUIRED_TABLES, "credit_accounts",
                                                                              "payments")}
    frames["credit_accounts"].loc[[0, 3], "payment_type"] = "cash"
    frames["payments"].loc[5, "amount"] = -10.0
    frames["payments"].loc[7, "subscriber_id"] = 999_999_999
    report = validate(frames, as_of=AS_OF)
    keys = {(p.table, p.column, p.check) for p in report.problems}
    assert ("credit_accounts", "payment_type", "not_allowed") in keys
    assert ("payments", "amount", "below_min") in keys
    assert ("payments", "subscriber_id", "orphan_key") in keys
    bad = next(p for p in report.problems if p.column == "payment_type")
    assert bad.count == 2 and set(bad.rows) == {0, 3}


def test_an_extract_without_credit_tables_is_still_complete():
    frames = {name: pd.read_parquet(SAMPLE / f"{name}.parquet") for name in REQUIRED_TABLES}
    province = load(frames, as_of=AS_OF)
    assert list(province) == list(REQUIRED_TABLES)
