"""A hand-made campaign for the evaluation and its report, as plain DataFrames (no store, no DuckDB).

40 members (20 target, 20 control, two branches, two channels, two executors); every target member is reached
on 3 November (the first five at the second attempt); 8 target and 2 control members order on 10 November.
Test modules use it with ``from evaluation_fixtures import hand_made_inputs``.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from workbench.tracking.attribution import catalogue_products
from workbench.tracking.inputs import EvaluationInputs
from workbench.tracking.terms import CampaignTerms

START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 15)
COSTS = {"sms": 0.05, "outbound_call": 2.0}


def hand_made_inputs(groups=None) -> EvaluationInputs:
    """The hand-made campaign's inputs (``groups``: the 40 members' groups, default 20 target then 20 control)."""
    ids = np.arange(1, 41)
    groups = np.where(ids <= 20, "target", "control") if groups is None else np.asarray(groups)
    members = pd.DataFrame({
        "subscriber_id": ids, "branch_id": np.where(ids % 2 == 0, "aksu", "hotan"), "group": groups,
        "score": np.linspace(0.9, 0.1, 40), "channel": np.where(ids % 4 < 2, "sms", "outbound_call"),
        "executor": np.where(ids % 2 == 0, "ana", "bo"),
    })
    target = ids[groups == "target"]
    # every target member reached once on 3 November; the first five also need a second attempt
    contacts = pd.DataFrame({
        "subscriber_id": np.r_[target[:5], target],
        "result": ["not_reachable"] * 5 + ["reached"] * len(target),
        "contacted_at": pd.to_datetime(["2026-11-03 09:00"] * 5 + ["2026-11-03 10:00"] * len(target)),
    })
    responders = [*target[:8], 21, 22]          # 8 of the target group, 2 of the control group
    orders = pd.DataFrame({
        "event_id": range(1, len(responders) + 1), "subscriber_id": responders, "product_id": "MN_NEWS",
        "event_date": pd.to_datetime(["2026-11-10"] * len(responders)), "event_type": "order", "channel": "sms",
    })
    terms = CampaignTerms(start=START, end=END, control_share=0.5, unit_costs=COSTS)
    return EvaluationInputs(campaign_id=7, version=2, name="hand-made", terms=terms,
                            as_of=pd.Timestamp("2027-06-30"), members=members, contacts=contacts, orders=orders,
                            products=catalogue_products())
