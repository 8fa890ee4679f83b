"""Grades into action: OCS rules, dunning list, the store's OCS table, the promotion exclusion."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.campaign.policy import apply_contact_policy
from workbench.campaign.spec import ContactPolicy
from workbench.credit.actions import OCS_RULE_COLUMNS, dunning_list, excluded_subscribers, ocs_rules
from workbench.errors import AccessDenied, ParameterError
from workbench.runs import RunFolder
from workbench.store import SYSTEM_USER, Store

CUTS = [0.04, 0.1, 0.15, 0.25]


def test_ocs_rules_per_grade_riskiest_stopped_first_and_excluded():
    rules = ocs_rules(CUTS, [0.03, 0.08, 0.12, 0.2, 0.4])
    assert list(rules.columns) == list(OCS_RULE_COLUMNS)
    assert rules["grade"].tolist() == list("ABCDE")
    assert rules["score_min"].tolist() == [0.0, *CUTS] and rules["score_max"].tolist() == [*CUTS, 1.0]
    assert rules["stop_priority"].tolist() == [5, 4, 3, 2, 1]
    assert rules["promotions_excluded"].tolist() == [False, False, False, True, True]
    assert rules["credit_limit_yuan"].is_monotonic_decreasing
    assert rules.loc[rules["grade"] == "E", "ocs_inclusion"].item()
    assert ocs_rules(CUTS, excluded_grades=["E"], limit_scale=2)["credit_limit_yuan"].iloc[0] == 600


@pytest.mark.parametrize("kwargs, message", [
    (dict(cutoffs=[0.2, 0.1]), "'cutoffs' parameter must be increasing probabilities"),
    (dict(cutoffs=CUTS, excluded_grades=["F"]), "'excluded_grades' parameter must be grades of the model"),
    (dict(cutoffs=CUTS, grade_bad_rates=[0.1]), "'grade_bad_rates' parameter must be 5 values"),
    (dict(cutoffs=[0.1, 0.2, 0.3, 0.4, 0.5]), r"'policy' parameter must be a rule for every grade.*\['F'\]"),
])
def test_ocs_rules_bad_input_is_named(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        ocs_rules(**kwargs)


def test_dunning_list_puts_the_riskiest_grade_then_the_largest_arrears_first():
    scores = pd.DataFrame({"subscriber_id": [1, 2, 3, 4], "grade": ["A", "E", "E", "C"],
                           "score": [0.01, 0.5, 0.4, 0.12]})
    arrears = pd.DataFrame({"subscriber_id": [1, 2, 3, 3, 4, 9], "amount_owed": [50.0, 10.0, 20.0, 5.0, 0.0, 99.0]})
    out = dunning_list(scores, arrears, ocs_rules(CUTS))
    assert out["subscriber_id"].tolist() == [3, 2, 1]          # 4 owes nothing, 9 is not graded
    assert out["priority"].tolist() == [1, 2, 3] and out["amount_owed"].tolist() == [25.0, 10.0, 50.0]
    with pytest.raises(ParameterError, match="'arrears' parameter"):
        dunning_list(scores, arrears.rename(columns={"amount_owed": "owed"}), ocs_rules(CUTS))


def test_store_keeps_one_set_of_rules_per_model_version_and_only_analysts_write(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}", progress=False)
    rules = ocs_rules(CUTS)
    assert store.write_ocs_rules(SYSTEM_USER, "run1/credit_model", rules) == 5
    assert store.write_ocs_rules(SYSTEM_USER, "run1/credit_model", rules.iloc[:3]) == 3   # replaced, not added
    store.write_ocs_rules(SYSTEM_USER, "run2/credit_model", rules)
    got = store.ocs_rules(SYSTEM_USER, "run1/credit_model")
    assert got["grade"].tolist() == ["A", "B", "C"]
    assert len(store.ocs_rules(SYSTEM_USER)) == 8
    executor = store.add_user(SYSTEM_USER, "exe", "executor", branch_id="hami", password="s3cret-pass-1")
    with pytest.raises(AccessDenied):
        store.write_ocs_rules(executor, "run3", rules)
    with pytest.raises(ParameterError, match="missing \\['stop_priority'\\]"):
        store.write_ocs_rules(SYSTEM_USER, "run3", rules.drop(columns=["stop_priority"]))
    assert store.ocs_rules(SYSTEM_USER, "run3").empty
    store.close()


def test_contact_policy_excludes_the_chosen_grades_and_counts_them():
    cands = pd.DataFrame({"subscriber_id": [1, 2, 3, 4, 5]})
    grades = pd.DataFrame({"subscriber_id": [2, 3, 4, 8], "grade": ["E", "D", "A", "E"]})
    eligible, funnel = apply_contact_policy(cands, as_of="2026-11-01", dnd=[3], credit_grades=grades)
    assert eligible["subscriber_id"].tolist() == [1, 4, 5]
    counts = funnel.set_index("step")["excluded"]
    assert counts["credit_grade"] == 1 and counts["do_not_disturb"] == 1      # 3 is counted once, at dnd
    eligible, funnel = apply_contact_policy(cands, as_of="2026-11-01", credit_grades=grades,
                                            exclude_credit_grades=["E"])
    assert eligible["subscriber_id"].tolist() == [1, 3, 4, 5]
    eligible, _ = apply_contact_policy(cands, as_of="2026-11-01", credit_grades=grades, exclude_credit_grades=[])
    assert len(eligible) == 5
    assert excluded_subscribers(grades).tolist() == [2, 3, 8]


def test_contact_policy_spec_checks_the_grades():
    assert ContactPolicy().exclude_credit_grades == ("D", "E")
    assert ContactPolicy(exclude_credit_grades=["E"]).exclude_credit_grades == ("E",)
    with pytest.raises(ParameterError, match="'contact_policy.exclude_credit_grades' parameter"):
        ContactPolicy(exclude_credit_grades="DE")


def test_run_folder_writes_and_reads_the_grades(tmp_path):
    folder = RunFolder(tmp_path / "run").step("07_credit_grading")
    assert folder.read_credit_grades() is None
    grades = pd.DataFrame({"subscriber_id": [1, 2], "grade": ["A", "E"]})
    folder.write_table("credit_grades", grades)
    folder.write_table("ocs_rules", ocs_rules(CUTS))
    pd.testing.assert_frame_equal(folder.read_credit_grades(required=True), grades, check_dtype=False)
    assert pd.read_csv(folder.file("ocs_rules"), encoding="utf-8-sig")["grade"].tolist() == list("ABCDE")
    outputs = folder.manifest()["steps"]["07_credit_grading"]["outputs"]
    assert {"credit_grades.parquet", "ocs_rules.csv"} <= set(outputs)
