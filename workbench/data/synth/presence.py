"""Daily handset presence: on which days each IMEI was seen, and who really changed handset.

What an operator's switch records: the IMEI a subscriber's calls came from, per
day.  Two tables carry it (see ``docs/data-model.md``):

* ``imei_presence`` - one row per subscriber and IMEI over the observed window:
  first seen, last seen and the number of days seen (``active_days``);
* ``imei_days`` - one row per subscriber, IMEI and day seen, for the last
  :data:`DAILY_DAYS` days of the window and only for subscribers who used more
  than one IMEI in those days (the days around a change).  A subscriber with one
  handset through those days has no daily rows: ``imei_presence`` says it all.

The hidden process (written to the truth folder only):

* every adoption of ``handset_events`` in the daily window is either **stable**
  (the new handset is used every day from its first day, the old one never
  again) or **switch-back** (the old handset comes back on some of the next
  nine days before the new one settles);
* on top, some subscribers **try** a handset for 1-6 days and go back to their
  own (a borrowed or returned phone; an IMEI not in ``handset_events``);
* a handset in use is *seen* on a day with the subscriber's seen-rate (light
  callers miss days); the first day of an IMEI is always seen (network attach).

So detection on the observed days can miss a stable changer whose phone stayed
quiet, or take a switch-back whose old-handset days were all quiet for a stable
one: precision and recall below 1, as in real data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from workbench.data.synth.catalogue import HANDSET_MODELS, VAS_PRODUCTS
from workbench.data.synth.handsets import HandsetHistory
from workbench.data.synth.ids import MAX_HANDSETS_PER_SUBSCRIBER, imei_column
from workbench.data.synth.timeline import Timeline, month_start_day
from workbench.data.synth.traits import Population
from workbench.data.synth.writer import date_column, string_column
from workbench.data.tables import PRODUCT_FAMILIES

__all__ = [
    "DAILY_DAYS",
    "SWITCH_BACK_SHARE",
    "TRIAL_RATE_MONTHLY",
    "TRIAL_HANDSET_NO",
    "CHANGE_KINDS",
    "Presence",
    "simulate_presence",
    "PRESENCE_TRUTH_TABLE",
    "RESPONSE_TRUTH_TABLE",
    "TRIGGER_FAMILIES",
    "TRIGGER_OFFSET",
    "BOOST_DAYS",
    "BASE_BOOST",
    "CONTACT_BOOST",
    "presence_columns",
    "presence_truth_schema",
    "response_truth_schema",
    "presence_truth_columns",
    "response_truth_columns",
    "trigger_order_probability",
    "ChangeRates",
]

#: Days at the end of the observed window with daily rows (``imei_days``).
DAILY_DAYS = 42
#: Share of adoptions in which the old handset comes back during the new one's first ten days.
SWITCH_BACK_SHARE = 0.12
#: Monthly probability that a subscriber tries another handset for a few days and goes back.
TRIAL_RATE_MONTHLY = 0.008
#: Handset number of a tried handset in the IMEI key space (adoptions use 0-14).
TRIAL_HANDSET_NO = MAX_HANDSETS_PER_SUBSCRIBER - 1
#: Kinds of IMEI change in the truth: index -> name.
CHANGE_KINDS: tuple[str, ...] = ("stable", "switch_back", "trial")
_SWITCH_BACK_DAY_P = 0.35      # each of days 2-10 is an old-handset day with this probability
_SEEN_MIN, _SEEN_SPAN = 0.80, 0.19
_FIRST_DAYS = 10


@dataclass
class Presence:
    """Presence rows of one chunk (positions index the chunk's population).

    Attributes
    ----------
    p_user, p_no, p_model, p_first, p_last, p_active : ndarray
        ``imei_presence`` rows: subscriber position, handset number, model
        index, first and last day seen, days seen.
    d_user, d_no, d_day : ndarray
        ``imei_days`` rows.
    c_user, c_no, c_day, c_kind : ndarray
        Truth: every change in the daily window (adoption or trial), its first
        day and kind (index of :data:`CHANGE_KINDS`).
    seen_rate : ndarray
        Per subscriber, probability a handset in use is seen on a day.
    """

    p_user: np.ndarray
    p_no: np.ndarray
    p_model: np.ndarray
    p_first: np.ndarray
    p_last: np.ndarray
    p_active: np.ndarray
    d_user: np.ndarray
    d_no: np.ndarray
    d_day: np.ndarray
    c_user: np.ndarray
    c_no: np.ndarray
    c_day: np.ndarray
    c_kind: np.ndarray
    seen_rate: np.ndarray


def _segment(a: np.ndarray, c: np.ndarray, s: np.ndarray, first_seen: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First seen, last seen and days seen of use over days ``a``..``c`` (``c < a``: empty).

    Day ``a`` is seen where ``first_seen``; every other day with probability ``s``.
    """
    length = np.maximum(c - a + 1, 0)
    first_gap = np.where(first_seen, 0, rng.geometric(np.clip(s, 1e-6, 1)) - 1)
    first = a + first_gap
    tail_gap = rng.geometric(np.clip(s, 1e-6, 1)) - 1
    last = np.maximum(c - tail_gap, first)
    ok = (length > 0) & (first <= c)
    inner = np.maximum(last - first - 1, 0)
    active = np.where(ok, 1 + (last > first) + rng.binomial(inner, s), 0)
    return np.where(ok, first, -1), np.where(ok, last, -1), active


def simulate_presence(pop: Population, timeline: Timeline, hs: HandsetHistory,
                      rng: np.random.Generator) -> Presence:
    """Daily presence of every handset of a chunk (see the module docstring).

    Parameters
    ----------
    pop : Population
    timeline : Timeline
    hs : HandsetHistory
        The chunk's adoptions (``handset_events`` rows), ordered by subscriber and day.
    rng : numpy.random.Generator
        The chunk's generator for presence.
    """
    n = pop.n
    last_day = timeline.last_day
    ds = last_day - DAILY_DAYS + 1
    z = (pop.voice_level - pop.voice_level.mean()) / max(pop.voice_level.std(), 1e-9)
    seen = _SEEN_MIN + _SEEN_SPAN / (1.0 + np.exp(-1.5 * z))

    # spells of adopted handsets: [day, next day - 1]
    eu, eday, eno = hs.event_user, hs.event_day, hs.event_no
    nxt_same = np.r_[eu[1:] == eu[:-1], False]
    spell_end = np.where(nxt_same, np.r_[eday[1:], 0] - 1, last_day)

    # trials: at most one per subscriber, away from any adoption by 12 days
    w0 = int(month_start_day(timeline.window_start))
    p_trial = 1 - (1 - TRIAL_RATE_MONTHLY) ** timeline.months
    t_user = np.flatnonzero(rng.random(n) < p_trial)
    t_day = w0 + 1 + np.floor(rng.random(t_user.size) * (last_day - w0 - 1)).astype(np.int64)
    t_len = rng.integers(1, 7, t_user.size)
    t_day = np.maximum(t_day, pop.join_day[t_user] + 30)
    pos = np.searchsorted(eu * 100_000 + eday, t_user * 100_000 + t_day, side="right")
    prev_day = np.where(pos > 0, eday[np.maximum(pos - 1, 0)], -10**6)
    prev_same = (pos > 0) & (eu[np.maximum(pos - 1, 0)] == t_user)
    nxt_ok = pos < eu.size
    nxt_day = np.where(nxt_ok & (eu[np.minimum(pos, eu.size - 1)] == t_user), eday[np.minimum(pos, eu.size - 1)],
                       10**6)
    keep = prev_same & (t_day - prev_day > 12) & (nxt_day - t_day > 12) & (t_day + t_len <= last_day)
    t_user, t_day, t_len = t_user[keep], t_day[keep], t_len[keep]
    t_model = rng.integers(0, len(HANDSET_MODELS["handset_model"]), t_user.size)

    # adoptions in the daily window: stable or switch-back
    changed = (eno >= 1) & (eday >= ds)
    c_idx = np.flatnonzero(changed)
    back = rng.random(c_idx.size) < SWITCH_BACK_SHARE
    in_daily_trial = t_day >= ds
    sel = np.zeros(n, dtype=bool)
    sel[eu[c_idx]] = True
    sel[t_user[in_daily_trial]] = True

    # latent handset number in use per day of the daily window (selected subscribers)
    users = np.flatnonzero(sel)
    row_of = np.full(n, -1)
    row_of[users] = np.arange(users.size)
    days = ds + np.arange(DAILY_DAYS)
    use = np.full((users.size, DAILY_DAYS), -1, dtype=np.int64)
    ev_sel = np.flatnonzero(sel[eu])
    for k in ev_sel:                                  # few rows: ~3 % of subscribers
        r = row_of[eu[k]]
        lo, hi = max(eday[k], ds), min(spell_end[k], last_day)
        if hi >= lo:
            use[r, lo - ds: hi - ds + 1] = eno[k]
    prev_no = np.r_[0, eno[:-1]]
    for j, k in enumerate(c_idx):
        if back[j]:
            r = row_of[eu[k]]
            d0 = eday[k] - ds
            offs = np.flatnonzero(rng.random(_FIRST_DAYS - 1) < _SWITCH_BACK_DAY_P) + 1
            if offs.size == 0:
                offs = np.array([1 + rng.integers(0, _FIRST_DAYS - 1)])
            offs = offs[d0 + offs < DAILY_DAYS]
            use[r, d0 + offs] = prev_no[k]
    for u, d, ln in zip(t_user[in_daily_trial], t_day[in_daily_trial], t_len[in_daily_trial]):
        r = row_of[u]
        use[r, d - ds: min(d - ds + ln, DAILY_DAYS)] = TRIAL_HANDSET_NO

    # observed days: seen with the seen-rate; first day of each handset's use in the window always seen
    obs = (use >= 0) & (rng.random(use.shape) < seen[users][:, None])
    first_use = np.zeros_like(obs)
    for no in np.unique(use[use >= 0]):
        is_no = use == no
        started = is_no & ~np.c_[np.zeros((users.size, 1), bool), np.cumsum(is_no, axis=1)[:, :-1] > 0]
        first_use |= started
    # a handset already in use before the window has no "first day" inside it
    started_before = np.zeros_like(first_use)
    for k in ev_sel:
        if eday[k] < ds:
            started_before[row_of[eu[k]], :] |= use[row_of[eu[k]]] == eno[k]
    obs |= first_use & ~started_before
    dr, dc = np.nonzero(obs)
    d_user, d_no, d_day = users[dr], use[dr, dc], days[dc]

    # imei_presence: pre-daily segments (all), whole spells (unselected), plus the daily rows
    sel_e = sel[eu]
    c_end = np.where(sel_e, np.minimum(spell_end, ds - 1), spell_end)
    f, lst, act = _segment(eday, c_end, seen[eu], np.ones(eu.size, bool), rng)
    keyspace = MAX_HANDSETS_PER_SUBSCRIBER
    pre_key = eu * keyspace + eno
    if t_user.size:
        pre_t = ~in_daily_trial
        ft, lt, at = _segment(t_day[pre_t], t_day[pre_t] + t_len[pre_t] - 1, seen[t_user[pre_t]],
                              np.ones(int(pre_t.sum()), bool), rng)
        pre_key = np.r_[pre_key, t_user[pre_t] * keyspace + TRIAL_HANDSET_NO]
        f, lst, act = np.r_[f, ft], np.r_[lst, lt], np.r_[act, at]
    d_key = d_user * keyspace + d_no
    keys = np.unique(np.r_[pre_key[act > 0], d_key])
    first = np.full(keys.size, np.iinfo(np.int64).max)
    last = np.full(keys.size, -1)
    active = np.zeros(keys.size, dtype=np.int64)
    ip = np.searchsorted(keys, pre_key[act > 0])
    np.minimum.at(first, ip, f[act > 0])
    np.maximum.at(last, ip, lst[act > 0])
    np.add.at(active, ip, act[act > 0])
    idd = np.searchsorted(keys, d_key)
    np.minimum.at(first, idd, d_day)
    np.maximum.at(last, idd, d_day)
    np.add.at(active, idd, 1)
    p_user, p_no = keys // keyspace, keys % keyspace
    model = np.empty(keys.size, dtype=np.int64)
    is_trial = p_no == TRIAL_HANDSET_NO
    ek = eu * keyspace + eno
    model[~is_trial] = hs.event_model[np.searchsorted(ek, keys[~is_trial])]
    model[is_trial] = t_model[np.searchsorted(t_user, p_user[is_trial])]

    c_user = np.r_[eu[c_idx], t_user[in_daily_trial]]
    c_no = np.r_[eno[c_idx], np.full(int(in_daily_trial.sum()), TRIAL_HANDSET_NO)]
    c_day = np.r_[eday[c_idx], t_day[in_daily_trial]]
    c_kind = np.r_[np.where(back, 1, 0), np.full(int(in_daily_trial.sum()), 2)]
    order = np.lexsort((c_day, c_user))
    d_order = np.lexsort((d_day, d_no, d_user))
    return Presence(
        p_user=p_user, p_no=p_no, p_model=model, p_first=first, p_last=last, p_active=active,
        d_user=d_user[d_order], d_no=d_no[d_order], d_day=d_day[d_order],
        c_user=c_user[order], c_no=c_no[order], c_day=c_day[order], c_kind=c_kind[order],
        seen_rate=seen,
    )


# ------------------------------------------------------------------ tables
#: Truth files of the presence process (in the truth folder only).
PRESENCE_TRUTH_TABLE = "handset_changes"
RESPONSE_TRUTH_TABLE = "trigger_response"
#: Families whose products need a handset capability (the trigger campaign's offers).
TRIGGER_FAMILIES: tuple[str, ...] = tuple(
    dict.fromkeys(f for f, cap in zip(VAS_PRODUCTS["family"], VAS_PRODUCTS["required_capability"]) if cap))
#: Logit shift of a product offered at the moment of a trigger (30-day response window) over the monthly uptake.
TRIGGER_OFFSET = 2.0
#: Days after a stable change during which capability services get the boost.
BOOST_DAYS = 28
#: Boost of the order logit of a stable changer (whether contacted or not) ...
BASE_BOOST = 0.3
#: ... and the extra effect of a contact on them (the changers' extra uplift).
CONTACT_BOOST = 0.7


def presence_columns(pop: Population, pres: Presence) -> dict[str, dict]:
    """The ``imei_presence`` and ``imei_days`` columns of one chunk."""
    sid_p = pop.subscriber_id[pres.p_user]
    sid_d = pop.subscriber_id[pres.d_user]
    return {
        "imei_presence": {
            "subscriber_id": sid_p,
            "imei": imei_column(sid_p, pres.p_no),
            "handset_model": string_column(HANDSET_MODELS["handset_model"], pres.p_model),
            "first_seen": date_column(pres.p_first),
            "last_seen": date_column(pres.p_last),
            "active_days": pres.p_active,
        },
        "imei_days": {
            "subscriber_id": sid_d,
            "imei": imei_column(sid_d, pres.d_no),
            "day": date_column(pres.d_day),
        },
    }


def presence_truth_schema() -> pa.Schema:
    """Columns of ``handset_changes.parquet``: every IMEI change of the daily window and its kind."""
    return pa.schema([
        pa.field("subscriber_id", pa.int64(), nullable=False),
        pa.field("imei", pa.string(), nullable=False),
        pa.field("change_day", pa.date32(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("stable", pa.bool_(), nullable=False),
    ])


def response_truth_schema() -> pa.Schema:
    """Columns of ``trigger_response.parquet``: per subscriber, the hidden trigger-offer response."""
    return pa.schema([pa.field("subscriber_id", pa.int64(), nullable=False),
                      *(pa.field(f"trigger_logit_{f}", pa.float64()) for f in TRIGGER_FAMILIES),
                      pa.field("trigger_lift", pa.float64())])


def presence_truth_columns(pop: Population, pres: Presence) -> dict:
    """``handset_changes`` rows of one chunk."""
    sid = pop.subscriber_id[pres.c_user]
    return {
        "subscriber_id": sid,
        "imei": imei_column(sid, pres.c_no),
        "change_day": date_column(pres.c_day),
        "kind": string_column(CHANGE_KINDS, pres.c_kind),
        "stable": pres.c_kind == 0,
    }


def response_truth_columns(pop: Population, logit: np.ndarray) -> dict:
    """``trigger_response`` rows of one chunk (``logit``: the uptake model's family logits)."""
    lift = np.maximum(0.0, 1.0 - 0.45 * pop.awareness + 0.5 * pop.persuadability)
    lift = np.where(pop.contact_averse, -1.0, lift)
    out = {"subscriber_id": pop.subscriber_id}
    for f in TRIGGER_FAMILIES:
        out[f"trigger_logit_{f}"] = np.round(logit[:, PRODUCT_FAMILIES.index(f)], 5)
    out["trigger_lift"] = np.round(lift, 5)
    return out


def trigger_order_probability(logit, lift, gain, contacted, boosted):
    """Probability of ordering an offered capability service within 30 days (the simulator's truth).

    ``sigmoid(logit + TRIGGER_OFFSET + boosted * BASE_BOOST + contacted * (gain * lift + boosted * CONTACT_BOOST))``
    where ``boosted`` marks a stable changer within :data:`BOOST_DAYS` of the change.

    Parameters
    ----------
    logit, lift : array-like
        ``trigger_logit_<family>`` and ``trigger_lift`` of the truth.
    gain : float or array-like
        The channel's contact gain (:data:`workbench.data.synth.truth.CHANNEL_GAIN`).
    contacted, boosted : array-like of bool

    Returns
    -------
    numpy.ndarray
    """
    contacted = np.asarray(contacted, float)
    boosted = np.asarray(boosted, float)
    x = (np.asarray(logit, float) + TRIGGER_OFFSET + boosted * BASE_BOOST
         + contacted * (np.asarray(gain, float) * np.asarray(lift, float) + boosted * CONTACT_BOOST))
    return 1.0 / (1.0 + np.exp(-x))


class ChangeRates:
    """Handset-change rates of a province, summed over chunks (the meta.json check of the source's 25 %)."""

    def __init__(self):
        self.adoptions = 0
        self.exposure = 0
        self.stable_daily = 0
        self.subscribers = 0
        self.daily_months = DAILY_DAYS / (365.25 / 12)

    def add(self, hs: HandsetHistory, pres: Presence, pop: Population, timeline: Timeline) -> None:
        """Count one chunk's adoptions per subscriber-month and stable changes of the daily window."""
        months = timeline.window_start + np.arange(timeline.months)
        self.exposure += int((pop.join_month[:, None] < months[None, :]).sum())
        self.adoptions += int((hs.event_no >= 1).sum())
        self.stable_daily += int((pres.c_kind == 0).sum())
        self.subscribers += pop.n

    def summary(self) -> dict:
        """Monthly adoption rate, monthly stable-change rate and their 12-month equivalent."""
        monthly = self.adoptions / max(self.exposure, 1)
        stable = self.stable_daily / max(self.subscribers, 1) / self.daily_months
        return {
            "monthly_change_rate": round(monthly, 5),
            "monthly_stable_change_rate": round(stable, 5),
            "twelve_month_stable_change_share": round(1 - (1 - stable) ** 12, 5),
            "source_stable_changer_share": 0.25,
            "daily_days": DAILY_DAYS,
        }
