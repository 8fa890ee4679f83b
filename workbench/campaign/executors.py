"""Who works the lists: the executor roster of each branch.

:func:`executor_roster` reads the active users with role ``executor`` of each
branch from the campaign store; a branch the store names nobody for gets
:func:`default_executors` names (``<branch>_exec1``, ``<branch>_exec2``, ...),
the naming of the demo accounts, so lists planned on the sample province can
be opened in the branch apps.  The roster says where each name came from, so a
planner sees at once which branches still need real people.

>>> default_executors(["hami"], per_branch=2)
{'hami': ['hami_exec1', 'hami_exec2']}
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from workbench.checks import check_int
from workbench.campaign.assignment import EXECUTOR
from workbench.data.tables import BRANCHES, table
from workbench.errors import ParameterError

__all__ = [
    "ROSTER_COLUMNS",
    "EXECUTOR_ROLE",
    "default_executors",
    "executor_roster",
    "roster_mapping",
]

BRANCH_ID: str = table("subscribers").column("branch_id").name
_BRANCH_IDS: tuple[str, ...] = tuple(b[0] for b in BRANCHES)
#: The store role whose users work lists.
EXECUTOR_ROLE: str = "executor"
#: Columns of :func:`executor_roster`: ``source`` is ``"store"`` or ``"default"``.
ROSTER_COLUMNS: tuple[str, ...] = (BRANCH_ID, EXECUTOR, "source")


def _branches(branches) -> list[str]:
    if isinstance(branches, str) or not isinstance(branches, Sequence) or not branches:
        raise ParameterError.invalid("branches", f"a non-empty list of branch ids from {list(_BRANCH_IDS)}", branches)
    bad = [b for b in branches if b not in _BRANCH_IDS]
    if bad:
        raise ParameterError.invalid("branches", f"branch ids from {list(_BRANCH_IDS)}", bad)
    return list(dict.fromkeys(branches))


def default_executors(branches: Sequence[str], per_branch: int = 2) -> dict[str, list[str]]:
    """Placeholder executor names per branch: ``<branch>_exec1`` ... ``<branch>_exec<per_branch>``.

    Parameters
    ----------
    branches : list of str
        Branch ids.
    per_branch : int
        Names per branch (1-100).

    Returns
    -------
    dict
        ``{branch_id: [names]}``, the mapping :func:`workbench.campaign.assign_executors` takes.
    """
    per_branch = check_int("per_branch", per_branch, 1, 100)
    return {b: [f"{b}_exec{i}" for i in range(1, per_branch + 1)] for b in _branches(branches)}


def executor_roster(branches: Sequence[str], *, store=None, per_branch: int = 2, user=None) -> pd.DataFrame:
    """The executors of each branch: the store's active executors, else placeholder names.

    Parameters
    ----------
    branches : list of str
        Branch ids the campaign works in.
    store : workbench.store.Store, optional
        Read the active users with role ``executor`` of each branch.  Without a
        store every branch gets :func:`default_executors` names.
    per_branch : int
        Placeholder names for a branch the store has no executor for.
    user : workbench.store.User, optional
        Who reads the users (an admin or province manager); default
        :data:`workbench.store.SYSTEM_USER`.

    Returns
    -------
    DataFrame
        :data:`ROSTER_COLUMNS`, branches in the given order, names sorted
        within a branch; ``source`` says ``"store"`` or ``"default"``.
    """
    wanted = _branches(branches)
    defaults = default_executors(wanted, per_branch)
    from_store: dict[str, list[str]] = {}
    if store is not None:
        from workbench.store import SYSTEM_USER

        users = store.list_users(user or SYSTEM_USER)
        if len(users):
            keep = users[(users["role"] == EXECUTOR_ROLE) & users["active"].astype(bool)
                         & users["branch_id"].isin(wanted)]
            for b, names in keep.groupby("branch_id", sort=False)["name"]:
                from_store[str(b)] = sorted(str(n) for n in names)
    rows = []
    for b in wanted:
        names, source = (from_store[b], "store") if from_store.get(b) else (defaults[b], "default")
        rows.extend((b, n, source) for n in names)
    out = pd.DataFrame(rows, columns=list(ROSTER_COLUMNS))
    for col in ROSTER_COLUMNS:
        out[col] = out[col].astype("str")
    return out


def roster_mapping(roster: pd.DataFrame) -> dict[str, list[str]]:
    """``{branch_id: [names]}`` from an :func:`executor_roster` frame (given order kept)."""
    if not isinstance(roster, pd.DataFrame) or not {BRANCH_ID, EXECUTOR} <= set(roster.columns):
        got = list(roster.columns) if isinstance(roster, pd.DataFrame) else type(roster).__name__
        raise ParameterError.invalid("roster", f"a DataFrame with columns {[BRANCH_ID, EXECUTOR]}", got)
    out: dict[str, list[str]] = {}
    for b, e in zip(roster[BRANCH_ID].astype(str), roster[EXECUTOR].astype(str)):
        out.setdefault(b, []).append(e)
    return out
