"""``workbench model train | score | report`` on a small CSV, and the generic path's data handling."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import ParameterError
from workbench.models import encode_target, prepare_training_data, render_notes, single_column_auc


def _csv_table(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Text columns, missing values, a string label ('yes'/'no', ~8% yes), an id, a constant and an
    id-like text column."""
    rng = np.random.default_rng(seed)
    brand = rng.choice(np.array(["gotone", "mzone", "easyown"]), n).astype(object)
    branch = rng.choice(np.array(["urumqi", "ili", "hami", "aksu"]), n).astype(object)
    gprs = rng.gamma(2.0, 40.0, n)
    age = rng.integers(15, 75, n).astype(float)
    logit = -3.6 + 1.4 * (brand == "mzone") + 0.012 * gprs - 0.03 * np.abs(age - 25) + 0.4 * (branch == "urumqi")
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    brand[rng.random(n) < 0.05] = None
    gprs[rng.random(n) < 0.1] = np.nan
    age[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "customer": np.arange(1, n + 1),
        "brand": brand, "branch": branch, "gprs_mb": gprs.round(2), "age": age,
        "country": "cn",
        "imei": [f"86{rng.integers(10**12, 10**13)}" for _ in range(n)],
        "bought": np.where(y, "yes", "no"),
    })


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    data = root / "train.csv"
    _csv_table().to_csv(data, index=False)
    out = root / "model"
    rc = main(["model", "train", "--data", str(data), "--target", "bought", "--positive", "yes",
               "--id", "customer", "--out", str(out), "--lang", "en", "--no-progress"])
    assert rc == 0
    return root, data, out


def test_train_reports_model_and_baselines_and_saves(trained, capsys):
    root, data, out = trained
    card = json.loads((out / "metrics.json").read_text())
    assert [r["model"] for r in card["summary"]] == ["model", "logistic", "rules"]
    assert card["dropped"] == {"country": "constant", "imei": "id_like"}
    assert card["settings"]["holdout"] == 0.2 and card["settings"]["refit_on_all_rows"] is True
    assert card["holdout"]["model"]["n"] == 300  # 20% of 1500
    assert card["holdout"]["model"]["auc"] > 0.7
    assert card["final_model"]["rows"] == 1500
    label = json.loads((out / "label.json").read_text())
    assert label["target"] == "bought" and label["positive"] == "yes" and label["values"] == ["no", "yes"]
    features = [f["name"] for f in json.loads((out / "features.json").read_text())["features"]]
    assert features == ["brand", "branch", "gprs_mb", "age"]


def test_train_prints_the_comparison(tmp_path, capsys):
    data = tmp_path / "small.csv"
    _csv_table(600, seed=1).to_csv(data, index=False)
    rc = main(["model", "train", "--data", str(data), "--target", "bought", "--positive", "yes", "--id",
               "customer", "--out", str(tmp_path / "m"), "--lang", "en", "--no-progress", "--json"])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in printed["summary"]] == ["model", "logistic", "rules"]
    assert 0 <= printed["summary"][0]["auc"] <= 1


def test_train_and_score_a_chinese_excel_export_in_gbk_with_semicolons(tmp_path, capsys):
    table = _csv_table(800, seed=3)
    table["brand"] = table["brand"].map({"gotone": "全球通", "mzone": "动感地带", "easyown": "神州行"})
    table["bought"] = np.where(table["bought"] == "yes", "是", "否")
    data = tmp_path / "导出.csv"
    table.to_csv(data, index=False, sep=";", encoding="gbk")
    rc = main(["model", "train", "--data", str(data), "--target", "bought", "--positive", "是", "--id", "customer",
               "--out", str(tmp_path / "m"), "--no-progress", "--json"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["summary"][0]["auc"] > 0.6
    features = json.loads((tmp_path / "m" / "features.json").read_text(encoding="utf-8"))["features"]
    brand = next(f for f in features if f["name"] == "brand")
    assert sorted(brand["levels"]) == sorted(["全球通", "动感地带", "神州行"])
    rc = main(["model", "score", "--model", str(tmp_path / "m"), "--data", str(data), "--out",
               str(tmp_path / "scored.csv"), "--no-progress"])
    assert rc == 0
    scored = pd.read_csv(tmp_path / "scored.csv", encoding="utf-8-sig")
    assert len(scored) == 800 and scored["customer"].is_unique


def test_a_table_without_an_id_column_is_scored_by_row_number(tmp_path, capsys):
    table = _csv_table(600, seed=4).drop(columns=["customer", "imei"])   # like the UCI bank file: no id at all
    data = tmp_path / "bank.csv"
    table.to_csv(data, index=False, sep=";")
    assert main(["model", "train", "--data", str(data), "--target", "bought", "--positive", "yes",
                 "--out", str(tmp_path / "m"), "--no-progress", "--json"]) == 0
    assert main(["model", "score", "--model", str(tmp_path / "m"), "--data", str(data), "--out",
                 str(tmp_path / "s.parquet"), "--reasons", "1", "--no-progress"]) == 0
    scored = pd.read_parquet(tmp_path / "s.parquet")
    assert sorted(scored["row"]) == list(range(1, 601)) and scored["rank"].tolist() == list(range(1, 601))
    # the best-ranked row's score is the model's score of that line of the file
    from workbench.models.registry import load_model

    best = scored.iloc[0]
    direct = load_model(tmp_path / "m").predict_proba(table.iloc[[int(best["row"]) - 1]])[:, 1][0]
    assert best["score"] == pytest.approx(direct)


def test_score_writes_csv_and_parquet_with_reasons(trained, capsys):
    root, _, out = trained
    new = _csv_table(400, seed=2).drop(columns="bought")
    new_path = root / "new.parquet"
    new.to_parquet(new_path)
    for name in ("scored.csv", "scored.parquet"):
        rc = main(["model", "score", "--model", str(out), "--data", str(new_path), "--out", str(root / name),
                   "--lang", "en", "--no-progress"])
        assert rc == 0
    assert "Scored 400 users" in capsys.readouterr().out
    csv = pd.read_csv(root / "scored.csv", encoding="utf-8-sig")  # written with Excel's byte-order mark
    pq = pd.read_parquet(root / "scored.parquet")
    assert list(csv.columns) == ["customer", "score", "rank", "decile", "reason_1", "reason_2", "reason_3"]
    assert len(csv) == 400 and csv["rank"].tolist() == list(range(1, 401))
    np.testing.assert_allclose(csv["score"], pq["score"])
    said = csv["reason_1"].dropna()
    assert said.str.contains("of scored users").any()
    # a column the workbench's catalogue knows has its phrase ("Aged 34"); any other "<name>: <value>"
    assert said.str.match(r"^(gprs_mb|branch): ").any() and not said.str.contains("^age: ").any()


def test_report_text_and_json(trained, capsys):
    _, data, out = trained
    assert main(["model", "report", "--model", str(out), "--lang", "en"]) == 0
    text = capsys.readouterr().out
    assert "Holdout evaluation (20% held out)" in text and "Logistic baseline" in text
    assert "Gains table by decile" in text and "Rule examples" in text
    assert main(["model", "report", "--model", str(out), "--json", "--data", str(data)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["gains"]) == 10 and report["label"]["positive"] == "yes"
    assert report["new_data"]["n"] == 1500 and len(report["new_data_gains"]) == 10
    assert report["rules"] and report["importance"][0]["feature"] in {"brand", "branch", "gprs_mb", "age"}


@pytest.mark.parametrize("argv, message", [
    (["--target", "buy"], "target column 'buy' is not in the --data file 'train.csv'; available columns: .*'bought'"),
    (["--id", "cust"], "id column 'cust' is not in the --data file 'train.csv'; available columns"),
    (["--positive", "Y"], r"positive value 'Y' is not among the values of target column 'bought': \['no', 'yes'\]"),
    (["--exclude", "ghost"], r"excluded column\(s\) \['ghost'\] are not in the --data file"),
])
def test_train_errors_name_the_problem(trained, tmp_path, capsys, argv, message):
    _, data, _ = trained
    base = {"--data": str(data), "--target": "bought", "--positive": "yes", "--id": "customer",
            "--out": str(tmp_path / "x")}
    args = ["model", "train", "--no-progress"]
    for key, value in base.items():
        if key not in argv:
            args += [key, value]
    import re

    assert main(args + argv + ["--lang", "en"]) == 1
    assert re.search(message, capsys.readouterr().err), message
    # in Chinese (the default) the same error holds no English phrase, only the names it quotes
    assert main(args + argv) == 1
    zh = capsys.readouterr().err
    assert zh.startswith("错误：") and not re.search(r"\b(column|is not|available|among|values)\b", zh), zh


def test_file_errors(tmp_path, capsys):
    assert main(["model", "train", "--data", str(tmp_path / "none.csv"), "--target", "y", "--positive", "1",
                 "--id", "i", "--out", str(tmp_path / "m"), "--lang", "en"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["model", "train", "--data", str(tmp_path / "none.csv"), "--target", "y", "--positive", "1",
                 "--id", "i", "--out", str(tmp_path / "m")]) == 1
    assert "不存在" in capsys.readouterr().err        # the CLI's errors speak its language, zh by default
    assert main(["model", "score", "--model", str(tmp_path), "--data", "x.xlsx", "--out", "o.csv"]) == 1
    assert "缺少 ['model.txt'" in capsys.readouterr().err
    assert main(["model", "score", "--model", str(tmp_path), "--data", "x.xlsx", "--out", "o.csv",
                 "--lang", "en"]) == 1
    assert "lacks ['model.txt'" in capsys.readouterr().err


def test_leakage_is_warned(tmp_path, capsys):
    df = _csv_table(400, seed=3)
    df["refund_flag"] = np.where(df["bought"] == "yes", 1.0, 0.0)  # known only after the purchase
    data = tmp_path / "leaky.csv"
    df.to_csv(data, index=False)
    assert main(["model", "train", "--data", str(data), "--target", "bought", "--positive", "yes", "--id",
                 "customer", "--out", str(tmp_path / "m"), "--lang", "en", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: Possible leakage: column refund_flag alone gives AUC 1.000" in err
    # a Chinese command line warns in Chinese, the prefix too
    assert main(["model", "train", "--data", str(data), "--target", "bought", "--positive", "yes", "--id",
                 "customer", "--out", str(tmp_path / "m_zh"), "--lang", "zh", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "警告：" in err and "refund_flag" in err and "warning" not in err.lower()


# -------------------------------------------------------- generic data handling
def test_encode_target_accepts_text_bool_and_numbers():
    y, v = encode_target(pd.Series(["no", "yes", "yes"]), "yes")
    assert y.tolist() == [0, 1, 1] and v == "yes"
    y, v = encode_target(pd.Series([True, False, True]), "true")
    assert y.tolist() == [1, 0, 1] and v is True or v == True  # noqa: E712
    y, _ = encode_target(pd.Series([0, 1, 1, 0]), "1")
    assert y.tolist() == [0, 1, 1, 0]
    y, _ = encode_target(pd.Series([0.0, 1.0]), "1")
    assert y.tolist() == [0, 1]
    with pytest.raises(ParameterError, match="has a single class"):
        encode_target(pd.Series(["yes", "yes"]), "yes")
    with pytest.raises(ParameterError, match=r"positive value '2' is not among the values .*\['0', '1'\]"):
        encode_target(pd.Series([0, 1]), "2")


def test_prepare_drops_useless_columns_and_missing_labels():
    df = _csv_table(300, seed=4)
    df.loc[:4, "bought"] = None
    df["seq"] = np.arange(300)  # dense integer sequence: id-like
    df["joined"] = pd.Timestamp("2026-01-01")
    prepared = prepare_training_data(df, target="bought", positive="yes", id_col="customer", exclude=["branch"])
    assert list(prepared.X.columns) == ["brand", "gprs_mb", "age"]
    assert prepared.dropped == {"country": "constant", "imei": "id_like", "seq": "id_like", "joined": "datetime"}
    assert len(prepared.y) == 295 and prepared.ids.tolist() == list(range(6, 301))
    assert prepared.notes == [{"key": "model.report.note.missing_label", "n": 5, "column": "bought"}]
    assert render_notes(prepared.notes, "en") == ["5 row(s) with a missing bought were left out"]


def test_single_column_auc_sees_perfect_separation_and_ignores_noise():
    rng = np.random.default_rng(5)
    y = (rng.random(500) < 0.1).astype(int)
    X = pd.DataFrame({"leak": y * 10.0 + rng.random(500), "noise": rng.random(500),
                      "code": np.where(y == 1, "A", "B")})
    X.loc[np.flatnonzero(y == 0)[:10], "leak"] = np.nan  # gaps among negatives only: still separable
    aucs = single_column_auc(X, y)
    assert aucs["leak"] > 0.99 and aucs["code"] == pytest.approx(1.0) and aucs["noise"] < 0.6
