"""The terms of a campaign the evaluation needs, read from its stored plan.

:func:`campaign_terms` turns the plan the store keeps (a :class:`workbench.campaign.CampaignSpec` dict)
into a :class:`CampaignTerms`: the period, the response window, the planned control share, the offer,
the channels' unit costs and the value of an order.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from workbench.checks import check_day, check_int
from workbench.data.tables import PRODUCT_FAMILIES
from workbench.errors import ParameterError

__all__ = ["CampaignTerms", "campaign_terms"]


@dataclass(frozen=True)
class CampaignTerms:
    """What the evaluation needs from a campaign plan (a :class:`workbench.campaign.CampaignSpec` dict).

    Attributes
    ----------
    start, end : datetime.date
        The campaign period (both days included).
    response_window_days : int
        Days after the contact in which an order counts.
    control_share : float or None
        Planned share of the list in the control group.
    family : str
        Product family offered.
    free_months : int
        Free months of the offer.
    unit_costs : dict of str to float
        Cost of one contact attempt by channel (yuan).
    value_per_order : float or None
        Value of one incremental order (yuan).
    stable_months : int
        Months an order must be held to be a stable response.
    """

    start: dt.date
    end: dt.date
    response_window_days: int = 30
    control_share: float | None = None
    family: str = "mobile_newspaper"
    free_months: int = 1
    unit_costs: Mapping[str, float] = field(default_factory=dict)
    value_per_order: float | None = None
    stable_months: int = 3

    @property
    def days(self) -> int:
        """Days of the campaign period."""
        return (self.end - self.start).days + 1

    @property
    def snapshot(self) -> str:
        """``YYYY-MM`` of the last month complete before the campaign: the features' snapshot."""
        return (pd.Timestamp(self.start).to_period("M") - 1).strftime("%Y-%m")


def campaign_terms(spec: Mapping, **overrides) -> CampaignTerms:
    """The :class:`CampaignTerms` of a stored plan, with ``overrides`` taking precedence.

    Parameters
    ----------
    spec : mapping
        The plan as :meth:`workbench.store.Store.spec` returns it (the dict of
        a :class:`workbench.campaign.CampaignSpec`): ``goal.period_start``,
        ``goal.period_end``, ``response_window_days``, ``control_share``,
        ``offer.family``, ``offer.free_months``, ``channels[].unit_cost`` and
        ``value_per_order`` are read when present.
    **overrides
        Any field of :class:`CampaignTerms` (``start``, ``end`` as dates or text).

    Raises
    ------
    ParameterError
        The period is missing (and not overridden) or invalid, the family is
        unknown, or an override names no field.
    """
    if not isinstance(spec, Mapping):
        raise ParameterError.invalid("spec", "a mapping (the stored campaign plan)", type(spec).__name__)
    known = set(CampaignTerms.__dataclass_fields__)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ParameterError.invalid("overrides", f"fields of CampaignTerms {sorted(known)}", unknown)
    goal = spec.get("goal") if isinstance(spec.get("goal"), Mapping) else {}
    offer = spec.get("offer") if isinstance(spec.get("offer"), Mapping) else {}
    values = {
        "start": goal.get("period_start"), "end": goal.get("period_end"),
        "response_window_days": spec.get("response_window_days", 30),
        "control_share": spec.get("control_share"),
        "family": offer.get("family") or (spec.get("product") if spec.get("product") in PRODUCT_FAMILIES
                                           else "mobile_newspaper"),
        "free_months": offer.get("free_months", 1),
        "unit_costs": {c["name"]: float(c.get("unit_cost", 0.0)) for c in spec.get("channels", ())
                       if isinstance(c, Mapping) and "name" in c},
        "value_per_order": spec.get("value_per_order"),
        "stable_months": spec.get("stable_months", 3),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("start", "end"):
        if values[key] is None:
            raise ParameterError(
                f"The campaign plan has no goal.period_{key} and no {key}= was given; pass the campaign period "
                f"(e.g. {key}='2026-11-02')."
            )
        values[key] = pd.Timestamp(check_day(key, values[key])).date()
    if values["end"] < values["start"]:
        raise ParameterError.invalid("end", f"a day on or after the start ({values['start']})", str(values["end"]))
    if values["family"] not in PRODUCT_FAMILIES:
        raise ParameterError.invalid("family", f"one of {list(PRODUCT_FAMILIES)}", values["family"])
    values["response_window_days"] = check_int("response_window_days", values["response_window_days"], 0)
    values["free_months"] = check_int("free_months", values["free_months"], 0)
    values["stable_months"] = check_int("stable_months", values["stable_months"], 1)
    share = values["control_share"]
    if share is not None and not (isinstance(share, (int, float)) and 0 < share < 1):
        values["control_share"] = None   # no control planned (0) cannot be checked for a mismatch
    values["unit_costs"] = dict(values["unit_costs"])
    return CampaignTerms(**values)
