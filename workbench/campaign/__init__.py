"""Campaign design (营销方案设计): specification, contact policy, control group, power, channel plan, lists.

The steps of a campaign plan, each a pure function of DataFrames:

1. :class:`CampaignSpec` - the validated, versioned plan (:mod:`~workbench.campaign.spec`);
2. :func:`apply_contact_policy` - who may be contacted, with the exclusion funnel;
3. :func:`assign_control` / :func:`universal_control` - reproducible hold-outs;
4. :func:`minimum_detectable_lift` / :func:`check_control_power` - can the control measure the goal;
5. :func:`plan_channels` - at most one channel per user under capacities and budget
   (:func:`solve_exact_lp` for the exact LP on small instances);
6. :func:`assign_executors` / :func:`build_list` / :func:`export_list` - the executors' lists.

:func:`plan_campaign` chains them (:mod:`~workbench.campaign.planning`): :func:`gather_plan_inputs`
reads the data and the store (:mod:`~workbench.campaign.inputs`), :func:`plan_from_inputs` computes
on DataFrames only; the plan in words and tables is :mod:`workbench.report.t04`.
"""
from workbench.campaign.assignment import EXECUTOR, SCORE_BAND, assign_executors, score_bands, workload
from workbench.campaign.channel_plan import (
    PLAN_COLUMNS, SUMMARY_COLUMNS, ChannelPlan, ChannelPlanProblem, build_problem, channel_inputs, evaluate_plan,
    expected_incremental, plan_channels, solve_exact_lp,
)
from workbench.campaign.control import (
    GROUP_CONTROL, GROUP_TARGET, assign_control, control_balance, hash_uniform, score_deciles, universal_control,
)
from workbench.campaign.lists import (
    EXPORT_FORMATS, KNOWN_ROLES, LIST_COLUMNS, NUMBER_VISIBLE_ROLES, ExportResult, build_list, can_see_numbers,
    export_list, mask_msisdn, talking_points,
)
from workbench.campaign import executors, from_goal, inputs, planning, targeting
from workbench.campaign.executors import *  # noqa: F401,F403 - executor roster
from workbench.campaign.from_goal import *  # noqa: F401,F403 - the spec from the goal of template 02
from workbench.campaign.inputs import *  # noqa: F401,F403 - what a plan reads from the data
from workbench.campaign.planning import *  # noqa: F401,F403 - the whole plan: plan_campaign, release, run files
from workbench.campaign.targeting import *  # noqa: F401,F403 - segment, target group, rates, shadow channels
from workbench.campaign.policy import CONTACT_DATE, FUNNEL_COLUMNS, POLICY_STEPS, apply_contact_policy, policy_flags
from workbench.campaign.power import (
    ALTERNATIVES, DetectableLift, PowerCheck, check_control_power, minimum_detectable_lift, required_control_size,
)
from workbench.campaign.spec import (
    BY_PREFERENCE, CAMPAIGN_CHANNELS, CampaignSpec, ChannelSpec, ContactPolicy, Goal, Offer, TargetGroup,
    UniversalControl,
)

__all__ = [
    # spec
    "CampaignSpec", "Goal", "Offer", "TargetGroup", "ChannelSpec", "UniversalControl", "ContactPolicy",
    "CAMPAIGN_CHANNELS", "BY_PREFERENCE",
    # policy
    "apply_contact_policy", "policy_flags", "POLICY_STEPS", "FUNNEL_COLUMNS", "CONTACT_DATE",
    # control
    "assign_control", "control_balance", "universal_control", "hash_uniform", "score_deciles",
    "GROUP_TARGET", "GROUP_CONTROL",
    # power
    "minimum_detectable_lift", "required_control_size", "check_control_power", "DetectableLift", "PowerCheck",
    "ALTERNATIVES",
    # channel plan
    "ChannelPlanProblem", "ChannelPlan", "build_problem", "channel_inputs", "expected_incremental",
    "solve_exact_lp", "plan_channels", "evaluate_plan", "PLAN_COLUMNS", "SUMMARY_COLUMNS",
    # assignment and lists
    "assign_executors", "score_bands", "workload", "EXECUTOR", "SCORE_BAND",
    "build_list", "export_list", "mask_msisdn", "can_see_numbers", "talking_points", "ExportResult",
    "LIST_COLUMNS", "KNOWN_ROLES", "NUMBER_VISIBLE_ROLES", "EXPORT_FORMATS",
    # planning: the spec from the goal, the reads, the targeting, the whole plan; executors
    *from_goal.__all__, *inputs.__all__, *targeting.__all__, *planning.__all__, *executors.__all__,
]
