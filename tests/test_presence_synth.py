"""Daily handset presence in the generator, its truth and its validation."""
from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from workbench.data.io import validate
from workbench.data.presence import presence_problems
from workbench.data.synth.generate import generate_province
from workbench.data.synth.presence import DAILY_DAYS, SWITCH_BACK_SHARE

AS_OF = "2026-10-31"


@pytest.fixture(scope="module")
def prov(tmp_path_factory):
    out = tmp_path_factory.mktemp("pres") / "prov"
    summary = generate_province(6000, months=3, out=out, progress=False)
    return out, out.with_name("prov_truth"), summary


def _sql(path, query):
    return duckdb.sql(query.replace("$P", str(path))).df()


def test_generated_presence_is_valid_and_consistent(prov):
    out, _, summary = prov
    report = validate(out, AS_OF)
    assert report.ok, report.message()
    assert "imei_presence" in report.tables and "imei_days" in report.tables
    assert summary["rows"]["imei_presence"] >= summary["rows"]["handset_events"]
    days = _sql(out, "SELECT min(day) lo, max(day) hi, count(DISTINCT day) n FROM '$P/imei_days.parquet'")
    assert days["n"].iloc[0] == DAILY_DAYS and str(days["hi"].iloc[0])[:10] == AS_OF
    # every adopted handset of handset_events is an IMEI of imei_presence, first seen on its event day
    miss = _sql(out, """SELECT count(*) n FROM '$P/handset_events.parquet' e LEFT JOIN '$P/imei_presence.parquet' p
                        USING (subscriber_id, imei) WHERE p.first_seen IS NULL OR p.first_seen <> e.event_date""")
    assert miss["n"].iloc[0] == 0


def test_truth_has_every_kind_and_rates_are_checked(prov):
    out, truth, summary = prov
    changes = pd.read_parquet(truth / "handset_changes.parquet")
    kinds = changes["kind"].value_counts()
    assert set(kinds.index) == {"stable", "switch_back", "trial"}
    adoptions = kinds["stable"] + kinds["switch_back"]
    assert abs(kinds["switch_back"] / adoptions - SWITCH_BACK_SHARE) < 0.08
    # every change of the truth is an IMEI seen on its subscriber, first on the change day
    seen = changes.merge(pd.read_parquet(out / "imei_presence.parquet"), on=["subscriber_id", "imei"])
    assert len(seen) == len(changes)
    assert (pd.to_datetime(seen["first_seen"]) == pd.to_datetime(seen["change_day"])).all()
    rates = json.loads((truth / "meta.json").read_text())["handset_presence"]
    assert 0.015 < rates["monthly_change_rate"] < 0.035            # the province's ~2.4 % a month
    assert rates["monthly_stable_change_rate"] < rates["monthly_change_rate"]
    assert 0.15 < rates["twelve_month_stable_change_share"] < 0.35  # the source's 25 % is a year's share
    resp = pd.read_parquet(truth / "trigger_response.parquet")
    assert len(resp) == 6000 and resp["trigger_lift"].notna().all()


def test_generation_is_deterministic(prov, tmp_path):
    out, _, _ = prov
    generate_province(6000, months=3, out=tmp_path / "again", progress=False)
    for name in ("imei_presence", "imei_days"):
        assert (tmp_path / "again" / f"{name}.parquet").read_bytes() == (out / f"{name}.parquet").read_bytes()


# ------------------------------------------------------------------ bad input named by validation
def _frames():
    pres = pd.DataFrame({
        "subscriber_id": [1, 1, 2], "imei": ["A1", "A2", "B1"],
        "first_seen": pd.to_datetime(["2026-09-01", "2026-10-10", "2026-09-01"]),
        "last_seen": pd.to_datetime(["2026-10-09", "2026-10-14", "2026-10-14"]),
        "active_days": [39, 5, 44],
    })
    days = pd.DataFrame({
        "subscriber_id": [1] * 6 + [1] * 5,
        "imei": ["A1"] * 6 + ["A2"] * 5,
        "day": pd.to_datetime([f"2026-10-{d:02d}" for d in range(4, 10)] + [f"2026-10-{d}" for d in range(10, 15)]),
    })
    return pres, days


def test_clean_presence_has_no_problem():
    pres, days = _frames()
    assert presence_problems({"imei_presence": pres, "imei_days": days}) == []


def test_gap_where_contiguous_use_is_claimed_is_named():
    pres, days = _frames()
    days = days.drop(index=8)          # A2 on 2026-10-12 missing although 5 days of 5 are claimed
    found = presence_problems({"imei_presence": pres, "imei_days": days})
    assert [(p["table"], p["check"]) for p in found] == [("imei_presence", "presence_gap")]
    assert found[0]["examples"] == ((1, "A2"),)


def test_more_days_than_the_span_is_named():
    pres, days = _frames()
    pres.loc[1, "active_days"] = 9
    found = presence_problems({"imei_presence": pres, "imei_days": days})
    assert ("imei_presence", "presence_span") in [(p["table"], p["check"]) for p in found]


def test_imei_on_two_subscribers_the_same_day_is_named():
    pres, days = _frames()
    days = pd.concat([days, pd.DataFrame({"subscriber_id": [2], "imei": ["A2"],
                                          "day": pd.to_datetime(["2026-10-11"])})], ignore_index=True)
    found = presence_problems({"imei_days": days})
    assert [(p["check"], p["count"]) for p in found] == [("imei_shared", 2)]
    assert found[0]["examples"][0][:2] == ("A2", "2026-10-11")


def test_day_outside_the_seen_range_is_named():
    pres, days = _frames()
    days.loc[0, "day"] = pd.Timestamp("2026-10-20")
    checks = [p["check"] for p in presence_problems({"imei_presence": pres, "imei_days": days})]
    assert "presence_outside" in checks


def test_validation_report_names_duplicated_days_and_shared_imei(prov, tmp_path):
    out, _, _ = prov
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in out.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    days = pd.read_parquet(out / "imei_days.parquet")
    other = int(days["subscriber_id"].iloc[-1])
    stolen = days[days["subscriber_id"] != other].iloc[[0]].assign(subscriber_id=other)
    days = pd.concat([days, days.iloc[[5]], stolen], ignore_index=True)
    days.to_parquet(bad / "imei_days.parquet", index=False)
    report = validate(bad, AS_OF)
    keys = {(p.table, p.check) for p in report.problems}
    assert ("imei_days", "duplicate_key") in keys          # the same day twice
    assert ("imei_days", "imei_shared") in keys            # one IMEI on two subscribers the same day
    assert "imei_days" in report.format("en")


def test_presence_tables_are_optional_for_older_extracts(prov, tmp_path):
    out, _, _ = prov
    old = tmp_path / "old"
    old.mkdir()
    for f in out.iterdir():
        if not f.name.startswith("imei_"):
            (old / f.name).write_bytes(f.read_bytes())
    report = validate(old, AS_OF)
    assert report.ok and "imei_days" not in report.tables
    asked = validate(old, AS_OF, tables=["subscribers", "imei_days"])
    assert [(p.table, p.check) for p in asked.problems] == [("imei_days", "missing_table")]
