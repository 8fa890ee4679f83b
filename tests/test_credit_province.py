"""The province credit pipeline: features at the grade date, the label, cohorts, grading.

The generic model (``workbench.credit.model``) is replaced here by a small stand-in with its
contract (``train_credit`` -> an object with ``score``, ``summary``, ``rules``, ``cutoffs``), so
these tests check the pipeline, not the models; template 07's test runs the real one.
"""
from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.credit.features import FEATURE_COLUMNS, SEGMENT_COLUMNS, LabelRule, credit_frame, current_arrears
from workbench.credit.province import (
    cohort_table, grade_psi, grade_table, grading_actions, method_table, split_cohorts, train_province_credit,
)
from workbench.data.tables import CREDIT_TABLES, REQUIRED_TABLES
from workbench.errors import DataValidationError, ParameterError

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "province"
TRUTH = SAMPLE.with_name("province_truth")


class _StandIn:
    """A one-score stand-in of CreditModel: the paid ratio's complement, graded by quantiles."""

    def __init__(self, frame, grades, calls):
        self.calls = calls
        s = self._raw(frame)
        self.row_scores = pd.DataFrame({"segment": "*", "score": s}) if calls[-1]["score_rows"] else None
        self.cutoffs = list(np.quantile(s, np.linspace(0, 1, grades + 1)[1:-1]))
        self.summary = {"models": [{"segment": "*", "method": "tree", "auc_oot": {"tree": 0.7}, "rows": len(frame),
                                    "bads": int(frame["bad"].sum())}], "merges": [], "segments": [],
                        "grades": {"cutoffs": self.cutoffs}}

    @staticmethod
    def _raw(frame):
        return 1.0 / (1.0 + frame["paid_ratio"].to_numpy(float))

    def grade(self, s):
        return np.array(list("ABCDE"))[np.searchsorted(self.cutoffs, s, side="right")]

    def predict_score(self, frame):
        self.calls.append({"scored": len(frame)})
        return np.full(len(frame), "*", dtype=object), self._raw(frame)

    def score(self, frame):
        s = self._raw(frame)
        return pd.DataFrame({"subscriber_id": frame["subscriber_id"].to_numpy(), "segment": "*", "score": s,
                             "grade": self.grade(s)})

    def rules(self, language=None):
        return [{"segment": "*", "method": "tree", "rules": ["paid_ratio"]}]


@pytest.fixture
def stand_in(monkeypatch):
    calls = []

    def train_credit(frame, *, target, positive, id_col=None, segments=None, grades=5, oot=None,
                     min_segment_rows=500, seed=0, progress=True, score_rows=False):
        calls.append(dict(frame=frame, target=target, positive=positive, id_col=id_col, segments=segments,
                          oot=oot, grades=grades, min_segment_rows=min_segment_rows, score_rows=score_rows))
        return _StandIn(frame, grades, calls)

    module = types.ModuleType("workbench.credit.model")
    module.train_credit = train_credit
    monkeypatch.setitem(sys.modules, "workbench.credit.model", module)
    return calls


@pytest.fixture(scope="module")
def frame():
    return credit_frame(SAMPLE)


def test_label_from_the_tables_is_the_realised_truth(frame):
    truth = pd.read_parquet(TRUTH / "credit_truth.parquet")
    m = frame[frame["matured"]].merge(truth, on="subscriber_id")
    assert len(m) > 3000 and (m["bad"] == m["bad_realised"]).all()
    assert set(frame[SEGMENT_COLUMNS[0]]) == {"new", "rejoined"} and set(frame["region"]) == {"urumqi", "other"}
    assert set(FEATURE_COLUMNS) <= set(frame.columns)


def test_features_never_read_anything_on_or_after_the_grade_date(frame):
    tables = {n: pd.read_parquet(SAMPLE / f"{n}.parquet") for n in (*REQUIRED_TABLES, *CREDIT_TABLES)}
    sid = int(frame.loc[frame["matured"] & (frame["bad"] == 1), "subscriber_id"].iloc[0])
    grade_date = frame.set_index("subscriber_id").loc[sid, "grade_date"]
    cut = dict(tables)
    for name, col in (("account_months", "month"), ("payments", "payment_date"), ("account_events", "event_date"),
                      ("monthly_bills", "due_date")):
        t = cut[name]
        cut[name] = t[~((t["subscriber_id"] == sid) & (pd.to_datetime(t[col]) >= grade_date))]
    cut["account_months"] = pd.concat([cut["account_months"], tables["account_months"].iloc[-1:]])  # same last month
    a = frame.set_index("subscriber_id").loc[sid, list(FEATURE_COLUMNS)]
    b = credit_frame(cut).set_index("subscriber_id").loc[sid, list(FEATURE_COLUMNS)]
    pd.testing.assert_series_equal(a, b, check_names=False)


def test_the_label_rule_changes_what_is_bad(frame):
    wider = credit_frame(SAMPLE, LabelRule(arrears_yuan=1.0, arrears_days=30))
    assert wider.loc[wider["matured"], "bad"].sum() >= frame.loc[frame["matured"], "bad"].sum()
    later = credit_frame(SAMPLE, LabelRule(outcome_last=8))
    assert later["matured"].sum() < frame["matured"].sum()
    with pytest.raises(ParameterError, match="'outcome_first' parameter"):
        LabelRule(outcome_first=2)


def test_cohorts_hold_out_the_latest_matured_months(frame):
    cohort = split_cohorts(frame, oot_months=3)
    months = frame.assign(cohort=cohort).groupby("cohort")["join_month"].agg(["min", "max"])
    assert months.loc["train", "max"] < months.loc["oot", "min"]
    assert months.loc["oot", "max"] < months.loc["base", "min"]
    assert (cohort == "base").eq(~frame["matured"]).all()
    with pytest.raises(DataValidationError, match="at least 25 join months"):
        split_cohorts(frame, oot_months=24)


def test_pipeline_trains_on_matured_cohorts_and_grades_everyone(frame, stand_in):
    grading = train_province_credit(SAMPLE, frame=frame, progress=False, min_segment_rows=123)
    call = stand_in[0]
    assert call["target"] == "bad" and call["positive"] == 1 and call["segments"] == list(SEGMENT_COLUMNS)
    assert call["min_segment_rows"] == 123
    assert len(call["frame"]) == frame["matured"].sum() and call["oot"].sum() > 0
    assert not {"join_month", "grade_date", "matured"} & set(call["frame"].columns)
    assert len(grading.scores) == len(frame) and grading.scores["bad"].isna().sum() == (~frame["matured"]).sum()
    # the matured accounts keep their scores from training: only the new-user base is scored again
    assert call["score_rows"] and stand_in[1] == {"scored": (~frame["matured"]).sum()}
    expected = 1.0 / (1.0 + frame["paid_ratio"].to_numpy(float))
    np.testing.assert_array_equal(grading.scores["score"], expected)
    assert grading.scores["subscriber_id"].tolist() == frame["subscriber_id"].tolist()
    assert len(grading.base) == (~frame["matured"]).sum()
    table = grade_table(grading.scores[grading.scores["cohort"] == "oot"])
    assert table["grade"].tolist() == list("ABCDE") and table["share"].sum() == pytest.approx(1.0)
    assert cohort_table(grading)["accounts"].sum() == len(frame)
    assert method_table(grading.summary)["chosen"].all()
    rules, dunning = grading_actions(grading, SAMPLE)
    assert rules["grade"].tolist() == list("ABCDE")
    assert set(dunning["subscriber_id"]) <= set(grading.base["subscriber_id"])
    assert set(dunning["subscriber_id"]) <= set(current_arrears(SAMPLE)["subscriber_id"])


def test_pipeline_refuses_one_class_and_missing_tables(frame, stand_in):
    one = frame.assign(bad=0)
    with pytest.raises(DataValidationError, match="one class only"):
        train_province_credit(SAMPLE, frame=one, progress=False)
    frames = {n: pd.read_parquet(SAMPLE / f"{n}.parquet") for n in REQUIRED_TABLES}
    with pytest.raises(DataValidationError, match=r"credit grading needs the tables .*credit_accounts"):
        credit_frame(frames)


def test_grade_psi_is_zero_for_the_same_mix_and_grows_with_a_shift():
    a = pd.Series(list("AABBCCDDEE"))
    assert grade_psi(a, a) == pytest.approx(0.0)
    assert grade_psi(a, pd.Series(list("AAAAAABBCE"))) > 0.1


def test_every_credit_feature_has_a_label_and_rules_show_labels():
    from workbench.i18n import t
    from workbench.report.t07 import _feature_words

    for name in FEATURE_COLUMNS:
        assert t(f"credit.feature.{name}", "zh") and t(f"credit.feature.{name}", "en")
    words = _feature_words("paid_ratio > 1.2 and charges_m1 <= 30", "en")
    assert words == "paid / charged > 1.2 and charges of month 1 <= 30"
