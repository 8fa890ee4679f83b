"""The evaluation computed on DataFrames alone (workbench.tracking.evaluation.evaluate): no store, no DuckDB.

A hand-made campaign of 40 members (20 target, 20 control, two branches, two channels) whose responses are
known by construction (tests/evaluation_fixtures.py); the store and DuckDB path (gather_evaluation_inputs)
is exercised in test_loop.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evaluation_fixtures import COSTS, hand_made_inputs

from workbench.errors import ParameterError
from workbench.tracking.evaluation import EXECUTOR_COLUMNS, CampaignEvaluation, evaluate


def test_the_evaluation_counts_what_was_made_by_hand():
    inputs = hand_made_inputs()
    ev = evaluate(inputs, covariates=())
    assert isinstance(ev, CampaignEvaluation) and (ev.campaign_id, ev.version, ev.name) == (7, 2, "hand-made")
    h = ev.headline
    assert (h["target"], h["control"], h["responders"], h["control_responders"]) == (20, 20, 8, 2)
    assert (h["rate_target"], h["rate_control"]) == (pytest.approx(0.4), pytest.approx(0.1))
    assert h["incremental"] == pytest.approx(0.3 * 20)
    assert (h["attempts"], h["reached"]) == (25, 20)
    target = inputs.members[inputs.members["group"] == "target"]
    attempts = 1 + target["subscriber_id"].isin(target["subscriber_id"].head(5)).to_numpy()
    assert h["cost"] == pytest.approx((attempts * target["channel"].map(COSTS).to_numpy()).sum())
    assert set(ev.by) == {"branch", "channel", "score_decile"}      # no segment or brand column was given
    assert list(ev.executors.columns) == list(EXECUTOR_COLUMNS)
    assert ev.executors["members"].sum() == 20 and ev.executors["responders"].sum() == 8
    assert not ev.srm["srm"].any()
    # what was not given is said, not read from somewhere else
    assert ev.notes == ["no_arpu_panel", "no_trend"] and ev.did is None and ev.trend is None


def test_covariates_are_used_only_when_present_and_varying():
    ev = evaluate(hand_made_inputs(), covariates=("score", "arpu_mean"))
    assert ev.covariates == ["score"]
    row = ev.effect_row("responded")
    assert row["cuped_ci_low"] <= row["cuped_lift"] <= row["cuped_ci_high"]


def test_features_bring_the_brand_breakdown():
    inputs = hand_made_inputs()
    inputs.features = pd.DataFrame({"brand": np.where(np.arange(40) < 10, "gotone", "easyown")},
                                   index=pd.Index(np.arange(1, 41), name="subscriber_id"))
    ev = evaluate(inputs, covariates=())
    assert "brand" in ev.by and set(ev.members["brand"]) == {"gotone", "easyown"}


def test_an_evaluation_needs_both_groups():
    with pytest.raises(ParameterError, match="campaign 7 has no control group"):
        evaluate(hand_made_inputs(groups=["target"] * 40), covariates=())


def test_executors_are_named_as_people_know_them():
    from dataclasses import replace

    from workbench.report.t06 import executor_table

    inputs = hand_made_inputs()
    ev = evaluate(inputs, covariates=())
    assert ev.executors["executor_name"].tolist() == ev.executors["executor"].tolist()   # no names: the login
    names = {"ana": "安娜", "bo": None}                                  # bo has no display name: the login
    members = inputs.members.assign(executor_name=inputs.members["executor"].map(names))
    ev = evaluate(replace(inputs, members=members), covariates=())
    shown = dict(zip(ev.executors["executor"], ev.executors["executor_name"]))
    assert shown == {"ana": "安娜", "bo": "bo"}
    table = executor_table(ev, lang="zh")
    assert set(table.iloc[:, 0]) == {"安娜", "bo"}
