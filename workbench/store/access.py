"""Who may see and do what: the access rules of the campaign store.

The rules are plain functions of a :class:`User` and a row, so they are tested
on their own; :mod:`workbench.store.repository` applies them to every read and
write (as SQL filters for lists, as checks for single rows).

==================  ================================  ===============================
role                reads members                     records results
==================  ================================  ===============================
executor            rows assigned to them             own rows and rows of own branch
branch_manager      rows of own branch                unassigned rows of own branch (and, when the
                                                      policy allows, its executors' rows: "on behalf")
province_manager    all                               none (monitors only)
analyst             all                               none (designs and evaluates)
admin               all                               all
==================  ================================  ===============================

Branch totals (:meth:`Store.branch_totals`: counts of one branch, no rows and
no executor's figures) are for the caller's own branch (branch roles) or any
branch (province roles); :func:`totals_branch` decides which.

Releasing a campaign or a new version, closing it, and recording responses
are for ``analyst`` and ``admin``, and so is publishing results for operations
(:data:`PUBLISH_ROLES`: a new version, the switch of the current one, a roll-back,
a back-fill); whole published versions are read by the province roles
(:data:`PUBLISHED_READERS`); adding users is for ``admin``; reading the
audit log is for the province roles.  Which served app a role may open
(the portal lists them, the server refuses the others with 403) is :data:`APP_ROLES`
(:func:`can_open_app`, :func:`apps_for`).  Full phone numbers in an exported file
are for executors only (:func:`can_see_numbers`).

The policy (:class:`AccessPolicy`, one per :class:`~workbench.store.Store`, by default from the
environment of the process: ``workbench serve`` passes its own to every app kernel):

- ``managers_record_for_executors`` (``$WORKBENCH_MANAGERS_RECORD_FOR_EXECUTORS``, ``0``/``1``,
  default off): whether a branch manager may record a result on a customer assigned to one of the
  branch's executors.  Off, a manager watches the executors' lists (the executor column and each
  executor's progress) and records only on unassigned rows and rows assigned to themselves; on, a
  manager's result on an executor's customer is recorded *on behalf of* that executor (the result
  row names the manager who recorded it, the member row whose customer it is, and the audit entry
  carries ``on_behalf_of``; see :func:`on_behalf_of`).
- ``reveal_daily_cap`` (``$WORKBENCH_REVEAL_DAILY_CAP``, default 200): how many full phone numbers
  one user may reveal in the app per day (the province's calendar day), each reveal audit-logged
  (:func:`can_reveal_number`, :meth:`Store.reveal_number`).

Every decision that depends on a role is made in this module: the store's
concern modules and the rest of the workbench call these functions and
constants instead of comparing role names themselves.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import true

from workbench.data.tables import BRANCHES
from workbench.errors import AccessDenied, ParameterError
from workbench.store.models import ROLES, CampaignMember, UserRecord

__all__ = [
    "User",
    "SYSTEM_USER",
    "BRANCH_ROLES",
    "PROVINCE_ROLES",
    "DESIGN_ROLES",
    "RESULT_WRITERS",
    "BRANCH_IDS",
    "USER_ADMINS",
    "USER_READERS",
    "NUMBER_VISIBLE_ROLES",
    "sees_all_members",
    "sees_drafts",
    "sees_missing_members",
    "may_record_for_others",
    "can_read_responses",
    "can_see_numbers",
    "member_scope",
    "user_scope",
    "can_read_member",
    "can_write_member",
    "require_role",
    "totals_branch",
    "API_TOKEN_ADMINS",
    "LOOKUP_ROLES",
    "lookup_branch",
    "APP_ROLES",
    "OTHER_APP_ROLES",
    "can_open_app",
    "apps_for",
    "parse_token_scope",
    "scope_allows",
    "PUBLISH_ROLES",
    "PUBLISHED_READERS",
    "AccessPolicy",
    "DEFAULT_POLICY",
    "DEFAULT_REVEAL_CAP",
    "MANAGERS_RECORD_ENV",
    "REVEAL_CAP_ENV",
    "CALLER_ROLES",
    "may_call",
    "can_reveal_number",
    "sees_executors",
    "on_behalf_of",
]

#: Roles tied to one branch (``branch_id`` required).
BRANCH_ROLES: tuple[str, ...] = ("executor", "branch_manager")
#: Roles that see the whole province.
PROVINCE_ROLES: tuple[str, ...] = ("province_manager", "analyst", "admin")
#: Roles that may release campaigns, versions and record responses.
DESIGN_ROLES: tuple[str, ...] = ("analyst", "admin")
#: Roles that may record contact results (each within its scope).
RESULT_WRITERS: tuple[str, ...] = ("executor", "branch_manager", "admin")
#: Roles that add users, (de)activate them and set other users' passwords.
USER_ADMINS: tuple[str, ...] = ("admin",)
#: Roles that may list users (a branch manager those of the own branch).
USER_READERS: tuple[str, ...] = ("admin", "province_manager", "branch_manager")
#: Roles that see full phone numbers in an exported list: only the executor, who has to dial them.
NUMBER_VISIBLE_ROLES: frozenset[str] = frozenset({"executor"})
#: Roles that create, list and revoke tokens of the look-up API (``workbench api token``).
API_TOKEN_ADMINS: tuple[str, ...] = ("admin",)
#: Roles that may open the hall / call-centre look-up page: every signed-in role (branch roles
#: see their own branch's subscribers only, :func:`lookup_branch`).
LOOKUP_ROLES: tuple[str, ...] = ROLES
#: Roles that publish results for operations, switch or roll back the current version and back-fill them.
PUBLISH_ROLES: tuple[str, ...] = ("analyst", "admin")
#: Roles that read whole published versions (feeds, back-fill, listings): the province roles.
PUBLISHED_READERS: tuple[str, ...] = PROVINCE_ROLES
#: Valid branch codes (from the data model).
BRANCH_IDS: tuple[str, ...] = tuple(b[0] for b in BRANCHES)
#: Roles that call customers from the worklist and may reveal a number there, one at a time and
#: audit-logged (:func:`can_reveal_number` decides which rows).
CALLER_ROLES: tuple[str, ...] = ("executor", "branch_manager")
#: Environment variable of :attr:`AccessPolicy.managers_record_for_executors` (``1``/``true``/``yes`` = on).
MANAGERS_RECORD_ENV = "WORKBENCH_MANAGERS_RECORD_FOR_EXECUTORS"
#: Environment variable of :attr:`AccessPolicy.reveal_daily_cap`.
REVEAL_CAP_ENV = "WORKBENCH_REVEAL_DAILY_CAP"
#: Numbers one user may reveal per day unless configured otherwise.
DEFAULT_REVEAL_CAP = 200
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class AccessPolicy:
    """The settings of the access rules that an organisation chooses (see the module's docstring).

    Parameters
    ----------
    managers_record_for_executors : bool, default False
        Whether a branch manager may record a result on a customer assigned to an executor of the
        branch (recorded on that executor's behalf).
    reveal_daily_cap : int, default :data:`DEFAULT_REVEAL_CAP`
        Full numbers one user may reveal per day (0: none).

    Raises
    ------
    ParameterError
        A cap that is not a non-negative integer.

    Examples
    --------
    >>> AccessPolicy.from_env({"WORKBENCH_MANAGERS_RECORD_FOR_EXECUTORS": "1"}).managers_record_for_executors
    True
    """

    managers_record_for_executors: bool = False
    reveal_daily_cap: int = DEFAULT_REVEAL_CAP

    def __post_init__(self):
        cap = self.reveal_daily_cap
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise ParameterError.invalid("reveal_daily_cap", "a non-negative integer", cap)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AccessPolicy:
        """The policy of :data:`MANAGERS_RECORD_ENV` and :data:`REVEAL_CAP_ENV` (defaults where unset).

        Raises
        ------
        ParameterError
            A value that is not a switch (``0``/``1``, ``true``/``false``) or a non-negative integer,
            naming the variable.
        """
        env = os.environ if environ is None else environ
        switch = str(env.get(MANAGERS_RECORD_ENV, "")).strip().lower()
        if switch not in _TRUE + _FALSE:
            raise ParameterError.invalid(MANAGERS_RECORD_ENV, f"one of {list(_TRUE + _FALSE[1:])}", switch)
        cap_text = str(env.get(REVEAL_CAP_ENV, "")).strip()
        try:
            cap = int(cap_text) if cap_text else DEFAULT_REVEAL_CAP
        except ValueError:
            raise ParameterError.invalid(REVEAL_CAP_ENV, "a non-negative integer", cap_text) from None
        if cap < 0:
            raise ParameterError.invalid(REVEAL_CAP_ENV, "a non-negative integer", cap_text)
        return cls(managers_record_for_executors=switch in _TRUE, reveal_daily_cap=cap)


#: The policy of the code's defaults (managers do not record on executors' customers; 200 reveals a day).
DEFAULT_POLICY = AccessPolicy()


@dataclass(frozen=True)
class User:
    """The acting user, as the apps hold it after sign-in.

    Obtain it from :meth:`workbench.store.Store.authenticate`; the store checks
    it against the ``users`` table on every call, so a deactivated user or a
    changed role takes effect at once.

    Parameters
    ----------
    name : str
        Unique sign-in name (also what ``campaign_members.executor`` holds).
    role : str
        One of :data:`workbench.store.models.ROLES`.
    branch_id : str, optional
        Branch code; required for ``executor`` and ``branch_manager``.
    display_name : str
        Name shown on screens.
    """

    name: str
    role: str
    branch_id: str | None = None
    display_name: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise ParameterError.invalid("name", "a non-empty string", self.name)
        if self.role not in ROLES:
            raise ParameterError.invalid("role", f"one of {set(ROLES)}", self.role)
        if self.role in BRANCH_ROLES and not self.branch_id:
            raise ParameterError(
                f"The 'branch_id' parameter is required for role {self.role!r} (one of {list(BRANCH_IDS)}). Got None."
            )
        if self.branch_id is not None and self.branch_id not in BRANCH_IDS:
            raise ParameterError.invalid("branch_id", f"one of {list(BRANCH_IDS)} or None", self.branch_id)


#: The identity of in-process batch jobs and the ``workbench`` command line (an admin
#: without a row in ``users``).  Apps never use it: they sign users in.
SYSTEM_USER = User(name="system", role="admin", display_name="system")


def sees_all_members(user: User) -> bool:
    """True for the province roles, which read every branch."""
    return user.role in PROVINCE_ROLES


def can_read_member(user: User, branch_id: str, executor: str | None) -> bool:
    """Whether ``user`` may read a member row of ``branch_id`` assigned to ``executor``."""
    if sees_all_members(user):
        return True
    if user.role == "branch_manager":
        return branch_id == user.branch_id
    return executor == user.name


def member_scope(user: User):
    """SQL condition on ``campaign_members`` limiting rows to what ``user`` may read (:func:`can_read_member`)."""
    if sees_all_members(user):
        return true()
    if user.role == "branch_manager":
        return CampaignMember.branch_id == user.branch_id
    return CampaignMember.executor == user.name


def user_scope(user: User):
    """SQL condition on ``users`` limiting the users ``user`` may list (a branch manager: the own branch)."""
    if user.role == "branch_manager":
        return UserRecord.branch_id == user.branch_id
    return true()


def sees_drafts(user: User) -> bool:
    """True for the roles that design campaigns (:data:`DESIGN_ROLES`), who see unreleased drafts."""
    return user.role in DESIGN_ROLES


def can_read_responses(user: User) -> bool:
    """True for the province roles, which read the responses (orders) recorded after a campaign."""
    return user.role in PROVINCE_ROLES


def sees_missing_members(user: User) -> bool:
    """Whether ``user`` is told that a member id names no member (admins).

    Other roles are refused as for a row outside their scope, so a member id
    does not reveal whether another branch's row exists.
    """
    return user.role == "admin"


def may_record_for_others(user: User) -> bool:
    """Whether ``user`` may record results on another executor's behalf (all but executors)."""
    return user.role != "executor"


def can_see_numbers(role: str) -> bool:
    """Whether ``role`` may see full phone numbers.

    Raises
    ------
    ParameterError
        An unknown role.
    """
    if role not in ROLES:
        raise ParameterError.invalid("role", f"one of {list(ROLES)}", role)
    return role in NUMBER_VISIBLE_ROLES


def can_write_member(user: User, branch_id: str, executor: str | None,
                     policy: AccessPolicy | None = None, *, contact_by: str | None = None) -> bool:
    """Whether ``user`` may record a contact result for a member row assigned to ``executor``.

    A branch manager records on the own branch's unassigned rows and rows assigned to themselves;
    on rows assigned to an executor only when ``policy.managers_record_for_executors`` (default
    :data:`DEFAULT_POLICY`: no) - or when relaying that executor's own contact (a batch row whose
    ``contact_by``, who made the contact, is the assigned executor: a dialler's log uploaded by
    the manager).
    """
    policy = policy or DEFAULT_POLICY
    if user.role == "admin":
        return True
    if user.role == "branch_manager":
        return branch_id == user.branch_id and (
            executor is None or executor == user.name or policy.managers_record_for_executors
            or (contact_by is not None and contact_by == executor))
    if user.role == "executor":
        return executor == user.name or branch_id == user.branch_id
    return False


def may_call(user: User) -> bool:
    """Whether the worklist offers ``user`` a "show number" per customer (:data:`CALLER_ROLES`)."""
    return user.role in CALLER_ROLES


def can_reveal_number(user: User, branch_id: str, executor: str | None,
                      policy: AccessPolicy | None = None) -> bool:
    """Whether ``user`` may reveal the full number of a member row (to call the customer).

    An executor: the rows assigned to them.  A branch manager: the rows of the own branch they may
    record on (:func:`can_write_member` under ``policy``).  Other roles never (they do not call).
    The daily cap is the store's to count (:meth:`Store.reveal_number`).
    """
    if not may_call(user):
        return False
    if user.role == "executor":
        return executor == user.name
    return can_write_member(user, branch_id, executor, policy)


def sees_executors(user: User) -> bool:
    """Whether ``user``'s worklist shows whose customer each row is and each executor's progress
    (everyone but an executor, whose list is their own)."""
    return user.role != "executor"


def on_behalf_of(user: User, executor: str | None) -> str | None:
    """The executor a result of ``user`` on a row assigned to ``executor`` is recorded on behalf of:
    that executor when it is somebody else and ``user`` is not an executor (an executor covering a
    colleague's call records their own contact), else None."""
    if user.role == "executor" or executor is None or executor == user.name:
        return None
    return executor


def require_role(user: User, roles: tuple[str, ...], action: str) -> None:
    """Raise :class:`AccessDenied` unless ``user.role`` is one of ``roles``.

    Raises
    ------
    AccessDenied
        Naming the action, the roles allowed and the user's role.
    """
    if user.role not in roles:
        raise AccessDenied(
            f"{action} is allowed for roles {list(roles)}; user {user.name!r} has role {user.role!r}"
        )


def totals_branch(user: User, branch_id: str | None = None) -> str:
    """The branch whose totals ``user`` may read when asking for ``branch_id``.

    Branch roles get their own branch (``branch_id`` None or equal to it);
    province roles must name a branch.

    Raises
    ------
    AccessDenied
        A branch role asking for another branch.
    ParameterError
        ``branch_id`` is not a branch code, or a province role gave none.
    """
    if branch_id is not None and branch_id not in BRANCH_IDS:
        raise ParameterError.invalid("branch_id", f"one of {list(BRANCH_IDS)}", branch_id)
    if user.role in BRANCH_ROLES:
        if branch_id is not None and branch_id != user.branch_id:
            raise AccessDenied(
                f"branch totals of {branch_id!r} are not for user {user.name!r} "
                f"(role {user.role!r}, branch {user.branch_id!r}): only the own branch's"
            )
        return str(user.branch_id)
    if branch_id is None:
        raise ParameterError(
            f"The 'branch_id' parameter is required for role {user.role!r} (one of {list(BRANCH_IDS)}). Got None."
        )
    return branch_id


def lookup_branch(user: User) -> str | None:
    """The branch whose published cards ``user`` may look up: None (every branch) for the province roles,
    the own branch for the branch roles.

    Raises
    ------
    AccessDenied
        A role outside :data:`LOOKUP_ROLES`.
    """
    require_role(user, LOOKUP_ROLES, "looking up a subscriber's published card")
    return user.branch_id if user.role in BRANCH_ROLES else None


#: Roles that may open each kind of served app (the app notebook it was published from, ``AppInfo.app``):
#: the worklist for those who record contact results; campaign monitoring for the managers and the
#: province roles; the hall look-up for :data:`LOOKUP_ROLES`; the "who am I" check for everyone.
APP_ROLES: dict[str, tuple[str, ...]] = {
    "executor": RESULT_WRITERS,
    "05_campaign_monitoring": ("branch_manager", *PROVINCE_ROLES),
    "hall": LOOKUP_ROLES,
    "whoami": ROLES,
}
#: Roles that may open an app of a kind :data:`APP_ROLES` does not name (a template published as an
#: app for analysis): those who design campaigns, until the kind is given its roles there.
OTHER_APP_ROLES: tuple[str, ...] = DESIGN_ROLES


def can_open_app(user: User, app: str) -> bool:
    """Whether ``user`` may open a served app of kind ``app`` (:data:`APP_ROLES`, else :data:`OTHER_APP_ROLES`).

    >>> can_open_app(User("ex", "executor", "urumqi"), "05_campaign_monitoring")
    False
    """
    return user.role in APP_ROLES.get(app, OTHER_APP_ROLES)


def apps_for(user: User, apps=None) -> list[str]:
    """The kinds of app ``user`` may open, in the order given.

    Parameters
    ----------
    user : User
        The signed-in user.
    apps : iterable of str, optional
        App kinds to choose from (e.g. those of the served folder); default every kind of :data:`APP_ROLES`.

    >>> apps_for(User("ex", "executor", "urumqi"))
    ['executor', 'hall', 'whoami']
    """
    kinds = list(APP_ROLES) if apps is None else list(apps)
    return [app for app in kinds if can_open_app(user, app)]


def parse_token_scope(scope: str) -> str | None:
    """The branch an API token's ``scope`` limits it to: ``"province"`` -> None, ``"branch:<id>"`` -> id.

    Raises
    ------
    ParameterError
        Naming the allowed forms and branch codes and what was given.
    """
    if scope == "province":
        return None
    if isinstance(scope, str) and scope.startswith("branch:") and scope[len("branch:"):] in BRANCH_IDS:
        return scope[len("branch:"):]
    raise ParameterError.invalid(
        "scope", f"'province' or 'branch:<id>' with id one of {list(BRANCH_IDS)}", scope)


def scope_allows(scope_branch: str | None, branch_id: str | None) -> bool:
    """Whether a caller limited to ``scope_branch`` (None: the whole province) may read a row of ``branch_id``."""
    return scope_branch is None or scope_branch == branch_id
