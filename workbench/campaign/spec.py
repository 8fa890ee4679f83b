"""The campaign specification: a typed, validated, versioned description of one campaign.

A :class:`CampaignSpec` holds what the planner decides (营销方案设计): the goal,
the offer (product family, edition, tariff, promotion), the target group, the
channels with their costs and capacities, the response window, the control
group, the contact policy, the owner and the seed that makes every random
split reproducible.  It is built once, validated at construction (every error
names the field, what is allowed and what was given), and travels as a dict,
JSON or YAML (the store keeps it as JSON next to its hash).

``version`` counts the releases of a plan; :meth:`CampaignSpec.content_hash`
identifies the content regardless of the version, so two versions with the
same hash plan the same thing.

>>> import datetime as dt
>>> spec = CampaignSpec(
...     name="mobile newspaper autumn", owner="analyst1",
...     goal=Goal(2000, dt.date(2026, 9, 1), dt.date(2026, 9, 30), "penetration fell in prefectures"),
...     offer=Offer("mobile_newspaper", free_months=1),
...     target=TargetGroup("mn-2026-08", list_size=50000),
...     channels=(ChannelSpec("sms", 0.05, 1.5), ChannelSpec("outbound_call", 2.0, 4.0, default_daily_capacity=300)),
... )
>>> CampaignSpec.from_json(spec.to_json()) == spec
True
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from workbench.checks import MAX_SEED, check_int, check_num
from workbench.data.tables import BRANCHES, BRANDS, PRODUCT_FAMILIES
from workbench.errors import ParameterError

__all__ = [
    "CAMPAIGN_CHANNELS",
    "BY_PREFERENCE",
    "Goal",
    "Offer",
    "TargetGroup",
    "ChannelSpec",
    "UniversalControl",
    "ContactPolicy",
    "CampaignSpec",
]

#: Channels a campaign can use (a subset of the data model's order channels).
CAMPAIGN_CHANNELS: tuple[str, ...] = ("sms", "wap_push", "outbound_call", "ivr", "hall", "key_account")
#: Edition value meaning "each user gets the edition of their content preference".
BY_PREFERENCE: str = "by_preference"
_BRANCH_IDS: tuple[str, ...] = tuple(b[0] for b in BRANCHES)


# --------------------------------------------------------------------- checks
_fail = ParameterError.invalid


def _text(name: str, value, *, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(name, "a non-empty string" if required else "a string", value)
    return value


def _date(name: str, value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise _fail(name, "a date (datetime.date or 'YYYY-MM-DD')", value)


def _choices(name: str, values, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, (list, tuple, set, frozenset)):
        raise _fail(name, f"a list of values from {list(allowed)}", values)
    values = tuple(values)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise _fail(name, f"a list of values from {list(allowed)}", bad)
    if len(set(values)) != len(values):
        raise _fail(name, "a list without repeated values", list(values))
    return values


def _set(obj, name: str, value) -> None:
    object.__setattr__(obj, name, value)


# ------------------------------------------------------------------- sections
@dataclass(frozen=True)
class Goal:
    """What the campaign must achieve (设定营销目标).

    Parameters
    ----------
    target_stable_subscribers : int
        New stable subscribers the campaign must bring (>= 1).
    period_start, period_end : datetime.date
        First and last day of the campaign (inclusive).
    reason : str
        Why: the problem the data showed.
    """

    target_stable_subscribers: int
    period_start: dt.date
    period_end: dt.date
    reason: str = ""

    def __post_init__(self):
        _set(self, "target_stable_subscribers",
             check_int("goal.target_stable_subscribers", self.target_stable_subscribers, 1))
        _set(self, "period_start", _date("goal.period_start", self.period_start))
        _set(self, "period_end", _date("goal.period_end", self.period_end))
        if self.period_end < self.period_start:
            raise _fail("goal.period_end", f"a date on or after goal.period_start ({self.period_start})",
                        self.period_end.isoformat())
        _set(self, "reason", _text("goal.reason", self.reason, required=False))

    @property
    def period_days(self) -> int:
        """Days of the campaign period, both ends included."""
        return (self.period_end - self.period_start).days + 1


@dataclass(frozen=True)
class Offer:
    """The marketing mix's product side: product family, edition, tariff, promotion.

    Parameters
    ----------
    family : str
        One of the data model's product families (e.g. ``"mobile_newspaper"``).
    edition : str
        Edition to offer, or :data:`BY_PREFERENCE` to offer each user the
        edition of their content preference.
    product_id : str, optional
        A specific catalogue product.
    tariff : str
        Tariff text as shown to the customer (e.g. "3 yuan/month").
    monthly_fee : float, optional
        Monthly fee in yuan.
    free_months : int
        Free months after ordering (promotion), 0-12.
    promotion : str
        Any further promotion text.
    """

    family: str
    edition: str = BY_PREFERENCE
    product_id: str | None = None
    tariff: str = ""
    monthly_fee: float | None = None
    free_months: int = 0
    promotion: str = ""

    def __post_init__(self):
        if self.family not in PRODUCT_FAMILIES:
            raise _fail("offer.family", f"one of {list(PRODUCT_FAMILIES)}", self.family)
        _set(self, "edition", _text("offer.edition", self.edition))
        if self.product_id is not None:
            _set(self, "product_id", _text("offer.product_id", self.product_id))
        _set(self, "tariff", _text("offer.tariff", self.tariff, required=False))
        if self.monthly_fee is not None:
            _set(self, "monthly_fee", check_num("offer.monthly_fee", self.monthly_fee, 0))
        _set(self, "free_months", check_int("offer.free_months", self.free_months, 0, 12))
        _set(self, "promotion", _text("offer.promotion", self.promotion, required=False))

    @property
    def by_preference(self) -> bool:
        """True when each user is offered the edition of their preference."""
        return self.edition == BY_PREFERENCE


@dataclass(frozen=True)
class TargetGroup:
    """Who is targeted: a model's top list, by size or score threshold, and segment filters.

    Parameters
    ----------
    model_id : str
        Registry id of the target model whose scores rank the users.
    list_size : int, optional
        Take the ``list_size`` best-scored users ...
    score_threshold : float, optional
        ... or every user scoring at least this (exactly one of the two).
    rules : tuple of str
        Readable rules of the model for business staff (规则示例), informative.
    branches : tuple of str
        Only users of these branches (empty: the campaign's branches).
    brands : tuple of str
        Only users of these brands (empty: all).
    """

    model_id: str
    list_size: int | None = None
    score_threshold: float | None = None
    rules: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()

    def __post_init__(self):
        _set(self, "model_id", _text("target.model_id", self.model_id))
        if (self.list_size is None) == (self.score_threshold is None):
            raise _fail("target.list_size / target.score_threshold", "exactly one of the two set",
                        {"list_size": self.list_size, "score_threshold": self.score_threshold})
        if self.list_size is not None:
            _set(self, "list_size", check_int("target.list_size", self.list_size, 1))
        if self.score_threshold is not None:
            _set(self, "score_threshold", check_num("target.score_threshold", self.score_threshold, 0, 1))
        if isinstance(self.rules, str) or not isinstance(self.rules, (list, tuple)):
            raise _fail("target.rules", "a list of strings", self.rules)
        _set(self, "rules", tuple(_text(f"target.rules[{i}]", r) for i, r in enumerate(self.rules)))
        _set(self, "branches", _choices("target.branches", self.branches, _BRANCH_IDS))
        _set(self, "brands", _choices("target.brands", self.brands, BRANDS))


@dataclass(frozen=True)
class ChannelSpec:
    """One channel of the campaign with its economics and capacity.

    Parameters
    ----------
    name : str
        One of :data:`CAMPAIGN_CHANNELS`.
    unit_cost : float
        Cost of one contact in yuan (>= 0).
    response_multiplier : float
        Expected response of a contacted user relative to the no-contact
        baseline (1.5 = 50 % more orders than without contact).
    daily_capacity : mapping of str to int
        Contacts per day a branch can make through this channel.
    default_daily_capacity : int, optional
        Contacts per day of a branch not in ``daily_capacity``; ``None`` = unlimited.
    """

    name: str
    unit_cost: float
    response_multiplier: float = 1.0
    daily_capacity: Mapping[str, int] = field(default_factory=dict)
    default_daily_capacity: int | None = None

    def __post_init__(self):
        if self.name not in CAMPAIGN_CHANNELS:
            raise _fail("channels.name", f"one of {list(CAMPAIGN_CHANNELS)}", self.name)
        p = f"channels[{self.name}]"
        _set(self, "unit_cost", check_num(f"{p}.unit_cost", self.unit_cost, 0))
        _set(self, "response_multiplier", check_num(f"{p}.response_multiplier", self.response_multiplier, 0))
        if not isinstance(self.daily_capacity, Mapping):
            raise _fail(f"{p}.daily_capacity", "a mapping {branch_id: contacts per day}", self.daily_capacity)
        bad = [b for b in self.daily_capacity if b not in _BRANCH_IDS]
        if bad:
            raise _fail(f"{p}.daily_capacity", f"keys from the branches {list(_BRANCH_IDS)}", bad)
        caps = {b: check_int(f"{p}.daily_capacity[{b}]", v, 0) for b, v in self.daily_capacity.items()}
        _set(self, "daily_capacity", dict(sorted(caps.items())))
        if self.default_daily_capacity is not None:
            _set(self, "default_daily_capacity",
                 check_int(f"{p}.default_daily_capacity", self.default_daily_capacity, 0))

    def capacity_for(self, branch_id: str) -> int | None:
        """Daily capacity of ``branch_id`` (``None`` = unlimited)."""
        return self.daily_capacity.get(branch_id, self.default_daily_capacity)

    def __hash__(self) -> int:
        return hash((self.name, self.unit_cost, self.response_multiplier,
                     tuple(self.daily_capacity.items()), self.default_daily_capacity))


@dataclass(frozen=True)
class UniversalControl:
    """Province-wide universal control group, excluded from every campaign of a period.

    Parameters
    ----------
    enabled : bool
        Whether the campaign excludes the universal control group.
    share : float
        Share of all subscribers held out, in [0, 0.2] (e.g. 0.02).
    period_key : str
        The period the group is drawn for (e.g. ``"2026H2"``); the same key
        gives the same group to every campaign.
    seed : int
        Province-wide seed of the group (not the campaign's seed).
    """

    enabled: bool = False
    share: float = 0.02
    period_key: str = ""
    seed: int = 0

    def __post_init__(self):
        if not isinstance(self.enabled, bool):
            raise _fail("universal_control.enabled", "True or False", self.enabled)
        _set(self, "share", check_num("universal_control.share", self.share, 0, 0.2))
        _set(self, "period_key", _text("universal_control.period_key", self.period_key, required=self.enabled))
        _set(self, "seed", check_int("universal_control.seed", self.seed, 0, MAX_SEED))


@dataclass(frozen=True)
class ContactPolicy:
    """Contact-policy parameters (see :func:`workbench.campaign.apply_contact_policy`).

    Parameters
    ----------
    recent_days : int
        Exclude users contacted by any campaign in the last ``recent_days`` days (0 = off).
    max_contacts_month : int
        Exclude users already contacted this many times in the current month.
    exclude_credit_grades : tuple of str
        New users of these credit grades (template 07) are never promotion targets (empty: off).
    """

    recent_days: int = 7
    max_contacts_month: int = 4
    exclude_credit_grades: tuple[str, ...] = ("D", "E")

    def __post_init__(self):
        _set(self, "recent_days", check_int("contact_policy.recent_days", self.recent_days, 0, 365))
        _set(self, "max_contacts_month",
             check_int("contact_policy.max_contacts_month", self.max_contacts_month, 1, 100))
        grades = self.exclude_credit_grades
        if isinstance(grades, str) or not isinstance(grades, (list, tuple)) \
                or not all(isinstance(g, str) and len(g) == 1 and g.isalpha() and g.isupper() for g in grades):
            raise _fail("contact_policy.exclude_credit_grades", "a list of grade letters such as ['D', 'E']", grades)
        _set(self, "exclude_credit_grades", tuple(grades))


_SECTIONS = {"goal": Goal, "offer": Offer, "target": TargetGroup, "universal_control": UniversalControl,
             "contact_policy": ContactPolicy}


# ----------------------------------------------------------------------- spec
@dataclass(frozen=True)
class CampaignSpec:
    """The whole campaign plan.

    Parameters
    ----------
    name : str
        Campaign name.
    owner : str
        User name of the planner who owns it.
    goal : Goal
    offer : Offer
    target : TargetGroup
    channels : tuple of ChannelSpec
        At least one, each channel at most once.
    branches : tuple of str
        Branches taking part (empty: all branches of the province).
    response_window_days : int
        Days after the contact during which an order counts as a response (1-365).
    control_share : float
        Share of the target list held out as control, in [0, 0.9].
    universal_control : UniversalControl
    contact_policy : ContactPolicy
    value_per_order : float
        Value of one incremental order in yuan (> 0), for the channel plan.
    budget : float, optional
        Contact budget in yuan; ``None`` = unlimited.
    seed : int
        Seed of every random step of this campaign (control split, samples).
    version : int
        Version of the plan (>= 1); see :meth:`bump`.
    """

    name: str
    owner: str
    goal: Goal
    offer: Offer
    target: TargetGroup
    channels: tuple[ChannelSpec, ...]
    branches: tuple[str, ...] = ()
    response_window_days: int = 30
    control_share: float = 0.1
    universal_control: UniversalControl = field(default_factory=UniversalControl)
    contact_policy: ContactPolicy = field(default_factory=ContactPolicy)
    value_per_order: float = 30.0
    budget: float | None = None
    seed: int = 0
    version: int = 1

    def __post_init__(self):
        _set(self, "name", _text("name", self.name))
        _set(self, "owner", _text("owner", self.owner))
        for key, cls in _SECTIONS.items():
            if not isinstance(getattr(self, key), cls):
                raise _fail(key, f"a {cls.__name__}", type(getattr(self, key)).__name__)
        if isinstance(self.channels, ChannelSpec) or not isinstance(self.channels, (list, tuple)) \
                or not self.channels:
            raise _fail("channels", "a non-empty list of ChannelSpec", self.channels)
        for c in self.channels:
            if not isinstance(c, ChannelSpec):
                raise _fail("channels", "a non-empty list of ChannelSpec", type(c).__name__)
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise _fail("channels", "each channel at most once", names)
        _set(self, "channels", tuple(self.channels))
        _set(self, "branches", _choices("branches", self.branches, _BRANCH_IDS))
        outside = [b for b in self.target.branches if b not in self.campaign_branches]
        if outside:
            raise _fail("target.branches", f"branches of the campaign {list(self.campaign_branches)}", outside)
        _set(self, "response_window_days", check_int("response_window_days", self.response_window_days, 1, 365))
        _set(self, "control_share", check_num("control_share", self.control_share, 0, 0.9))
        _set(self, "value_per_order", check_num("value_per_order", self.value_per_order, 0, lo_open=True))
        if self.budget is not None:
            _set(self, "budget", check_num("budget", self.budget, 0))
        _set(self, "seed", check_int("seed", self.seed, 0, MAX_SEED))
        _set(self, "version", check_int("version", self.version, 1))

    # -- derived
    @property
    def campaign_branches(self) -> tuple[str, ...]:
        """The branches taking part (all branches when ``branches`` is empty)."""
        return self.branches or _BRANCH_IDS

    @property
    def channel_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.channels)

    def channel(self, name: str) -> ChannelSpec:
        """The :class:`ChannelSpec` called ``name``."""
        for c in self.channels:
            if c.name == name:
                return c
        raise ParameterError.invalid("channel", f"one of the campaign's channels {list(self.channel_names)}", name)

    def bump(self, **changes) -> "CampaignSpec":
        """A new version: ``changes`` applied and ``version`` + 1 (validated again)."""
        if "version" in changes:
            raise ParameterError.invalid("changes", "fields other than 'version' (bump sets it)", "version")
        return dataclasses.replace(self, version=self.version + 1, **changes)

    # -- serialisation
    def to_dict(self) -> dict:
        """Plain, JSON-ready dict (dates as ISO strings, tuples as lists)."""
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping) -> "CampaignSpec":
        """Build and validate a spec from :meth:`to_dict` output (unknown keys are an error)."""
        if not isinstance(data, Mapping):
            raise _fail("spec", "a mapping", type(data).__name__)
        data = dict(data)
        _known("spec", data, cls)
        for key, section in _SECTIONS.items():
            if key in data:
                data[key] = _section(key, data[key], section)
        if "channels" in data:
            chans = data["channels"]
            if isinstance(chans, (str, Mapping)) or not isinstance(chans, (list, tuple)):
                raise _fail("channels", "a list of channel mappings", chans)
            data["channels"] = tuple(_section(f"channels[{i}]", c, ChannelSpec) for i, c in enumerate(chans))
        for key in ("branches",):
            if isinstance(data.get(key), list):
                data[key] = tuple(data[key])
        try:
            return cls(**data)
        except TypeError as exc:  # a required field is missing
            raise ParameterError(f"spec: {exc}") from None

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> "CampaignSpec":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"spec: not valid JSON ({exc})") from None
        return cls.from_dict(data)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str) -> "CampaignSpec":
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ParameterError(f"spec: not valid YAML ({exc})") from None
        return cls.from_dict(data)

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of the content (everything but ``version``)."""
        data = self.to_dict()
        data.pop("version")
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _known(name: str, data: dict, cls) -> None:
    allowed = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise _fail(name, f"a mapping with keys from {allowed}", f"unknown key(s) {unknown}")


def _section(name: str, value, cls):
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise _fail(name, f"a mapping for {cls.__name__}", value)
    value = dict(value)
    _known(name, value, cls)
    for key in ("rules", "branches", "brands"):
        if isinstance(value.get(key), list):
            value[key] = tuple(value[key])
    try:
        return cls(**value)
    except TypeError as exc:  # a required field is missing
        raise ParameterError(f"{name}: {exc}") from None
