"""Channel plan: the scalable plan is feasible and within 1 % of the exact LP optimum; degenerate cases."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workbench.campaign import (
    PLAN_COLUMNS, SUMMARY_COLUMNS, CampaignSpec, ChannelPlanProblem, ChannelSpec, Goal, Offer, TargetGroup,
    build_problem, channel_inputs, evaluate_plan, expected_incremental, plan_channels, solve_exact_lp,
)
from workbench.errors import DataValidationError, ParameterError
from workbench.viz.campaign import channel_plan_figure

CHANNELS = pd.DataFrame({
    "channel": ["sms", "wap_push", "outbound_call", "ivr"],
    "unit_cost": [0.05, 0.1, 2.5, 0.4],
    "response_multiplier": [1.4, 1.8, 4.0, 2.2],
})


def random_problem(n: int, n_branches: int, seed: int, *, budget_share: float = 0.5, cap_scale: float = 1.0,
                   value: float = 40.0) -> ChannelPlanProblem:
    """Users with beta scores, per-user channel affinity; capacities and budget that bind."""
    rng = np.random.default_rng(seed)
    branches = [f"b{i}" for i in range(n_branches)]
    users = pd.DataFrame({
        "subscriber_id": np.arange(1, n + 1) * 7,
        "branch_id": rng.choice(branches, size=n, p=rng.dirichlet(np.full(n_branches, 3.0))),
        "score": rng.beta(0.6, 15, size=n),
    })
    inc = expected_incremental(users["score"], CHANNELS["response_multiplier"]) * rng.lognormal(0, 0.3, (n, 4))
    sizes = users["branch_id"].value_counts()
    shares = {"sms": 0.6, "wap_push": 0.3, "outbound_call": 0.03, "ivr": 0.08}
    capacity = pd.DataFrame([(b, c, np.floor(sizes.get(b, 0) * s * cap_scale))
                             for b in branches for c, s in shares.items()],
                            columns=["branch_id", "channel", "capacity"])
    full_cost = (capacity.merge(CHANNELS, on="channel").eval("capacity * unit_cost")).sum()
    return build_problem(users, CHANNELS, value_per_order=value, budget=budget_share * full_cost,
                         capacity=capacity, incremental=inc)


def check_feasible(problem: ChannelPlanProblem, plan) -> dict:
    ev = evaluate_plan(problem, plan.plan)
    assert ev["over_capacity"] == 0
    assert ev["over_budget"] <= 1e-9
    assert ev["max_channels_per_user"] <= 1
    assert plan.plan["subscriber_id"].is_unique
    assert ev["objective"] == pytest.approx(plan.objective, rel=1e-9, abs=1e-9)
    return ev


@pytest.mark.parametrize("n, n_branches, seed, budget_share, cap_scale", [
    (400, 3, 0, 0.5, 1.0),
    (800, 4, 1, 0.3, 0.5),
    (1500, 5, 2, 0.7, 0.3),
    (3000, 8, 3, 0.5, 1.0),
    (3000, 6, 4, 2.0, 0.3),  # budget slack: capacities alone bind
])
def test_plan_is_feasible_and_within_one_percent_of_lp(n, n_branches, seed, budget_share, cap_scale):
    problem = random_problem(n, n_branches, seed, budget_share=budget_share, cap_scale=cap_scale)
    lp = solve_exact_lp(problem)
    plan = plan_channels(problem, progress=False)
    ev = check_feasible(problem, plan)
    # the instance really binds: some capacity is full in the LP, and the budget unless it is slack
    lp_used = lp.summary["users"].to_numpy()
    cap = lp.summary["capacity"].to_numpy()
    assert np.any(np.isclose(lp_used, cap) & (cap > 0))
    if budget_share < 1:
        assert evaluate_plan(problem, lp.plan)["spend"] == pytest.approx(problem.budget, rel=1e-6)
        assert ev["spend"] >= 0.98 * problem.budget
    # LP optimum is an upper bound; the plan is within 1 %; the dual bound bounds the LP
    assert plan.objective <= lp.objective + 1e-6
    assert plan.objective >= 0.99 * lp.objective
    assert plan.upper_bound >= lp.objective - 1e-6 * abs(lp.objective)
    assert plan.gap == pytest.approx((plan.upper_bound - plan.objective) / plan.upper_bound)


def test_sampled_prices_path_is_also_near_optimal():
    problem = random_problem(4000, 5, 11)
    lp = solve_exact_lp(problem)
    plan = plan_channels(problem, sample_size=600, progress=False)
    check_feasible(problem, plan)
    assert plan.objective >= 0.99 * lp.objective
    assert plan.info["usable_users"] > 600


def test_plan_never_beats_the_integer_optimum():
    problem = random_problem(150, 2, 5, budget_share=0.4)
    milp = solve_exact_lp(problem, integral=True)
    lp = solve_exact_lp(problem)
    plan = plan_channels(problem, progress=False)
    assert milp.method == "milp" and set(milp.plan["share"]) <= {1.0}
    check_feasible(problem, milp)
    assert plan.objective <= milp.objective + 1e-9 <= lp.objective + 1e-6


def test_plan_and_summary_frames():
    problem = random_problem(500, 3, 6)
    plan = plan_channels(problem, progress=False)
    assert list(plan.plan.columns) == ["subscriber_id", "branch_id", "score", *PLAN_COLUMNS]
    assert list(plan.summary.columns) == ["branch_id", *SUMMARY_COLUMNS]
    assert (plan.plan["share"] == 1).all()
    assert plan.plan["net_value"].gt(0).all()
    assert plan.summary["users"].sum() == len(plan.plan)
    assert plan.summary["net_value"].sum() == pytest.approx(plan.objective)
    row = plan.summary[plan.summary["cost"] > 0].iloc[0]
    assert row["roi"] == pytest.approx(row["net_value"] / row["cost"])
    assert plan.summary["revenue"].sum() == pytest.approx(plan.plan["expected_orders"].sum() * 40.0)
    assert plan.info["lambda"].shape == (3, 4) and plan.info["mu"] >= 0
    assert plan.method == "lagrangian"


def test_zero_budget_uses_only_free_channels():
    problem = random_problem(300, 2, 7, budget_share=0.0)
    assert problem.budget == 0
    assert len(plan_channels(problem, progress=False).plan) == 0
    assert len(solve_exact_lp(problem).plan) == 0
    free = build_problem(
        pd.DataFrame({"subscriber_id": [1, 2], "branch_id": "hami", "score": [0.2, 0.1]}),
        pd.DataFrame({"channel": ["hall", "sms"], "unit_cost": [0.0, 0.1], "response_multiplier": [2.0, 3.0]}),
        value_per_order=10.0, budget=0.0)
    plan = plan_channels(free, progress=False)
    assert plan.plan["channel"].tolist() == ["hall", "hall"]
    assert plan.objective == pytest.approx(10.0 * (0.2 + 0.1))


def test_zero_capacity_channel_is_never_used():
    problem = random_problem(600, 3, 8)
    cap = problem.capacity.copy()
    cap[:, 2] = 0  # no outbound calls anywhere
    cap[0, :] = 0  # branch b0 cannot contact anyone
    problem = ChannelPlanProblem(**{**problem.__dict__, "capacity": cap})
    for plan in (plan_channels(problem, progress=False), solve_exact_lp(problem)):
        assert "outbound_call" not in set(plan.plan["channel"])
        assert "b0" not in set(plan.plan["branch_id"])


def test_negative_value_channels_are_never_chosen():
    users = pd.DataFrame({"subscriber_id": range(50), "branch_id": "hami", "score": np.linspace(0.01, 0.3, 50)})
    channels = pd.DataFrame({
        "channel": ["sms", "ivr", "outbound_call"],
        "unit_cost": [0.1, 0.2, 100.0],  # calls cost more than any order is worth
        "response_multiplier": [0.8, 1.0, 5.0],  # sms lowers response, ivr adds nothing
    })
    problem = build_problem(users, channels, value_per_order=20.0)
    for plan in (plan_channels(problem, progress=False), solve_exact_lp(problem)):
        assert len(plan.plan) == 0 and plan.objective == 0


def test_unlimited_capacity_and_budget_give_everyone_their_best_channel():
    problem = random_problem(300, 2, 9)
    free = ChannelPlanProblem(**{**problem.__dict__, "capacity": np.full_like(problem.capacity, np.inf),
                                 "budget": float("inf")})
    plan = plan_channels(free, progress=False)
    V = free.net_values()
    best = V.max(axis=1)
    assert plan.objective == pytest.approx(best[best > 0].sum())
    assert plan.objective == pytest.approx(solve_exact_lp(free).objective)


def test_channel_inputs_from_spec():
    spec = CampaignSpec(
        name="x", owner="a", goal=Goal(100, dt.date(2026, 9, 1), dt.date(2026, 9, 10)),
        offer=Offer("mobile_newspaper"), target=TargetGroup("m", list_size=100),
        channels=(ChannelSpec("sms", 0.05, 1.5),
                  ChannelSpec("outbound_call", 2.0, 4.0, daily_capacity={"hami": 30}, default_daily_capacity=10)),
        branches=("hami", "aksu"),
    )
    channels, capacity = channel_inputs(spec)
    assert channels.to_dict("list") == {"channel": ["sms", "outbound_call"], "unit_cost": [0.05, 2.0],
                                        "response_multiplier": [1.5, 4.0]}
    # 10 days; sms unlimited (absent)
    assert capacity.sort_values("branch_id").to_dict("list") == {
        "branch_id": ["aksu", "hami"], "channel": ["outbound_call", "outbound_call"], "capacity": [100.0, 300.0]}
    users = pd.DataFrame({"subscriber_id": range(400), "branch_id": ["hami", "aksu"] * 200,
                          "score": np.linspace(0.01, 0.2, 400)})
    problem = build_problem(users, channels, value_per_order=spec.value_per_order, budget=spec.budget,
                            capacity=capacity)
    plan = plan_channels(problem, progress=False)
    calls = plan.summary.set_index(["branch_id", "channel"])["users"]
    assert calls[("aksu", "outbound_call")] == 100  # 10 days x default 10 per day binds
    # hami's 300 calls do not bind: exactly the users for whom a call is the best channel get one
    V = problem.net_values()
    hami = users["branch_id"].to_numpy() == "hami"
    assert calls[("hami", "outbound_call")] == int((hami & (V[:, 1] > V[:, 0]) & (V[:, 1] > 0)).sum()) < 200


def test_expected_incremental():
    inc = expected_incremental([0.1, 0.6, 0.0], [1.5, 3.0, 0.5])
    np.testing.assert_allclose(inc, [[0.05, 0.2, -0.05], [0.3, 0.4, -0.3], [0.0, 0.0, 0.0]])
    with pytest.raises(ParameterError, match="'scores' parameter must be a 1-d array of probabilities in \\[0, 1\\]"):
        expected_incremental([1.2], [1.0])
    with pytest.raises(ParameterError, match="'multipliers' parameter must be a 1-d array of finite numbers >= 0"):
        expected_incremental([0.2], [-1.0])


def test_build_problem_errors():
    users = pd.DataFrame({"subscriber_id": [1, 2], "branch_id": ["hami", "aksu"], "score": [0.1, 0.2]})
    with pytest.raises(DataValidationError, match="users: missing column\\(s\\) \\['score'\\]"):
        build_problem(users.drop(columns="score"), CHANNELS, value_per_order=10)
    with pytest.raises(DataValidationError, match="users: column 'subscriber_id' must be unique; 1 repeated value"):
        build_problem(pd.concat([users, users.head(1)]), CHANNELS, value_per_order=10)
    with pytest.raises(ParameterError, match="'value_per_order' parameter must be a finite number > 0"):
        build_problem(users, CHANNELS, value_per_order=0)
    with pytest.raises(ParameterError, match="'budget' parameter must be a number >= 0"):
        build_problem(users, CHANNELS, value_per_order=10, budget=-5)
    with pytest.raises(ParameterError, match="'channels.channel' parameter must be channels from .*Got \\['fax'\\]"):
        build_problem(users, CHANNELS.assign(channel=["fax", "sms", "ivr", "hall"]), value_per_order=10)
    with pytest.raises(ParameterError, match="'channels.unit_cost' parameter must be finite numbers >= 0"):
        build_problem(users, CHANNELS.assign(unit_cost=[-1, 0, 0, 0]), value_per_order=10)
    with pytest.raises(DataValidationError, match="channels: column 'channel' must be unique"):
        build_problem(users, CHANNELS.assign(channel=["sms", "sms", "ivr", "hall"]), value_per_order=10)
    cap = pd.DataFrame({"branch_id": ["hami"], "channel": ["sms"], "capacity": [-3]})
    with pytest.raises(ParameterError, match="'capacity.capacity' parameter must be numbers >= 0"):
        build_problem(users, CHANNELS, value_per_order=10, capacity=cap)
    cap = pd.DataFrame({"branch_id": ["hami"], "channel": ["hall"], "capacity": [3]})
    with pytest.raises(ParameterError, match="'capacity.channel' parameter must be one of the planned channels"):
        build_problem(users, CHANNELS, value_per_order=10, capacity=cap)
    with pytest.raises(ParameterError, match="'incremental' parameter must be a finite array of shape \\(2, 4\\)"):
        build_problem(users, CHANNELS, value_per_order=10, incremental=np.zeros((2, 3)))


def test_solver_parameter_errors():
    problem = random_problem(100, 2, 10)
    with pytest.raises(ParameterError, match="'problem' parameter must be at most max_users=50 users for the exact LP"):
        solve_exact_lp(problem, max_users=50)
    with pytest.raises(ParameterError, match="'sample_size' parameter must be an integer >= 1"):
        plan_channels(problem, sample_size=0)
    plan = plan_channels(problem, progress=False)
    bad = plan.plan.assign(subscriber_id=-1)
    with pytest.raises(ParameterError, match="'plan.subscriber_id' parameter must be ids of the problem's users"):
        evaluate_plan(problem, bad)


def test_channel_plan_figures():
    plan = plan_channels(random_problem(500, 3, 12), progress=False)
    fig = channel_plan_figure(plan.summary, measure="expected_orders", by="channel", lang="en")
    assert fig.layout.title.text == "Channel plan: expected incremental orders"
    assert len(fig.data) == 3  # one series per branch
    assert "Outbound call" in list(fig.data[0].x)
    total = sum(sum(d.y) for d in fig.data)
    assert total == pytest.approx(plan.summary["expected_orders"].sum())
    roi = channel_plan_figure(plan.summary, measure="roi", by="branch", lang="zh")
    by_branch = plan.summary.groupby("branch_id")[["net_value", "cost"]].sum()
    np.testing.assert_allclose(list(roi.data[0].y), (by_branch["net_value"] / by_branch["cost"]).to_numpy())
    with pytest.raises(ParameterError, match="'measure' parameter must be one of"):
        channel_plan_figure(plan.summary, measure="profit")
    with pytest.raises(ParameterError, match="'by' parameter must be 'channel' or 'branch'"):
        channel_plan_figure(plan.summary, by="executor")
