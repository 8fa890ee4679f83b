"""``workbench evaluate`` on a synthetic multi-arm e-mail campaign (shaped like the public e-mail data set)."""
import json

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main


def _mail() -> pd.DataFrame:
    # 100 customers per arm; visits: Mens 18, Womens 15, No E-Mail 10; conversions 4, 3, 1;
    # spend = 50 yuan per conversion; two zip codes alternating; a pre-period 'history'
    rows = []
    for arm, visits, conversions in (("Mens E-Mail", 18, 4), ("Womens E-Mail", 15, 3), ("No E-Mail", 10, 1)):
        for i in range(100):
            rows.append({
                "segment": arm,
                "visit": int(i < visits),
                "conversion": "yes" if i < conversions else "no",
                "spend": 50.0 if i < conversions else 0.0,
                "newbie": i % 3 == 0,
                "zip_code": "Urban" if i % 2 == 0 else "Rural",
                "history": float(100 + (i * 37) % 250),
            })
    return pd.DataFrame(rows)


@pytest.fixture()
def mail_csv(tmp_path):
    path = tmp_path / "mail.csv"
    _mail().to_csv(path, index=False)
    return path


def _run_json(capsys, *argv):
    rc = main(["evaluate", *argv, "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    return json.loads(out)


def test_text_arms_several_outcomes_json(capsys, mail_csv):
    doc = _run_json(capsys, "--data", str(mail_csv), "--arm", "segment", "--control", "No E-Mail",
                    "--outcome", "visit", "--outcome", "conversion", "--outcome", "spend", "--positive", "yes")
    assert doc["control"] == "No E-Mail" and doc["rows"] == 300
    effects = {(r["arm"], r["outcome"]): r for r in doc["effects"]}
    assert set(effects) == {(a, o) for a in ("Mens E-Mail", "Womens E-Mail") for o in ("visit", "conversion", "spend")}
    mens = effects[("Mens E-Mail", "visit")]
    # 18/100 vs 10/100: pooled p = 0.14, z = 0.08 / sqrt(0.14 * 0.86 * 0.02) = 0.08 / 0.049071 = 1.63028,
    # p = 2 * (1 - Phi(1.63028)) = 0.10304
    assert (mens["n_treated"], mens["n_control"]) == (100, 100)
    assert mens["mean_treated"] == pytest.approx(0.18) and mens["mean_control"] == pytest.approx(0.10)
    assert mens["abs_lift"] == pytest.approx(0.08)
    assert mens["statistic"] == pytest.approx(1.630278, abs=1e-6)
    assert mens["p_value"] == pytest.approx(0.103043, abs=1e-6)
    assert mens["rel_lift"] == pytest.approx(0.8)
    assert mens["abs_ci_low"] < 0.08 < mens["abs_ci_high"]
    # womens: 15/100 vs 10/100: pooled 0.125, z = 0.05 / 0.0467707 = 1.06904, p = 0.28505
    assert effects[("Womens E-Mail", "visit")]["p_value"] == pytest.approx(0.285049, abs=1e-6)
    # text outcome with --positive: 4/100 vs 1/100
    assert effects[("Mens E-Mail", "conversion")]["abs_lift"] == pytest.approx(0.03)
    assert effects[("Mens E-Mail", "conversion")]["kind"] == "binary"
    # numeric outcome: mean spend 2.0 vs 0.5
    spend = effects[("Mens E-Mail", "spend")]
    assert spend["kind"] == "numeric" and spend["abs_lift"] == pytest.approx(1.5)
    assert "breakdown" not in doc and "srm" not in doc


def test_numeric_arm_values_and_boolean_outcome(capsys, tmp_path):
    df = _mail()
    df["arm"] = df["segment"].map({"No E-Mail": 0, "Mens E-Mail": 1, "Womens E-Mail": 2})
    df["visited"] = df["visit"].astype(bool)
    path = tmp_path / "mail_codes.csv"
    df.to_csv(path, index=False)
    doc = _run_json(capsys, "--data", str(path), "--arm", "arm", "--control", "0", "--outcome", "visited")
    assert doc["control"] == 0
    assert [r["arm"] for r in doc["effects"]] == [1, 2]
    assert [r["abs_lift"] for r in doc["effects"]] == pytest.approx([0.08, 0.05])


def test_breakdown_srm_and_covariates_in_json(capsys, mail_csv):
    doc = _run_json(capsys, "--data", str(mail_csv), "--arm", "segment", "--control", "no e-mail",
                    "--outcome", "visit", "--by", "zip_code", "--planned-control-share", "0.3333333",
                    "--covariate", "history")
    assert doc["control"] == "No E-Mail"  # matched case-insensitively
    seg = {(r["segment"], r["arm"]): r for r in doc["breakdown"]}
    assert set(seg) == {(z, a) for z in ("Rural", "Urban") for a in ("Mens E-Mail", "Womens E-Mail")}
    # urban = even rows: visits among i < 18 even -> 9 of 50 ; control i < 10 even -> 5 of 50
    assert seg[("Urban", "Mens E-Mail")]["mean_treated"] == pytest.approx(9 / 50)
    assert seg[("Urban", "Mens E-Mail")]["mean_control"] == pytest.approx(5 / 50)
    assert [r["n"] for r in doc["srm"]] == [100, 100, 100]
    assert all(r["srm"] is False for r in doc["srm"])
    overall = doc["effects"][0]
    assert overall["srm"] is False and overall["cuped_lift"] is not None and overall["reg_lift"] is not None


def test_parquet_and_readable_table(capsys, tmp_path):
    path = tmp_path / "mail.parquet"
    _mail().to_parquet(path)
    rc = main(["evaluate", "--data", str(path), "--arm", "segment", "--control", "No E-Mail",
               "--outcome", "visit", "--outcome", "spend", "--by", "newbie", "--lang", "en"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Outcome visit (rate)" in out and "Outcome spend (mean)" in out
    assert "Absolute lift (pp) [95% CI]" in out and "By newbie" in out
    mens = next(line for line in out.splitlines() if line.strip().startswith("Mens E-Mail"))
    # 18.00% vs 10.00%, +8.00 points, relative +80.0 %, p = 0.103
    assert "18.00%" in mens and "10.00%" in mens and "+8.00" in mens and "+80.0%" in mens and "0.103" in mens


def test_chinese_is_the_default(capsys, mail_csv, monkeypatch):
    import workbench.i18n

    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    monkeypatch.setattr(workbench.i18n, "_current", None)  # whatever an earlier test set
    assert main(["evaluate", "--data", str(mail_csv), "--arm", "segment", "--control", "No E-Mail",
                 "--outcome", "visit"]) == 0
    out = capsys.readouterr().out
    assert "效果指标 visit（比率）" in out and "95%置信区间" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--arm", "segmnt", "--control", "No E-Mail", "--outcome", "visit"],
         "Column 'segmnt' is not in mail.csv; available columns are ['segment', 'visit'"),
        (["--arm", "segment", "--control", "Control", "--outcome", "visit"],
         "control value 'Control' does not occur in arm column 'segment'; the arm values found are "
         "['Mens E-Mail', 'No E-Mail', 'Womens E-Mail']"),
        (["--arm", "segment", "--control", "No E-Mail", "--outcome", "conversion"],
         "Outcome column 'conversion' holds text; say which value counts as success"),
        (["--arm", "segment", "--control", "No E-Mail", "--outcome", "conversion", "--positive", "1"],
         "'positive' value '1' is not among the values of outcome column 'conversion': ['no', 'yes']"),
        (["--arm", "segment", "--control", "No E-Mail", "--outcome", "visit", "--planned-control-share", "3"],
         "'planned_control_share' parameter must be a share strictly between 0 and 1"),
    ],
)
def test_errors_are_named(capsys, mail_csv, argv, message, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "en")    # the messages are compared in English (the CLI's default is zh)
    assert main(["evaluate", "--data", str(mail_csv), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_bad_files(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "en")    # the messages are compared in English (the CLI's default is zh)
    assert main(["evaluate", "--data", str(tmp_path / "nope.csv"), "--arm", "a", "--control", "0",
                 "--outcome", "y"]) == 1
    assert "does not exist" in capsys.readouterr().err
    other = tmp_path / "mail.xlsx"
    other.write_text("x")
    assert main(["evaluate", "--data", str(other), "--arm", "a", "--control", "0", "--outcome", "y"]) == 1
    assert "'--data' parameter must be a CSV" in capsys.readouterr().err


def test_missing_outcome_values_and_nan_in_json(capsys, tmp_path):
    df = _mail()
    df["spend"] = df["spend"].astype(float)
    df.loc[df["segment"] == "Womens E-Mail", "spend"] = np.nan  # no spend recorded for one arm
    path = tmp_path / "partial.csv"
    df.to_csv(path, index=False)
    doc = _run_json(capsys, "--data", str(path), "--arm", "segment", "--control", "No E-Mail", "--outcome", "spend")
    womens = next(r for r in doc["effects"] if r["arm"] == "Womens E-Mail")
    assert womens["n_treated"] == 0 and womens["abs_lift"] is None and womens["note"] == "empty_group"


def test_several_outcomes_in_one_flag(capsys, mail_csv):
    doc = _run_json(capsys, "--data", str(mail_csv), "--arm", "segment", "--control", "No E-Mail",
                    "--outcome", "visit", "spend", "--outcome", "conversion,visit", "--positive", "yes")
    assert doc["outcomes"] == ["visit", "spend", "conversion"]
    assert [r["outcome"] for r in doc["effects"][:3]] == ["visit", "spend", "conversion"]
