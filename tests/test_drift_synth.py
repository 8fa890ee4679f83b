"""A drifted synthetic province (workbench.data.synth.drift, `workbench sample --drift`): each kind changes
what it documents, from the month it documents, and nothing else; the same arguments give the same bytes."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.data.synth import META_FILE, default_truth_folder, generate_province
from workbench.data.synth.drift import KINDS
from workbench.errors import ParameterError

N, MONTHS, SEED = 3000, 6, 11
START = pd.Timestamp("2026-08-01")    # the default: the middle month of 2026-05 .. 2026-10


def _gen(root, name, drift=None, **kw):
    out = root / name
    generate_province(N, MONTHS, seed=SEED, out=out, chunk_size=1500, progress=False, drift=drift, **kw)
    return out


@pytest.fixture(scope="module")
def provinces(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift")
    return {k: _gen(root, k, None if k == "plain" else k) for k in ("plain", *KINDS)}


def _read(folder, table):
    return pd.read_parquet(folder / f"{table}.parquet")


def test_without_drift_nothing_is_recorded_and_with_it_meta_says_what_and_from_when(provinces):
    plain = json.loads((default_truth_folder(provinces["plain"]) / META_FILE).read_text())
    assert "drift" not in plain
    meta = json.loads((default_truth_folder(provinces["usage"]) / META_FILE).read_text())
    assert meta["drift"]["kinds"] == ["usage"] and meta["drift"]["from"] == "2026-08"


def test_usage_multiplies_data_traffic_from_the_start_month_and_changes_nothing_else(provinces):
    plain, drifted = provinces["plain"], provinces["usage"]
    for table in ("subscribers", "vas_orders", "handset_events"):
        pd.testing.assert_frame_equal(_read(plain, table), _read(drifted, table))
    a, b = _read(plain, "monthly_usage"), _read(drifted, "monthly_usage")
    late = (pd.to_datetime(a["month"]) >= START).to_numpy()
    assert late.any() and (~late).any()
    for col in a.columns:
        if col in ("gprs_mb", "wap_visits"):
            continue
        pd.testing.assert_series_equal(a[col], b[col])
    pd.testing.assert_series_equal(a.loc[~late, "gprs_mb"], b.loc[~late, "gprs_mb"])
    np.testing.assert_allclose(b.loc[late, "gprs_mb"], (a.loc[late, "gprs_mb"] * 4).round(3), atol=1e-9)
    assert b.loc[late, "wap_visits"].sum() == pytest.approx(4 * a.loc[late, "wap_visits"].sum(), rel=1e-3)


def test_mix_is_an_mzone_recruitment_wave_in_the_drifted_months(provinces):
    a, b = _read(provinces["plain"], "subscribers"), _read(provinces["mix"], "subscribers")
    changed = (a["brand"] != b["brand"]) | (a["join_date"] != b["join_date"])
    assert 0.3 < changed.mean() < 0.5                     # the 40 % wave (some were M-Zone already)
    wave = b[changed]
    assert (wave["brand"] == "mzone").all() and (pd.to_datetime(wave["join_date"]) >= START).all()
    assert set(wave["tariff_plan"]) <= set(a.loc[a["brand"] == "mzone", "tariff_plan"])   # an M-Zone tariff
    share_before = (a["brand"] == "mzone").mean()
    assert (b["brand"] == "mzone").mean() > 1.7 * share_before   # the M-Zone share of the base about doubles
    pd.testing.assert_series_equal(a["age"], b["age"])          # the other attributes as drawn


def test_concept_changes_orders_only_from_the_start_month(provinces):
    a, b = _read(provinces["plain"], "vas_orders"), _read(provinces["concept"], "vas_orders")
    pd.testing.assert_frame_equal(_read(provinces["plain"], "subscribers"), _read(provinces["concept"], "subscribers"))
    before = lambda f: f[pd.to_datetime(f["event_date"]) < START].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(before(a), before(b))
    assert len(a) != len(b) or not a.equals(b)


def test_same_arguments_same_bytes(tmp_path):
    one = _gen(tmp_path, "one", "usage,mix", drift_from="2026-07")
    two = _gen(tmp_path, "two", "mix,usage", drift_from="2026-07")
    for f in sorted(one.glob("*.parquet")):
        assert f.read_bytes() == (two / f.name).read_bytes(), f.name


@pytest.mark.parametrize("kw, match", [
    ({"drift": "seasonal"}, "drift"),
    ({"drift": "usage", "drift_from": "2026-05"}, "drift_from.*2026-06 to 2026-10"),
    ({"drift": "usage", "drift_from": "2027-01"}, "drift_from"),
    ({"drift_from": "2026-08"}, "needs drift kinds"),
])
def test_bad_drift_arguments_are_named(tmp_path, kw, match):
    with pytest.raises(ParameterError, match=match):
        generate_province(100, 6, out=tmp_path / "p", progress=False, **kw)


def test_cli_sample_drift(tmp_path, capsys):
    rc = main(["sample", "--subscribers", "200", "--months", "4", "--out", str(tmp_path / "p"), "--drift",
               "usage,concept", "--drift-from", "2026-09", "--no-progress"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["drift"]["kinds"] == ["usage", "concept"] and summary["drift"]["from"] == "2026-09"
    rc = main(["sample", "--subscribers", "200", "--out", str(tmp_path / "q"), "--drift", "nope", "--no-progress"])
    assert rc != 0
