"""Contact policy: who of the candidates may be contacted at all.

A candidate is excluded, in this order, when the user

1. ``subscriber``        already subscribes to the product,
2. ``do_not_disturb``    asked not to be contacted (免打扰),
3. ``recent_contact``    was contacted by *any* campaign in the last ``recent_days`` days,
4. ``monthly_cap``       has already been contacted ``max_contacts_month`` times this month,
5. ``handset``           has a handset that cannot use the product,
6. ``universal_control`` belongs to the province's universal control group (when given),
7. ``credit_grade``      has a new-user credit grade excluded from promotions (``exclude_credit_grades``
   of the grades given in ``credit_grades``; template 07 writes them).

Each user is counted once, at the first rule that excludes them, so the funnel
adds up; every rule a user fails is still available per user
(:func:`policy_flags`).  Everything is vectorised (hash look-ups and one
``value_counts`` of the contact history), so a million candidates take about a
second.

The parameter names match :class:`~workbench.campaign.spec.ContactPolicy`::

    apply_contact_policy(candidates, ..., **dataclasses.asdict(spec.contact_policy))
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.checks import check_date, check_int, require_columns, require_unique
from workbench.data.tables import table
from workbench.errors import DataValidationError, ParameterError

__all__ = [
    "POLICY_STEPS",
    "FUNNEL_COLUMNS",
    "CONTACT_DATE",
    "DEFAULT_EXCLUDED_CREDIT_GRADES",
    "policy_flags",
    "apply_contact_policy",
]

SUBSCRIBER_ID: str = table("subscribers").column("subscriber_id").name
#: The exclusion rules in the order they are applied (and counted).
POLICY_STEPS: tuple[str, ...] = (
    "subscriber", "do_not_disturb", "recent_contact", "monthly_cap", "handset", "universal_control", "credit_grade",
)
#: Credit grades excluded from promotions unless the policy says otherwise (the riskiest two of A-E).
DEFAULT_EXCLUDED_CREDIT_GRADES: tuple[str, ...] = ("D", "E")
#: Columns of the funnel: the first row (``step == "candidates"``) holds the input size.
FUNNEL_COLUMNS: tuple[str, ...] = ("step", "excluded", "remaining")
#: Default name of the contact date column of a contact history.
CONTACT_DATE: str = "contact_date"


def _id_set(name: str, value, id_col: str) -> pd.Index | None:
    """Ids from a collection, a DataFrame with ``id_col``, or a boolean Series indexed by id."""
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        require_columns(value, name, [id_col])
        return pd.Index(value[id_col].dropna().unique())
    if isinstance(value, pd.Series) and pd.api.types.is_bool_dtype(value.dtype):
        return pd.Index(value.index[value.to_numpy(dtype=bool)].unique())
    if isinstance(value, (pd.Series, pd.Index, np.ndarray, list, tuple, set, frozenset)):
        return pd.Index(pd.Series(list(value) if isinstance(value, (set, frozenset)) else value).dropna().unique())
    raise ParameterError.invalid(
        name, f"ids (Series, Index, array, list or set), a DataFrame with {id_col!r}, "
              "or a boolean Series indexed by id", type(value).__name__)


def _contacts(history: pd.DataFrame | None, id_col: str, date_col: str) -> tuple[np.ndarray, np.ndarray] | None:
    if history is None:
        return None
    require_columns(history, "contact_history", [id_col, date_col])
    try:
        dates = pd.to_datetime(history[date_col])
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"contact_history: column {date_col!r} must hold dates ({exc})") from None
    ok = dates.notna().to_numpy()
    return history[id_col].to_numpy()[ok], dates.to_numpy()[ok]


def policy_flags(candidates: pd.DataFrame, *, as_of, product_subscribers=None, dnd=None,
                 contact_history: pd.DataFrame | None = None, handset_capable=None, held_out=None,
                 recent_days: int = 7, max_contacts_month: int = 4, credit_grades: pd.DataFrame | None = None,
                 exclude_credit_grades=DEFAULT_EXCLUDED_CREDIT_GRADES, id_col: str = SUBSCRIBER_ID,
                 contact_date_col: str = CONTACT_DATE) -> pd.DataFrame:
    """Every policy rule evaluated for every candidate.

    Parameters
    ----------
    candidates : DataFrame
        The candidate list, one row per user (``id_col`` unique).
    as_of : date
        The day the campaign contacts (the policy's "today").
    product_subscribers, dnd, held_out : ids, optional
        Current subscribers of the product, do-not-disturb users, users of the
        universal control group: a Series / Index / array / list / set of ids,
        or a DataFrame with ``id_col``.  ``None`` excludes nobody.
    contact_history : DataFrame, optional
        Past contacts by any campaign: ``id_col`` and ``contact_date_col``.
        Contacts after ``as_of`` are ignored.
    handset_capable : ids or boolean Series, optional
        Users whose handset can use the product (ids, or a boolean Series
        indexed by id).  ``None``: the product needs no handset capability.
    recent_days : int
        Contacted on a day ``d`` with ``as_of - recent_days < d <= as_of``
        excludes (0 switches the rule off).
    max_contacts_month : int
        This many contacts or more from the first of ``as_of``'s month up to
        ``as_of`` exclude.
    credit_grades : DataFrame, optional
        New users' credit grades: ``id_col`` and ``grade`` (``None``: nobody is graded).
    exclude_credit_grades : iterable of str
        Grades never targeted by promotions (empty: the rule is off).
    id_col, contact_date_col : str
        Column names.

    Returns
    -------
    DataFrame
        ``id_col``, one boolean column per rule of :data:`POLICY_STEPS` (True =
        the rule excludes the user) and ``reason``: the first rule that
        excludes the user (the one the funnel counts), ``None`` when eligible.

    Raises
    ------
    DataValidationError
        A frame misses a column, candidate ids repeat, contact dates are not dates.
    ParameterError
        A parameter outside its range.
    """
    require_columns(candidates, "candidates", [id_col])
    require_unique(candidates, "candidates", id_col)
    check_int("recent_days", recent_days, 0)
    check_int("max_contacts_month", max_contacts_month, 1)
    ids = candidates[id_col]
    today = check_date("as_of", as_of)

    flags = pd.DataFrame({id_col: ids.to_numpy()})
    n = len(flags)
    subs = _id_set("product_subscribers", product_subscribers, id_col)
    flags["subscriber"] = ids.isin(subs).to_numpy() if subs is not None else np.zeros(n, bool)
    dnd_ids = _id_set("dnd", dnd, id_col)
    flags["do_not_disturb"] = ids.isin(dnd_ids).to_numpy() if dnd_ids is not None else np.zeros(n, bool)

    recent = np.zeros(n, bool)
    capped = np.zeros(n, bool)
    contacts = _contacts(contact_history, id_col, contact_date_col)
    if contacts is not None:
        who, when = contacts
        past = when <= np.datetime64(today.to_datetime64())
        if recent_days > 0:
            since = np.datetime64((today - pd.Timedelta(days=recent_days)).to_datetime64())
            recent = ids.isin(pd.unique(who[past & (when > since)])).to_numpy()
        month_start = np.datetime64(today.replace(day=1).to_datetime64())
        counts = pd.Series(who[past & (when >= month_start)]).value_counts()
        capped = ids.isin(counts.index[counts.to_numpy() >= max_contacts_month]).to_numpy()
    flags["recent_contact"] = recent
    flags["monthly_cap"] = capped

    capable = _id_set("handset_capable", handset_capable, id_col)
    flags["handset"] = ~ids.isin(capable).to_numpy() if capable is not None else np.zeros(n, bool)
    held = _id_set("held_out", held_out, id_col)
    flags["universal_control"] = ids.isin(held).to_numpy() if held is not None else np.zeros(n, bool)
    risky = np.zeros(n, bool)
    if credit_grades is not None:
        require_columns(credit_grades, "credit_grades", [id_col, "grade"])
        if isinstance(exclude_credit_grades, str):
            raise ParameterError.invalid("exclude_credit_grades", "a list of grades such as ['D', 'E']",
                                         exclude_credit_grades)
        bad = credit_grades["grade"].astype(str).isin({str(g) for g in exclude_credit_grades}).to_numpy()
        risky = ids.isin(pd.unique(credit_grades[id_col].to_numpy()[bad])).to_numpy()
    flags["credit_grade"] = risky

    matrix = flags[list(POLICY_STEPS)].to_numpy()
    first = matrix.argmax(axis=1)
    reason = np.asarray(POLICY_STEPS, dtype=object)[first]
    flags["reason"] = pd.Series(np.where(matrix.any(axis=1), reason, None), dtype="str")
    return flags


def apply_contact_policy(candidates: pd.DataFrame, *, as_of, product_subscribers=None, dnd=None,
                         contact_history: pd.DataFrame | None = None, handset_capable=None, held_out=None,
                         recent_days: int = 7, max_contacts_month: int = 4,
                         credit_grades: pd.DataFrame | None = None,
                         exclude_credit_grades=DEFAULT_EXCLUDED_CREDIT_GRADES, id_col: str = SUBSCRIBER_ID,
                         contact_date_col: str = CONTACT_DATE, return_excluded: bool = False):
    """Apply the contact policy: the eligible candidates and the exclusion funnel.

    Parameters are those of :func:`policy_flags`.

    Parameters
    ----------
    return_excluded : bool
        Also return the excluded users with every rule they fail.

    Returns
    -------
    eligible : DataFrame
        The candidates no rule excludes (all their columns, index reset).
    funnel : DataFrame
        :data:`FUNNEL_COLUMNS`: a ``"candidates"`` row, then one row per rule
        of :data:`POLICY_STEPS` with the users it excluded (not excluded by an
        earlier rule) and the users remaining after it.
    excluded : DataFrame
        Only with ``return_excluded``: ``id_col``, ``reason`` and one boolean
        column per rule, for each excluded user.

    Examples
    --------
    >>> import pandas as pd
    >>> cands = pd.DataFrame({"subscriber_id": [1, 2, 3, 4]})
    >>> eligible, funnel = apply_contact_policy(cands, as_of="2026-09-01", dnd=[2], product_subscribers=[1, 2])
    >>> eligible["subscriber_id"].tolist()
    [3, 4]
    >>> funnel.set_index("step")["excluded"].to_dict()["do_not_disturb"]
    0
    """
    flags = policy_flags(
        candidates, as_of=as_of, product_subscribers=product_subscribers, dnd=dnd,
        contact_history=contact_history, handset_capable=handset_capable, held_out=held_out,
        recent_days=recent_days, max_contacts_month=max_contacts_month, credit_grades=credit_grades,
        exclude_credit_grades=exclude_credit_grades, id_col=id_col, contact_date_col=contact_date_col,
    )
    reason = flags["reason"]
    excluded_mask = reason.notna().to_numpy()
    counts = reason[excluded_mask].value_counts()
    per_step = np.array([int(counts.get(step, 0)) for step in POLICY_STEPS], dtype=np.int64)
    n = len(flags)
    funnel = pd.DataFrame({
        "step": pd.Series(("candidates", *POLICY_STEPS), dtype="str"),
        "excluded": np.concatenate([[0], per_step]),
        "remaining": n - np.concatenate([[0], np.cumsum(per_step)]),
    })
    eligible = candidates.loc[~excluded_mask].reset_index(drop=True)
    if not return_excluded:
        return eligible, funnel
    excluded = flags.loc[excluded_mask, [id_col, "reason", *POLICY_STEPS]].reset_index(drop=True)
    return eligible, funnel, excluded
