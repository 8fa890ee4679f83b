"""A rolling trigger campaign: one spec, released in daily waves.

Each day's wave (:func:`plan_wave`, then :func:`release_wave`; :func:`run_wave` does both)

1. finds the day's stable changers (:func:`workbench.triggers.detect_changers`);
2. drops those the contact policy holds back: listed in a wave of this campaign
   or contacted by any campaign in the ``cooldown_days`` before the day (a change
   is judged on one day only, so a changer is never listed twice for it);
3. gives each their best eligible service and its channel (:func:`workbench.triggers.recommend`);
4. draws the **comparison group**: for each changer, ``comparison_ratio``
   non-changers of the same brand and ARPU quintile whose handset supports the
   same service and who do not hold it, offered the same service by the same channel;
5. splits changers and comparison members at random (seeded by the spec and the
   day) into ``target`` (pushed) and ``control`` (not pushed), ``control_share`` each;
6. releases the wave as the campaign's next **immutable version** (the first wave
   releases the campaign).  The version's spec is the campaign spec plus the
   wave day; a day already released is returned as it is, so re-running a day
   adds no contact.

Member rows use the store's list columns: ``score_band`` holds the arm
(``changer`` / ``comparison``), ``edition`` the offered product id,
``talking_points`` the old and new handset models.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.campaign.lists import mask_msisdn
from workbench.checks import check_date, check_int, check_num
from workbench.data.source import connection, require_tables
from workbench.errors import ParameterError
from workbench.triggers.comparison import arpu_cuts, comparison_group
from workbench.triggers.detect import MIN_ACTIVE_DAYS, WINDOW_DAYS, detect_changers
from workbench.triggers.recommend import DEFAULT_CHANNEL_RULES, gather_recommend_inputs, recommend

__all__ = [
    "ARMS",
    "TriggerSpec",
    "Wave",
    "WaveRelease",
    "plan_wave",
    "release_wave",
    "run_wave",
    "wave_members",
    "channel_files",
    "wave_days",
    "run_waves",
    "releases_table",
    "wave_files",
]

#: Arms of a wave, kept in the member rows' ``score_band``.
ARMS: tuple[str, ...] = ("changer", "comparison")
_KIND = "handset_trigger"


@dataclass(frozen=True)
class TriggerSpec:
    """The one spec of a rolling handset-change trigger campaign.

    Parameters
    ----------
    name : str
        Campaign name in the store (the campaign a wave joins).
    window_days, min_active_days : int
        Stable-changer rule (:func:`workbench.triggers.detect_changers`).
    control_share : float
        Share of each arm held back as the wave's control (0 < share < 1).
    comparison_ratio : float
        Comparison (non-changer) members per changer (0 for none).
    cooldown_days : int
        A subscriber contacted by any campaign in these days before the wave is held back.
    gained_bonus : float
        Score bonus of a service the old handset could not use.
    channel_rules : dict
        Capability -> channel.
    seed : int
        Seed of the random splits (with the day).
    """

    name: str = "handset-change trigger"
    window_days: int = WINDOW_DAYS
    min_active_days: int = MIN_ACTIVE_DAYS
    control_share: float = 0.2
    comparison_ratio: float = 1.0
    cooldown_days: int = 30
    gained_bonus: float = 0.5
    channel_rules: dict = field(default_factory=lambda: dict(DEFAULT_CHANNEL_RULES))
    seed: int = 20261207

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise ParameterError.invalid("name", "a non-empty campaign name", self.name)
        check_int("window_days", self.window_days, 1, 60)
        check_int("min_active_days", self.min_active_days, 1, self.window_days)
        check_num("control_share", self.control_share, 0, 1, lo_open=True)
        if self.control_share >= 1:
            raise ParameterError.invalid("control_share", "a share above 0 and below 1", self.control_share)
        check_num("comparison_ratio", self.comparison_ratio, 0, 10)
        check_int("cooldown_days", self.cooldown_days, 0, 365)
        check_num("gained_bonus", self.gained_bonus, 0, 100)
        check_int("seed", self.seed, 0, 2**32 - 1)

    def to_dict(self) -> dict:
        """The spec as stored with each version (``kind``, ``product``, parameters)."""
        return {"kind": _KIND, "product": "handset_trigger", **dataclasses.asdict(self)}


@dataclass
class Wave:
    """One day's wave before release.

    Attributes
    ----------
    day : pandas.Timestamp
    members : DataFrame
        Store list rows plus ``arm``, ``product_id``, ``change_day``, ``msisdn_masked``.
    funnel : DataFrame
        ``step, count``: detected, held back by the policy, without an eligible service, listed, comparison.
    """

    day: pd.Timestamp
    members: pd.DataFrame
    funnel: pd.DataFrame


@dataclass(frozen=True)
class WaveRelease:
    """A released (or already released) wave."""

    campaign_id: int | None
    version: int | None
    members: int
    created: bool
    day: str


def _rng(spec: TriggerSpec, day: pd.Timestamp, what: str) -> np.random.Generator:
    key = hashlib.sha256(f"{spec.seed}|{day.date().isoformat()}|{what}".encode()).digest()
    return np.random.default_rng(int.from_bytes(key[:8], "little"))


def _split(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """``target`` / ``control`` for ``n`` rows: exactly ``round(share * n)`` controls, at random."""
    groups = np.full(n, "target", dtype=object)
    k = int(round(share * n))
    if k:
        groups[rng.choice(n, size=k, replace=False)] = "control"
    return groups


def plan_wave(spec: TriggerSpec, source, day, *, held_back=None) -> Wave:
    """Plan one day's wave (nothing is written).

    Parameters
    ----------
    spec : TriggerSpec
    source : path, mapping, Source or duckdb connection
        The province (with the presence tables).
    day : date
        The wave day (the detection day).
    held_back : array-like of int, optional
        Subscribers the contact policy holds back (earlier waves, recent contacts;
        :func:`release_wave` and :func:`run_wave` pass them from the store).

    Returns
    -------
    Wave
    """
    if not isinstance(spec, TriggerSpec):
        raise ParameterError.invalid("spec", "a TriggerSpec", type(spec).__name__)
    day = check_date("day", day)
    held = pd.Series(np.asarray([] if held_back is None else held_back, dtype="int64"))
    with connection(source, progress=False) as con:
        require_tables(con, ("subscribers", "monthly_usage", "vas_orders", "vas_products", "imei_presence",
                             "imei_days", "handset_models"), "plan_wave")
        changers = detect_changers(con, day, window_days=spec.window_days, min_active_days=spec.min_active_days)
        detected = len(changers)
        changers = changers[~changers["subscriber_id"].isin(held)]
        policy = detected - len(changers)
        offers = pd.DataFrame()
        if len(changers):
            inputs = gather_recommend_inputs(con, changers["subscriber_id"], day)
            ranked = recommend(changers, inputs, channel_rules=spec.channel_rules, gained_bonus=spec.gained_bonus)
            offers = ranked[ranked["rank"] == 1].merge(
                changers[["subscriber_id", "change_day", "old_model", "new_model"]], on="subscriber_id")
        if len(offers):
            con.register("_ids", offers[["subscriber_id"]])
            cuts = arpu_cuts(con, day)
            attrs = con.execute("""
                SELECT s.subscriber_id, s.branch_id, s.brand, s.msisdn,
                       1 + (u.arpu > $c1)::INT + (u.arpu > $c2)::INT + (u.arpu > $c3)::INT + (u.arpu > $c4)::INT
                       AS arpu_q
                FROM subscribers s JOIN _ids USING (subscriber_id)
                LEFT JOIN monthly_usage u ON u.subscriber_id = s.subscriber_id AND CAST(u.month AS DATE) = $month""",
                                {"month": (day.to_period("M") - 1).to_timestamp().date(),
                                 **{f"c{i + 1}": c for i, c in enumerate(cuts)}}).df()
            con.unregister("_ids")
            offers = offers.merge(attrs, on="subscriber_id")
            offers["arpu_q"] = offers["arpu_q"].fillna(1).astype("int64")
        comp = comparison_group(con, offers, day, spec.comparison_ratio,
                           pd.concat([held, offers.get("subscriber_id", pd.Series(dtype="int64"))]),
                           int(spec.seed), cuts) if len(offers) else pd.DataFrame()
        if len(comp):
            con.register("_ids", comp[["subscriber_id"]])
            msisdn = con.execute("SELECT subscriber_id, msisdn FROM subscribers JOIN _ids USING (subscriber_id)").df()
            con.unregister("_ids")
            comp = comp.merge(msisdn, on="subscriber_id")
    members = _members(spec, day, offers, comp)
    funnel = pd.DataFrame({"step": ["detected", "held_back", "no_service", "listed_changers", "comparison"],
                           "count": [detected, policy, detected - policy - len(offers), len(offers), len(comp)]})
    return Wave(day, members, funnel)


def _members(spec: TriggerSpec, day: pd.Timestamp, offers: pd.DataFrame, comp: pd.DataFrame) -> pd.DataFrame:
    parts = []
    if len(offers):
        o = offers.sort_values("subscriber_id").reset_index(drop=True)
        parts.append(pd.DataFrame({
            "subscriber_id": o["subscriber_id"].astype("int64"), "branch_id": o["branch_id"],
            "group": _split(len(o), spec.control_share, _rng(spec, day, "changer")),
            "score": o["score"].astype(float), "score_band": "changer", "channel": o["channel"],
            "edition": o["product_id"], "talking_points": o["old_model"] + " -> " + o["new_model"],
            "reasons": "gained" + o["gained"].map({True: "", False: "_no"}).astype(str),
            "msisdn": o["msisdn"], "change_day": pd.to_datetime(o["change_day"]),
        }))
    if len(comp):
        c = comp.sort_values("subscriber_id").reset_index(drop=True)
        parts.append(pd.DataFrame({
            "subscriber_id": c["subscriber_id"].astype("int64"), "branch_id": c["branch_id"],
            "group": _split(len(c), spec.control_share, _rng(spec, day, "comparison")),
            "score": np.nan, "score_band": "comparison", "channel": c["channel"], "edition": c["product_id"],
            "talking_points": "", "reasons": "", "msisdn": c["msisdn"], "change_day": pd.NaT,
        }))
    if not parts:
        return pd.DataFrame(columns=["subscriber_id", "branch_id", "group", "score", "score_band", "channel",
                                     "edition", "talking_points", "reasons", "msisdn_masked", "change_day"])
    out = pd.concat(parts, ignore_index=True)
    out["msisdn_masked"] = mask_msisdn(out.pop("msisdn"))
    return out


def _campaign_versions(store, user, name: str) -> tuple[int | None, dict[str, int]]:
    """The trigger campaign's id and its released wave days -> version."""
    campaigns = store.visible_campaigns(user)
    mine = campaigns[(campaigns["name"] == name) & (campaigns["product"] == "handset_trigger")] \
        if len(campaigns) else campaigns
    if not len(mine):
        return None, {}
    cid = int(mine["campaign_id"].max())
    versions = store.versions(user, cid)
    days = {}
    for v in versions.loc[versions["released_at"].notna(), "version"].tolist():
        wave_day = store.spec(user, cid, int(v)).get("wave_day")
        if wave_day:
            days[str(wave_day)] = int(v)
    return cid, days


def wave_members(store, user, name: str = TriggerSpec.name, *, since=None, before=None) -> pd.DataFrame:
    """The waves' members of the trigger campaign ``name``: list rows plus ``wave_day`` and ``version``.

    ``since`` / ``before`` keep the waves of days ``since <= day < before``.
    """
    cid, days = _campaign_versions(store, user, name)
    lo = check_date("since", since) if since is not None else None
    hi = check_date("before", before) if before is not None else None
    parts = []
    for day, version in sorted(days.items()):
        if (lo is not None and pd.Timestamp(day) < lo) or (hi is not None and pd.Timestamp(day) >= hi):
            continue
        rows = store.worklist(user, cid, version=version, include_control=True)
        parts.append(rows.assign(wave_day=pd.Timestamp(day)))
    if not parts:
        return pd.DataFrame(columns=["campaign_id", "version", "subscriber_id", "group", "score_band", "channel",
                                     "edition", "wave_day"])
    return pd.concat(parts, ignore_index=True)


def _held_back(store, user, spec: TriggerSpec, day: pd.Timestamp) -> np.ndarray:
    from workbench.campaign.planning import contact_history

    earlier = wave_members(store, user, spec.name, since=day - pd.Timedelta(days=spec.cooldown_days), before=day)
    recent = contact_history(store, user=user, before=day)
    if len(recent):
        recent = recent[recent["contact_date"] >= day - pd.Timedelta(days=spec.cooldown_days)]
    return np.unique(np.r_[earlier["subscriber_id"].to_numpy("int64") if len(earlier) else [],
                           recent["subscriber_id"].to_numpy("int64") if len(recent) else []]).astype("int64")


def release_wave(spec: TriggerSpec, wave: Wave, store, user) -> WaveRelease:
    """Release a planned wave as the campaign's next version (a day already released is returned as is).

    Raises
    ------
    ParameterError
        A wave that is not a :class:`Wave`.
    AccessDenied
        When ``user`` may not release campaigns.
    """
    if not isinstance(wave, Wave):
        raise ParameterError.invalid("wave", "a Wave (plan_wave())", type(wave).__name__)
    day = wave.day.date().isoformat()
    cid, days = _campaign_versions(store, user, spec.name)
    if day in days:
        return WaveRelease(cid, days[day], 0, False, day)
    if wave.members.empty:
        return WaveRelease(cid, None, 0, False, day)
    stored = {**spec.to_dict(), "wave_day": day}
    members = wave.members.drop(columns=["change_day"])
    if cid is None:
        rel = store.release_campaign(user, stored, members, product="handset_trigger")
    else:
        rel = store.new_version(user, cid, stored, members)
    return WaveRelease(rel.campaign_id, rel.version, rel.member_count, True, day)


def run_wave(spec: TriggerSpec, source, day, store, user) -> tuple[Wave, WaveRelease]:
    """Detect, recommend and release one day's wave (idempotent per day).

    Returns
    -------
    (Wave, WaveRelease)
        ``release.created`` is False when the day was already released (nothing is added).
    """
    day = check_date("day", day)
    cid, days = _campaign_versions(store, user, spec.name)
    if day.date().isoformat() in days:
        empty = Wave(day, _members(spec, day, pd.DataFrame(), pd.DataFrame()),
                     pd.DataFrame({"step": [], "count": []}))
        return empty, WaveRelease(cid, days[day.date().isoformat()], 0, False, day.date().isoformat())
    wave = plan_wave(spec, source, day, held_back=_held_back(store, user, spec, day))
    return wave, release_wave(spec, wave, store, user)


def channel_files(wave: Wave, channels=("sms", "wap_push")) -> dict[str, pd.DataFrame]:
    """The pushed (target) members of a wave per automatic channel, for the SMS / WAP-Push platforms.

    Numbers are masked; the platform resolves ``subscriber_id`` itself.
    """
    m = wave.members
    out = {}
    for ch in channels:
        rows = m[(m["group"] == "target") & (m["channel"] == ch)] if len(m) else m
        out[ch] = rows[["subscriber_id", "msisdn_masked", "edition", "branch_id"]].rename(
            columns={"edition": "product_id"}).reset_index(drop=True) if len(rows) else pd.DataFrame(
            columns=["subscriber_id", "msisdn_masked", "product_id", "branch_id"])
    return out


def wave_days(source, days: int) -> list[pd.Timestamp]:
    """The last ``days`` days a wave can be run on (those ``imei_days`` can judge with the default rule)."""
    from workbench.triggers.detect import presence_days

    days = check_int("days", days, 1, 366)
    lo, hi = presence_days(source)
    first = max(lo + pd.Timedelta(days=WINDOW_DAYS - 1), hi - pd.Timedelta(days=days - 1))
    return list(pd.date_range(first, hi))


def run_waves(spec: TriggerSpec, source, days, store, user, *,
              progress: bool = False) -> list[tuple[Wave, WaveRelease]]:
    """:func:`run_wave` for each day in order (a tqdm bar with ``progress``)."""
    from tqdm.auto import tqdm

    return [run_wave(spec, source, d, store, user)
            for d in tqdm(list(days), desc="waves", unit="day", disable=not progress)]


def releases_table(runs: list[tuple[Wave, WaveRelease]]) -> pd.DataFrame:
    """One row per day: version, members released, created or already there, and the funnel's counts."""
    rows = []
    for wave, rel in runs:
        counts = dict(zip(wave.funnel["step"], wave.funnel["count"])) if len(wave.funnel) else {}
        rows.append({"day": rel.day, "version": rel.version, "members": rel.members, "created": rel.created,
                     **counts})
    return pd.DataFrame(rows)


def wave_files(runs: list[tuple[Wave, WaveRelease]]) -> dict:
    """``{day: (channel_files(wave), funnel)}`` of the waves released now (for ``RunFolder.save_waves``)."""
    return {wave.day: (channel_files(wave), wave.funnel) for wave, rel in runs if rel.created}
