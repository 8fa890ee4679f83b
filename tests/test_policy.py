"""Contact policy: each rule, its order in the funnel, reasons per user, inputs, errors."""
import numpy as np
import pandas as pd
import pytest

from workbench.campaign import FUNNEL_COLUMNS, POLICY_STEPS, apply_contact_policy, policy_flags
from workbench.errors import DataValidationError, ParameterError
from workbench.viz.campaign import funnel_figure

AS_OF = "2026-09-10"


@pytest.fixture
def candidates():
    return pd.DataFrame({"subscriber_id": [1, 2, 3, 4, 5, 6, 7, 8], "score": np.linspace(0.9, 0.2, 8)})


@pytest.fixture
def history():
    # 3: contacted 2 days ago; 4: three times this month, last 9 days ago; 5: 10 days ago (last month);
    # 6: a contact planned after as_of (ignored); 7: exactly 7 days ago (outside a 7-day window)
    return pd.DataFrame({
        "subscriber_id": [3, 4, 4, 4, 5, 6, 7],
        "contact_date": pd.to_datetime(["2026-09-08", "2026-09-01", "2026-09-01", "2026-09-01",
                                        "2026-08-31", "2026-09-12", "2026-09-03"]),
    })


def run(candidates, history, **kw):
    args = dict(as_of=AS_OF, product_subscribers=[1], dnd=pd.Index([2, 1]), contact_history=history,
                handset_capable=pd.Series([True] * 7 + [False], index=range(1, 9)), recent_days=7,
                max_contacts_month=3, return_excluded=True)
    args.update(kw)
    return apply_contact_policy(candidates, **args)


def test_each_rule_excludes_the_right_users_in_order(candidates, history):
    eligible, funnel, excluded = run(candidates, history)
    assert eligible["subscriber_id"].tolist() == [5, 6, 7]
    assert list(funnel.columns) == list(FUNNEL_COLUMNS)
    assert funnel["step"].tolist() == ["candidates", *POLICY_STEPS]
    per_step = funnel.set_index("step")["excluded"].to_dict()
    # 1 is both a subscriber and do-not-disturb: counted once, at the first rule
    assert per_step == {"candidates": 0, "subscriber": 1, "do_not_disturb": 1, "recent_contact": 1,
                        "monthly_cap": 1, "handset": 1, "universal_control": 0, "credit_grade": 0}
    assert funnel["remaining"].tolist() == [8, 7, 6, 5, 4, 3, 3, 3]
    reasons = excluded.set_index("subscriber_id")["reason"].to_dict()
    assert reasons == {1: "subscriber", 2: "do_not_disturb", 3: "recent_contact", 4: "monthly_cap", 8: "handset"}
    row1 = excluded.set_index("subscriber_id").loc[1]
    assert bool(row1["subscriber"]) and bool(row1["do_not_disturb"]) and not bool(row1["handset"])


def test_eligible_keeps_all_candidate_columns(candidates, history):
    eligible, _ = apply_contact_policy(candidates, as_of=AS_OF, dnd=[2])
    assert list(eligible.columns) == ["subscriber_id", "score"]
    assert eligible["score"].iloc[0] == pytest.approx(0.9)
    assert eligible.index.tolist() == list(range(7))


def test_recent_window_and_monthly_cap_boundaries(candidates, history):
    flags = policy_flags(candidates, as_of=AS_OF, contact_history=history, recent_days=7, max_contacts_month=3)
    f = flags.set_index("subscriber_id")
    assert f.loc[3, "recent_contact"] and not f.loc[7, "recent_contact"]  # 2 days vs exactly 7 days ago
    assert not f.loc[6, "recent_contact"]  # future contact ignored
    assert f.loc[4, "monthly_cap"] and not f.loc[5, "monthly_cap"]
    # 8-day window now includes user 7; a cap of 4 releases user 4
    f = policy_flags(candidates, as_of=AS_OF, contact_history=history, recent_days=8,
                     max_contacts_month=4).set_index("subscriber_id")
    assert f.loc[7, "recent_contact"] and not f.loc[4, "monthly_cap"]
    # recent_days = 0 switches the rule off; a contact in August does not count for September's cap
    f = policy_flags(candidates, as_of=AS_OF, contact_history=history, recent_days=0,
                     max_contacts_month=1).set_index("subscriber_id")
    assert not f["recent_contact"].any()
    assert f.loc[3, "monthly_cap"] and not f.loc[5, "monthly_cap"]


def test_universal_control_and_optional_inputs(candidates):
    eligible, funnel = apply_contact_policy(candidates, as_of=AS_OF, held_out=pd.DataFrame({"subscriber_id": [8, 99]}))
    assert 8 not in eligible["subscriber_id"].tolist()
    assert funnel.set_index("step").loc["universal_control", "excluded"] == 1
    # nothing given: nobody excluded
    eligible, funnel = apply_contact_policy(candidates, as_of=AS_OF)
    assert len(eligible) == 8 and funnel["excluded"].sum() == 0
    # capable handsets as a plain id list
    eligible, _ = apply_contact_policy(candidates, as_of=AS_OF, handset_capable={1, 2, 3})
    assert eligible["subscriber_id"].tolist() == [1, 2, 3]


def test_contact_dates_as_text_are_parsed(candidates):
    text = pd.DataFrame({"subscriber_id": [3], "contact_date": ["2026-09-09"]})
    eligible, _ = apply_contact_policy(candidates, as_of=pd.Timestamp(AS_OF), contact_history=text)
    assert 3 not in eligible["subscriber_id"].tolist()


def test_large_input_is_vectorised():
    n = 200_000
    rng = np.random.default_rng(1)
    cands = pd.DataFrame({"subscriber_id": np.arange(n)})
    hist = pd.DataFrame({"subscriber_id": rng.integers(0, n, 300_000),
                         "contact_date": pd.Timestamp("2026-08-20")
                         + pd.to_timedelta(rng.integers(0, 25, 300_000), "D")})
    eligible, funnel = apply_contact_policy(cands, as_of=AS_OF, contact_history=hist, dnd=np.arange(0, n, 10))
    assert funnel["remaining"].iloc[-1] == len(eligible)
    assert funnel["excluded"].sum() + len(eligible) == n
    assert funnel.set_index("step").loc["do_not_disturb", "excluded"] == n // 10


def test_errors_name_table_column_and_parameter(candidates, history):
    with pytest.raises(DataValidationError, match="candidates: missing column\\(s\\) \\['subscriber_id'\\]"):
        apply_contact_policy(candidates.rename(columns={"subscriber_id": "id"}), as_of=AS_OF)
    with pytest.raises(DataValidationError,
                       match="candidates: column 'subscriber_id' must be unique; 1 repeated value"):
        apply_contact_policy(pd.concat([candidates, candidates.head(1)]), as_of=AS_OF)
    with pytest.raises(DataValidationError, match="contact_history: missing column\\(s\\) \\['contact_date'\\]"):
        apply_contact_policy(candidates, as_of=AS_OF, contact_history=history.rename(columns={"contact_date": "d"}))
    with pytest.raises(DataValidationError, match="contact_history: column 'contact_date' must hold dates"):
        apply_contact_policy(candidates, as_of=AS_OF,
                             contact_history=pd.DataFrame({"subscriber_id": [1], "contact_date": ["yesterday"]}))
    with pytest.raises(ParameterError, match="'as_of' parameter must be a date"):
        apply_contact_policy(candidates, as_of="someday")
    with pytest.raises(ParameterError, match="'as_of' parameter must be a date"):
        apply_contact_policy(candidates, as_of=None)
    with pytest.raises(ParameterError, match="'recent_days' parameter must be an integer >= 0. Got -1"):
        apply_contact_policy(candidates, as_of=AS_OF, recent_days=-1)
    with pytest.raises(ParameterError, match="'max_contacts_month' parameter must be an integer >= 1. Got 0"):
        apply_contact_policy(candidates, as_of=AS_OF, max_contacts_month=0)
    with pytest.raises(ParameterError, match="'dnd' parameter must be ids"):
        apply_contact_policy(candidates, as_of=AS_OF, dnd=5)
    with pytest.raises(DataValidationError, match="product_subscribers: missing column\\(s\\) \\['subscriber_id'\\]"):
        apply_contact_policy(candidates, as_of=AS_OF, product_subscribers=pd.DataFrame({"id": [1]}))
    with pytest.raises(ParameterError, match="'contact_history' parameter must be a pandas DataFrame"):
        apply_contact_policy(candidates, as_of=AS_OF, contact_history=[1, 2])
    with pytest.raises(ParameterError, match="'candidates' parameter must be a pandas DataFrame"):
        apply_contact_policy([1, 2], as_of=AS_OF)


def test_funnel_figure_uses_catalogue_labels(candidates, history):
    _, funnel, _ = run(candidates, history)
    fig = funnel_figure(funnel, lang="en")
    assert list(fig.data[0].y)[:3] == ["Candidates", "Already subscribed", "Do not disturb"]
    assert list(fig.data[0].x) == funnel["remaining"].tolist()
    assert fig.layout.title.text == "Contact-policy funnel"
    assert funnel_figure(funnel, lang="zh").data[0].y[0] == "候选用户"
    with pytest.raises(ParameterError,
                       match="'funnel' parameter must be the result of apply_contact_policy\\(\\) with columns"):
        funnel_figure(pd.DataFrame({"x": [1]}))
