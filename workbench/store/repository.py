"""Every read and write the apps make, with the acting user passed explicitly.

Access control is enforced here, not in widgets: lists are filtered in SQL
by the rules of :mod:`workbench.store.access`, single rows are checked before
they are touched, and the acting user is re-read from ``users`` on every call
(a deactivated user is refused at once).  Each release, export, result,
sign-in and user change writes an ``audit_log`` row in the same transaction.

>>> import pandas as pd
>>> from workbench.store import Store, SYSTEM_USER
>>> store = Store("sqlite://", progress=False)              # doctest: +SKIP
>>> analyst = store.add_user(SYSTEM_USER, "ana", "analyst", password="s3cret-pass")  # doctest: +SKIP
>>> members = pd.DataFrame({"subscriber_id": [1, 2], "branch_id": ["urumqi", "hami"],
...                         "group": ["target", "control"], "channel": ["outbound_call"] * 2})
>>> release = store.release_campaign(analyst, {"name": "News Q1", "product": "mnp_news"}, members)  # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, case, func, insert, literal, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from workbench.data.tables import ORDER_CHANNELS
from workbench.errors import AccessDenied, DataValidationError, ParameterError
from workbench.store.access import (
    BRANCH_IDS, DESIGN_ROLES, PROVINCE_ROLES, RESULT_WRITERS, SYSTEM_USER, User, can_write_member,
    require_role, sees_all_members, totals_branch,
)
from workbench.store.db import engine_for, upgrade
from workbench.store.models import (
    BRANCH_ID, CONTACT_RESULTS, GROUPS, MEMBER_COLUMNS, MEMBER_REQUIRED_COLUMNS, SUBSCRIBER_ID,
    AuditEntry, Campaign, CampaignMember, CampaignVersion, ContactResult, Response, StoreSession, UserRecord,
    utcnow,
)
from workbench.store.passwords import PasswordPolicy

__all__ = [
    "Store", "Release", "RecordedResult", "spec_hash", "validate_members", "WORKLIST_COLUMNS", "PROGRESS_COLUMNS",
    "BRANCH_TOTALS_COLUMNS", "MAX_NOTE_LENGTH", "RESULT_BATCH_COLUMNS", "RECORDED_BATCH_COLUMNS",
]

#: Columns of :meth:`Store.worklist` and :meth:`Store.export_list`.
WORKLIST_COLUMNS: tuple[str, ...] = (
    "member_id", "campaign_id", "version", *MEMBER_COLUMNS, "contacts", "last_result", "last_contacted_at",
)
#: Columns of :meth:`Store.progress`.
PROGRESS_COLUMNS: tuple[str, ...] = (
    "dimension", "key", "members", "contacted", "reached", "accepted",
    "contacted_rate", "reached_rate", "accepted_rate",
)
#: Columns of :meth:`Store.branch_totals` (one row: counts of one branch, never an executor's).
BRANCH_TOTALS_COLUMNS: tuple[str, ...] = (
    "branch", "members", "contacted", "reached", "accepted", "contacted_rate", "reached_rate", "accepted_rate",
)
#: Longest note an executor may write with a result.
MAX_NOTE_LENGTH = 2000
#: How far in the future ``contacted_at`` may lie (clock skew of a branch PC).
CLOCK_SKEW = dt.timedelta(minutes=10)
#: Unmasked phone numbers (11 digits) must never reach the store.
_PLAIN_MSISDN = r"\d{11}"
_STRING_LIMITS = {
    c.name: c.type.length for c in CampaignMember.__table__.columns if getattr(c.type, "length", None)
}
_RESPONSE_COLUMNS: tuple[str, ...] = (SUBSCRIBER_ID, "order_date", "product", "stable")
#: Columns :meth:`Store.record_results` reads (``member_id`` and ``result`` are required).
RESULT_BATCH_COLUMNS: tuple[str, ...] = ("member_id", "result", "contacted_at", "note", "client_request_id", "executor")
#: Columns of the frame :meth:`Store.record_results` returns.
RECORDED_BATCH_COLUMNS: tuple[str, ...] = ("member_id", "client_request_id", "result_id", "created")
#: Values per ``IN (...)`` list when a batch looks rows up (below SQLite's and PostgreSQL's parameter limits).
_IN_CHUNK = 10_000
#: Passes of a batch that loses a race on its request ids to a concurrent upload.
_BATCH_ATTEMPTS = 3
#: Longest executor name (``contact_results.executor``).
_EXECUTOR_LENGTH = ContactResult.__table__.c.executor.type.length


@dataclass(frozen=True)
class Release:
    """What :meth:`Store.release_campaign` and :meth:`Store.new_version` released."""

    campaign_id: int
    version: int
    version_id: int
    member_count: int
    spec_hash: str


@dataclass(frozen=True)
class RecordedResult:
    """Outcome of :meth:`Store.record_result`; ``created`` is False for a retried request."""

    result_id: int
    member_id: int
    created: bool


def _canonical_spec(spec) -> tuple[dict, str]:
    if not isinstance(spec, Mapping) and callable(getattr(spec, "to_dict", None)):
        spec = spec.to_dict()  # e.g. workbench.campaign.CampaignSpec
    elif dataclasses.is_dataclass(spec) and not isinstance(spec, type):
        spec = dataclasses.asdict(spec)
    if not isinstance(spec, Mapping):
        raise ParameterError.invalid("spec", "a mapping, a dataclass or an object with to_dict()", type(spec).__name__)
    text = json.dumps(dict(spec), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return json.loads(text), hashlib.sha256(text.encode("utf-8")).hexdigest()


def _spec_product(spec: Mapping) -> str | None:
    """The product of a spec: ``product``, ``product_id`` or ``offer.product_id`` (CampaignSpec)."""
    offer = spec.get("offer") if isinstance(spec.get("offer"), Mapping) else {}
    return spec.get("product") or spec.get("product_id") or offer.get("product_id")


def spec_hash(spec) -> str:
    """SHA-256 of the canonical JSON of a campaign spec (sorted keys, compact, UTF-8)."""
    return _canonical_spec(spec)[1]


def _jsonable(details: Mapping) -> dict:
    return json.loads(json.dumps(dict(details), ensure_ascii=False, default=str))


#: Integer columns that may be empty: returned as pandas' nullable ``Int64``.
_NULLABLE_INT = ("campaign_id", "version", "member_count")


def _frame(result, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    keys = list(result.keys())
    rows = result.fetchall()
    values = list(zip(*rows)) if rows else [()] * len(keys)
    frame = pd.DataFrame({k: pd.Series(list(v), dtype=object) for k, v in zip(keys, values)})
    frame = frame.infer_objects()
    for col in _NULLABLE_INT:
        if col in frame.columns and frame[col].isna().any():
            frame[col] = frame[col].astype("Int64")
    return frame[list(columns)] if columns else frame


def _problem(column: str, check: str, mask: pd.Series, values: pd.Series) -> dict | None:
    count = int(mask.sum())
    if not count:
        return None
    return {"table": "campaign_members", "column": column, "check": check, "count": count,
            "examples": values[mask].head(5).tolist()}


def validate_members(members: pd.DataFrame) -> pd.DataFrame:
    """Check a released list and return its :data:`MEMBER_COLUMNS` (missing optional ones empty).

    Raises
    ------
    ParameterError
        When ``members`` is not a DataFrame or lacks a required column.
    DataValidationError
        Listing every failed check (lazy, like pandera): duplicate or missing
        subscriber ids, unknown branch / group / channel, text too long, or a
        phone number that is not masked.
    """
    if not isinstance(members, pd.DataFrame):
        raise ParameterError.invalid("members", "a pandas DataFrame", type(members).__name__)
    missing = [c for c in MEMBER_REQUIRED_COLUMNS if c not in members.columns]
    if missing:
        raise ParameterError(
            f"The 'members' table must have the columns {list(MEMBER_REQUIRED_COLUMNS)}; "
            f"missing {missing}. Got columns {list(members.columns)}."
        )
    frame = pd.DataFrame(index=members.index)
    for col in MEMBER_COLUMNS:
        frame[col] = members[col] if col in members.columns else None
    problems = []
    sid = pd.to_numeric(frame[SUBSCRIBER_ID], errors="coerce")
    checks = [
        (SUBSCRIBER_ID, "not null integer", sid.isna() | (sid != sid.round())),
        (SUBSCRIBER_ID, "unique", frame[SUBSCRIBER_ID].duplicated(keep=False) & frame[SUBSCRIBER_ID].notna()),
        (BRANCH_ID, f"isin {list(BRANCH_IDS)}", ~frame[BRANCH_ID].isin(BRANCH_IDS)),
        ("group", f"isin {list(GROUPS)}", ~frame["group"].isin(GROUPS)),
        ("channel", f"isin {list(ORDER_CHANNELS)}", ~frame["channel"].isin(ORDER_CHANNELS)),
        ("score", "numeric or empty", pd.to_numeric(frame["score"], errors="coerce").isna() & frame["score"].notna()),
    ]
    masked = frame["msisdn_masked"].astype("str").where(frame["msisdn_masked"].notna(), "")
    checks.append(("msisdn_masked", "masked (not 11 plain digits)", masked.str.fullmatch(_PLAIN_MSISDN)))
    for col, limit in _STRING_LIMITS.items():
        if col in frame.columns:
            text = frame[col].astype("str").where(frame[col].notna(), "")
            checks.append((col, f"at most {limit} characters", text.str.len() > limit))
    for col, check, mask in checks:
        problem = _problem(col, check, mask.fillna(False).astype(bool), frame[col])
        if problem:
            problems.append(problem)
    if problems:
        lines = "; ".join(f"{p['column']}: {p['check']} failed for {p['count']} rows, e.g. {p['examples']}"
                          for p in problems)
        raise DataValidationError(f"campaign_members: {len(problems)} check(s) failed: {lines}", problems)
    frame[SUBSCRIBER_ID] = sid.astype("int64")
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    # in key order the unique index grows at its end: several times faster for big lists
    return frame.sort_values(SUBSCRIBER_ID, kind="stable").reset_index(drop=True)


def _member_rows(frame: pd.DataFrame, version_id: int, start: int, stop: int) -> list[tuple]:
    """Rows ``start:stop`` of a validated list as tuples of Python values (None for missing)."""
    part = frame.iloc[start:stop]
    columns = [[version_id] * len(part)]
    for col in MEMBER_COLUMNS:
        s = part[col]
        values = s.tolist()
        missing = s.isna().to_numpy()
        if missing.any():
            values = [None if m else v for v, m in zip(values, missing)]
        columns.append(values)
    return list(zip(*columns))


def _validate_results(frame: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    """Check a batch of contact results; return it normalised (see :meth:`Store.record_results`).

    ``executor`` stays empty where not given (the acting user fills it in);
    ``contacted_at`` becomes timezone-aware UTC, ``now`` where not given.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError.invalid("frame", "a pandas DataFrame", type(frame).__name__)
    required = RESULT_BATCH_COLUMNS[:2]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"The 'frame' of contact results must have the columns {list(required)} (and may have "
            f"{list(RESULT_BATCH_COLUMNS[2:])}); missing {missing}. Got columns {list(frame.columns)}."
        )
    n = len(frame)
    index = pd.RangeIndex(n)

    def column(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name].reset_index(drop=True)
        return pd.Series([None] * n, index=index, dtype=object)

    problems = []

    def check(col: str, what: str, mask, values) -> None:
        """Record a failed check; ``values`` (a Series, or a function making one) gives the examples."""
        mask = pd.Series(np.asarray(mask, dtype=bool), index=index)
        if mask.any():
            shown = values() if callable(values) else values
            problems.append({"table": "contact_results", "column": col, "check": what, "count": int(mask.sum()),
                             "examples": shown[mask].head(5).tolist()})

    member = column("member_id")
    mid = pd.to_numeric(member, errors="coerce")
    check("member_id", "not null integer", mid.isna() | (mid != mid.round()), member)
    result = column("result")
    check("result", f"isin {list(CONTACT_RESULTS)}", ~result.isin(CONTACT_RESULTS), result)
    note = column("note").astype(object)
    note = note.where(note.notna(), "")
    is_text = pd.Series([isinstance(v, str) for v in note.tolist()], index=index, dtype=bool)
    check("note", "text", ~is_text, note)
    length = note.where(is_text, "").astype("str").str.len()
    check("note", f"at most {MAX_NOTE_LENGTH} characters", length > MAX_NOTE_LENGTH,
          lambda: length.map(lambda k: f"{k} characters"))

    raw = column("contacted_at")
    given = raw.notna()
    if pd.api.types.is_numeric_dtype(raw.dtype) or pd.api.types.is_bool_dtype(raw.dtype):
        numbers = given.to_numpy()
    else:
        kinds = (bool, int, float, np.integer, np.floating)
        numbers = np.fromiter((isinstance(v, kinds) for v in raw.tolist()), bool, n) & given.to_numpy()
    ok = given & ~numbers
    # naive times are UTC, aware ones are converted to UTC (as in record_result)
    when = pd.to_datetime(raw.where(ok), utc=True, errors="coerce", format="mixed").astype("datetime64[us, UTC]")
    check("contacted_at", "a date and time", given & when.isna(), raw)
    when = when.where(when.notna(), pd.Timestamp(now))
    check("contacted_at", "not in the future", when > pd.Timestamp(now + CLOCK_SKEW),
          lambda: when.map(lambda v: v.isoformat()))

    request = column("client_request_id").astype(object)
    fresh = request.isna()
    request = request.where(~fresh, pd.Series([uuid.uuid4().hex for _ in range(int(fresh.sum()))],
                                              index=request.index[fresh], dtype=object))
    request = request.map(str)
    check("client_request_id", "1 to 64 characters", (request.str.len() < 1) | (request.str.len() > 64), request)
    check("client_request_id", "unique within the batch", request.duplicated(keep=False), request)

    executor = column("executor").astype(object)
    executor = executor.where(executor.notna(), None)
    named = executor.notna()
    bad_name = [v is not None and (not isinstance(v, str) or not v.strip() or len(v) > _EXECUTOR_LENGTH)
                for v in executor.tolist()]
    check("executor", f"text of at most {_EXECUTOR_LENGTH} characters", named & np.asarray(bad_name, bool),
          executor)
    if problems:
        lines = "; ".join(f"{p['column']}: {p['check']} failed for {p['count']} rows, e.g. {p['examples']}"
                          for p in problems)
        raise DataValidationError(f"contact_results: {len(problems)} check(s) failed: {lines}", problems)
    return pd.DataFrame({
        "member_id": mid.astype("int64"), "result": result.astype(object), "note": note,
        "contacted_at": when, "client_request_id": request, "executor": executor,
    })


class Store:
    """The campaign store: one database, every operation the workbench performs on it.

    Parameters
    ----------
    url : str, optional
        Store URL (see :func:`workbench.store.db.engine_for`); default
        ``$WORKBENCH_STORE_URL`` or ``runs/store.sqlite``.
    engine : sqlalchemy.Engine, optional
        Use this engine instead of making one from ``url``.
    migrate : bool
        Run the Alembic migrations up to the newest revision first (idempotent).
    password_policy : PasswordPolicy, optional
        How passwords are hashed (default: argon2id with argon2-cffi's costs).
    chunk_size : int
        Rows per batch when bulk-inserting a list.
    progress : bool
        Show a tqdm progress bar while inserting large lists.
    """

    def __init__(self, url: str | None = None, *, engine: Engine | None = None, migrate: bool = True,
                 password_policy: PasswordPolicy | None = None, chunk_size: int = 50_000, progress: bool = True):
        if chunk_size < 1:
            raise ParameterError.invalid("chunk_size", "a positive integer", chunk_size)
        self.engine = engine if engine is not None else engine_for(url)
        self._owns_engine = engine is None
        self.passwords = password_policy or PasswordPolicy()
        self.chunk_size = int(chunk_size)
        self.show_progress = progress
        if migrate:
            upgrade(self.engine)
        self._read = sessionmaker(bind=self.engine, class_=StoreSession, expire_on_commit=False)
        self._write = sessionmaker(bind=self.engine.execution_options(sqlite_immediate=True),
                                   class_=StoreSession, expire_on_commit=False)

    # ----------------------------------------------------------------- plumbing
    def close(self) -> None:
        """Release the database connections (only when the store made its own engine)."""
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def _session(self, write: bool = False) -> Iterator[StoreSession]:
        factory = self._write if write else self._read
        with factory() as session, session.begin():
            yield session

    def _actor(self, session: StoreSession, user: User) -> User:
        """The acting user as the ``users`` table knows them now."""
        if not isinstance(user, User):
            raise ParameterError.invalid("user", "a workbench.store.User (from Store.authenticate)",
                                         type(user).__name__)
        if user == SYSTEM_USER:
            return user
        row = session.execute(select(UserRecord).where(UserRecord.name == user.name)).scalar_one_or_none()
        if row is None or not row.active:
            raise AccessDenied(f"user {user.name!r} is unknown or deactivated; sign in again")
        return User(row.name, row.role, row.branch_id, row.display_name)

    @staticmethod
    def _audit(session: StoreSession, actor: User | str, action: str, campaign_id: int | None = None,
               **details) -> None:
        name = actor.name if isinstance(actor, User) else str(actor)
        session.add(AuditEntry(at=utcnow(), user_name=name[:64], action=action, campaign_id=campaign_id,
                               details=_jsonable(details)))

    @staticmethod
    def _member_scope(actor: User):
        """SQL condition on ``campaign_members`` limiting rows to what ``actor`` may read."""
        if sees_all_members(actor):
            return true()
        if actor.role == "branch_manager":
            return CampaignMember.branch_id == actor.branch_id
        return CampaignMember.executor == actor.name

    def _campaign(self, session: StoreSession, campaign_id: int, *, lock: bool = False) -> Campaign:
        """The campaign row; ``lock`` holds it (PostgreSQL ``FOR UPDATE``) so concurrent changes queue."""
        campaign = session.get(Campaign, campaign_id, with_for_update=lock or None)
        if campaign is None:
            raise ParameterError(f"The 'campaign_id' parameter names no campaign. Got {campaign_id!r}.")
        return campaign

    def _version(self, session: StoreSession, campaign_id: int, version: int | None) -> CampaignVersion:
        """The released version ``version`` of a campaign (default: the newest released)."""
        query = select(CampaignVersion).where(CampaignVersion.campaign_id == campaign_id,
                                              CampaignVersion.released_at.is_not(None))
        if version is None:
            query = query.order_by(CampaignVersion.version.desc()).limit(1)
        else:
            query = query.where(CampaignVersion.version == int(version))
        found = session.execute(query).scalar_one_or_none()
        if found is None:
            what = "no released version" if version is None else f"no released version {version}"
            raise ParameterError(f"campaign {campaign_id} has {what}")
        return found

    # -------------------------------------------------------------------- users
    def add_user(self, user: User, name: str, role: str, *, password: str, branch_id: str | None = None,
                 display_name: str = "") -> User:
        """Create a user who may sign in (admin only).

        Parameters
        ----------
        user : User
            The acting user (an admin, or :data:`SYSTEM_USER` from the command line).
        name : str
            Unique sign-in name; for executors the name the lists assign rows to.
        role : str
            One of :data:`workbench.store.models.ROLES`.
        password : str
            At least ``password_policy.min_length`` characters; only its argon2 hash is stored.
        branch_id : str, optional
            Required for ``executor`` and ``branch_manager``.
        display_name : str
            Name shown on screens.

        Raises
        ------
        AccessDenied
            When the acting user is not an admin.
        ParameterError
            Invalid role / branch / password, or the name is taken.
        """
        new = User(name, role, branch_id, display_name)
        if name == SYSTEM_USER.name:
            raise ParameterError(f"The user name {name!r} is reserved for the command line; choose another.")
        password_hash = self.passwords.hash(password)
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, ("admin",), "adding a user")
            if session.execute(select(UserRecord.id).where(UserRecord.name == name)).first():
                raise ParameterError(f"The user name {name!r} already exists; user names are unique.")
            session.add(UserRecord(name=name, display_name=display_name, role=role, branch_id=branch_id,
                                   password_hash=password_hash, active=True, created_at=utcnow()))
            self._audit(session, actor, "add_user", name=name, role=role, branch_id=branch_id)
        return new

    def set_active(self, user: User, name: str, active: bool) -> None:
        """Deactivate (``active=False``) or reactivate a user (admin only); audit-logged."""
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, ("admin",), "activating or deactivating a user")
            row = session.execute(select(UserRecord).where(UserRecord.name == name)).scalar_one_or_none()
            if row is None:
                raise ParameterError(f"The 'name' parameter names no user. Got {name!r}.")
            row.active = bool(active)
            self._audit(session, actor, "activate_user" if active else "deactivate_user", name=name)

    def set_password(self, user: User, name: str, password: str) -> None:
        """Change a password: a user their own, an admin anyone's; audit-logged."""
        password_hash = self.passwords.hash(password)
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            if actor.name != name:
                require_role(actor, ("admin",), "changing another user's password")
            row = session.execute(select(UserRecord).where(UserRecord.name == name)).scalar_one_or_none()
            if row is None:
                raise ParameterError(f"The 'name' parameter names no user. Got {name!r}.")
            row.password_hash = password_hash
            self._audit(session, actor, "set_password", name=name)

    def list_users(self, user: User) -> pd.DataFrame:
        """Users (never their hashes): all for admins and province managers, own branch for branch managers."""
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, ("admin", "province_manager", "branch_manager"), "listing users")
            query = select(UserRecord.name, UserRecord.display_name, UserRecord.role, UserRecord.branch_id,
                           UserRecord.active, UserRecord.created_at).order_by(UserRecord.name)
            if actor.role == "branch_manager":
                query = query.where(UserRecord.branch_id == actor.branch_id)
            return _frame(session.execute(query))

    def authenticate(self, name: str, password: str) -> User | None:
        """The user ``name`` if ``password`` is right and the user is active, else None.

        Unknown names take about as long as known ones (a dummy hash is
        verified).  Success is audit-logged as ``login``, failure as
        ``login_failed``; an old hash is upgraded to the current policy.
        """
        with self._session() as session:
            row = session.execute(select(UserRecord).where(UserRecord.name == str(name))).scalar_one_or_none()
        known = row is not None and row.active
        ok = self.passwords.verify(row.password_hash if known else None, password)
        with self._session(write=True) as session:
            if not ok:
                self._audit(session, str(name), "login_failed", reason="unknown or inactive" if not known
                            else "wrong password")
                return None
            self._audit(session, row.name, "login")
            if self.passwords.needs_rehash(row.password_hash):
                fresh = session.get(UserRecord, row.id)
                fresh.password_hash = self.passwords.hash(password)
        return User(row.name, row.role, row.branch_id, row.display_name)

    # ---------------------------------------------------------------- campaigns
    def save_draft(self, user: User, spec, *, campaign_id: int | None = None, name: str | None = None,
                   product: str | None = None) -> int:
        """Save a campaign plan that is not released yet (analyst / admin); returns the campaign id.

        With ``campaign_id`` the draft's plan is replaced (drafts may change;
        released versions may not).
        """
        spec_json, digest = _canonical_spec(spec)
        name, product = self._name_product(spec_json, name, product)
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, DESIGN_ROLES, "saving a campaign draft")
            if campaign_id is None:
                campaign = Campaign(name=name, product=product, owner=actor.name, status="draft", created_at=utcnow())
                session.add(campaign)
                session.flush()
                session.add(CampaignVersion(campaign_id=campaign.id, version=1, spec=spec_json, spec_hash=digest,
                                            member_count=0, created_at=utcnow()))
            else:
                campaign = self._campaign(session, campaign_id, lock=True)
                draft = self._draft_version(session, campaign)
                campaign.name, campaign.product = name, product
                draft.spec, draft.spec_hash = spec_json, digest
            session.flush()
            self._audit(session, actor, "save_draft", campaign.id, spec_hash=digest)
            return campaign.id

    @staticmethod
    def _name_product(spec: dict, name: str | None, product: str | None) -> tuple[str, str]:
        name = name or spec.get("name")
        product = product or _spec_product(spec)
        if not name or not product:
            raise ParameterError(
                "The campaign spec must give a 'name' and a 'product' (or pass name= and product=). "
                f"Got name={name!r}, product={product!r}."
            )
        return str(name), str(product)

    def _draft_version(self, session: StoreSession, campaign: Campaign) -> CampaignVersion:
        if campaign.status != "draft":
            raise ParameterError(
                f"campaign {campaign.id} is {campaign.status!r}, not a draft; use new_version() to change its plan"
            )
        return session.execute(
            select(CampaignVersion).where(CampaignVersion.campaign_id == campaign.id,
                                          CampaignVersion.released_at.is_(None))
            .order_by(CampaignVersion.version.desc()).limit(1)
        ).scalar_one()

    def _insert_members(self, session: StoreSession, frame: pd.DataFrame, version_id: int) -> None:
        """Bulk insert in chunks: COPY on PostgreSQL, executemany on SQLite."""
        from tqdm.auto import tqdm

        conn = session.connection()
        names = ", ".join(f'"{c}"' for c in ("campaign_version_id", *MEMBER_COLUMNS))
        starts = range(0, len(frame), self.chunk_size)
        bar = tqdm(starts, desc="campaign_members", unit="chunk", disable=not self.show_progress or len(starts) < 2)
        if conn.dialect.name == "postgresql":
            driver = conn.connection.driver_connection
            with driver.cursor() as cur, cur.copy(f"COPY campaign_members ({names}) FROM STDIN") as copy:
                for start in bar:
                    for row in _member_rows(frame, version_id, start, start + self.chunk_size):
                        copy.write_row(row)
            return
        marks = ", ".join("?" * (len(MEMBER_COLUMNS) + 1))
        sql = f"INSERT INTO campaign_members ({names}) VALUES ({marks})"
        for start in bar:
            conn.exec_driver_sql(sql, _member_rows(frame, version_id, start, start + self.chunk_size))

    def _release(self, session: StoreSession, actor: User, campaign: Campaign, version: CampaignVersion,
                 frame: pd.DataFrame | None, copy_from: int | None) -> Release:
        session.flush()
        if frame is not None:
            self._insert_members(session, frame, version.id)
            count = len(frame)
        else:
            columns = [getattr(CampaignMember, c) for c in MEMBER_COLUMNS]
            source = select(literal(version.id), *columns).where(CampaignMember.campaign_version_id == copy_from)
            session.execute(insert(CampaignMember).from_select(["campaign_version_id", *MEMBER_COLUMNS], source))
            count = session.execute(
                select(func.count()).where(CampaignMember.campaign_version_id == version.id)
            ).scalar_one()
        version.member_count = int(count)
        version.released_at = utcnow()
        version.released_by = actor.name
        campaign.status = "released"
        session.flush()
        release = Release(campaign.id, version.version, version.id, int(count), version.spec_hash)
        self._audit(session, actor, "release", campaign.id, version=version.version, members=int(count),
                    spec_hash=version.spec_hash, copied_from_version_id=copy_from)
        return release

    def release_campaign(self, user: User, spec, members: pd.DataFrame, *, campaign_id: int | None = None,
                         name: str | None = None, product: str | None = None) -> Release:
        """Release a campaign: its plan and its list, in one transaction (analyst / admin).

        Parameters
        ----------
        user : User
            The acting user.
        spec : mapping, dataclass or object with ``to_dict()``
            The campaign plan; stored as canonical JSON with its SHA-256.  Must
            give ``name`` and ``product`` (or ``product_id``, or ``offer.product_id`` as
            :class:`workbench.campaign.CampaignSpec` does) unless passed below.
        members : DataFrame
            The list, with :data:`MEMBER_REQUIRED_COLUMNS` and any of
            :data:`MEMBER_COLUMNS` (other columns are ignored; keep them in the spec).
        campaign_id : int, optional
            Release this draft (from :meth:`save_draft`) instead of creating a campaign.
        name, product : str, optional
            Override the spec's name and product.

        Returns
        -------
        Release

        Raises
        ------
        AccessDenied
            When the acting user is not an analyst or admin.
        ParameterError, DataValidationError
            Bad spec or list; nothing is written.
        """
        spec_json, digest = _canonical_spec(spec)
        name, product = self._name_product(spec_json, name, product)
        frame = validate_members(members)
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, DESIGN_ROLES, "releasing a campaign")
            if campaign_id is None:
                campaign = Campaign(name=name, product=product, owner=actor.name, status="draft", created_at=utcnow())
                session.add(campaign)
                session.flush()
                version = CampaignVersion(campaign_id=campaign.id, version=1, created_at=utcnow())
                session.add(version)
            else:
                campaign = self._campaign(session, campaign_id, lock=True)
                version = self._draft_version(session, campaign)
                campaign.name, campaign.product = name, product
            version.spec, version.spec_hash, version.member_count = spec_json, digest, 0
            return self._release(session, actor, campaign, version, frame, None)

    def new_version(self, user: User, campaign_id: int, spec, members: pd.DataFrame | None = None) -> Release:
        """Change a released campaign's plan by releasing its next version (analyst / admin).

        Earlier versions stay as they were.  With ``members=None`` the list of
        the newest released version is copied unchanged (the plan changed, the
        list did not).

        Raises
        ------
        AccessDenied
            When the acting user is not an analyst or admin.
        ParameterError
            Unknown campaign, a draft (release it instead) or a closed campaign.
        DataValidationError
            Bad list; nothing is written.
        """
        spec_json, digest = _canonical_spec(spec)
        frame = None if members is None else validate_members(members)
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, DESIGN_ROLES, "releasing a new campaign version")
            campaign = self._campaign(session, campaign_id, lock=True)
            if campaign.status != "released":
                raise ParameterError(
                    f"campaign {campaign_id} is {campaign.status!r}; a new version needs a released campaign "
                    "(release a draft with release_campaign(campaign_id=...))"
                )
            current = self._version(session, campaign_id, None)
            last = session.execute(
                select(func.max(CampaignVersion.version)).where(CampaignVersion.campaign_id == campaign_id)
            ).scalar_one()
            version = CampaignVersion(campaign_id=campaign_id, version=int(last) + 1, spec=spec_json,
                                      spec_hash=digest, member_count=0, created_at=utcnow())
            session.add(version)
            campaign.name = str(spec_json.get("name") or campaign.name)
            campaign.product = str(_spec_product(spec_json) or campaign.product)
            return self._release(session, actor, campaign, version, frame,
                                 None if frame is not None else current.id)

    def close_campaign(self, user: User, campaign_id: int) -> None:
        """Close a campaign (analyst / admin): no more results are accepted."""
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, DESIGN_ROLES, "closing a campaign")
            campaign = self._campaign(session, campaign_id, lock=True)
            campaign.status = "closed"
            self._audit(session, actor, "close", campaign_id)

    def visible_campaigns(self, user: User) -> pd.DataFrame:
        """The campaigns ``user`` may see, newest first.

        Analysts and admins see every campaign (drafts too); province managers
        every released or closed one; branch roles those whose newest released
        version has rows in their scope.  Columns: ``campaign_id, name,
        product, owner, status, created_at, version, released_at, member_count``.
        """
        with self._session() as session:
            actor = self._actor(session, user)
            newest = (
                select(CampaignVersion.campaign_id, func.max(CampaignVersion.version).label("version"))
                .where(CampaignVersion.released_at.is_not(None))
                .group_by(CampaignVersion.campaign_id).subquery()
            )
            v = CampaignVersion
            query = (
                select(Campaign.id.label("campaign_id"), Campaign.name, Campaign.product, Campaign.owner,
                       Campaign.status, Campaign.created_at, v.version, v.released_at, v.member_count)
                .outerjoin(newest, newest.c.campaign_id == Campaign.id)
                .outerjoin(v, and_(v.campaign_id == Campaign.id, v.version == newest.c.version))
                .order_by(Campaign.id.desc())
            )
            if actor.role not in DESIGN_ROLES:
                query = query.where(Campaign.status != "draft")
            if not sees_all_members(actor):
                in_scope = select(CampaignMember.id).where(
                    CampaignMember.campaign_version_id == v.id, self._member_scope(actor),
                    CampaignMember.group == "target",
                ).exists()
                query = query.where(in_scope)
            return _frame(session.execute(query))

    def versions(self, user: User, campaign_id: int) -> pd.DataFrame:
        """Every version of a campaign (analyst / admin / province manager): version, hash, release, size."""
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PROVINCE_ROLES, "listing campaign versions")
            self._campaign(session, campaign_id)
            v = CampaignVersion
            return _frame(session.execute(
                select(v.id.label("version_id"), v.version, v.spec_hash, v.member_count, v.created_at,
                       v.released_at, v.released_by).where(v.campaign_id == campaign_id).order_by(v.version)
            ))

    def spec(self, user: User, campaign_id: int, version: int | None = None) -> dict:
        """The plan of a released version (default: the newest); anyone who sees the campaign."""
        with self._session() as session:
            actor = self._actor(session, user)
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            if not sees_all_members(actor):
                in_scope = session.execute(select(CampaignMember.id).where(
                    CampaignMember.campaign_version_id == found.id, self._member_scope(actor)).limit(1)).first()
                if in_scope is None:
                    raise AccessDenied(f"campaign {campaign_id} has no rows for user {actor.name!r}")
            return dict(found.spec)

    # ------------------------------------------------------------ member lists
    def _contact_summary(self, campaign_id: int):
        """Per subscriber, over every version of the campaign: contacts, last result id, reached, accepted."""
        m, v, r = CampaignMember, CampaignVersion, ContactResult
        return (
            select(
                m.subscriber_id.label("subscriber_id"),
                func.count(r.id).label("contacts"),
                func.max(r.id).label("last_id"),
                func.max(case((r.result != "not_reachable", 1), else_=0)).label("reached"),
                func.max(case((r.result == "accepted", 1), else_=0)).label("accepted"),
            )
            .join(m, r.member_id == m.id)
            .join(v, m.campaign_version_id == v.id)
            .where(v.campaign_id == campaign_id)
            .group_by(m.subscriber_id)
            .subquery("contacts")
        )

    def _list_query(self, actor: User, campaign_id: int, version: CampaignVersion, *, branch_id=None,
                    executor=None, channel=None, include_control=False):
        m = CampaignMember
        summary = self._contact_summary(campaign_id)
        last = ContactResult.__table__.alias("last_result")
        query = (
            select(
                m.id.label("member_id"), literal(campaign_id).label("campaign_id"),
                literal(version.version).label("version"), *[getattr(m, c) for c in MEMBER_COLUMNS],
                func.coalesce(summary.c.contacts, 0).label("contacts"),
                last.c.result.label("last_result"), last.c.contacted_at.label("last_contacted_at"),
            )
            .outerjoin(summary, summary.c.subscriber_id == m.subscriber_id)
            .outerjoin(last, last.c.id == summary.c.last_id)
            .where(m.campaign_version_id == version.id, self._member_scope(actor))
            .order_by(m.branch_id, m.executor, m.score.desc(), m.id)
        )
        if not include_control:
            query = query.where(m.group == "target")
        for col, value in ((m.branch_id, branch_id), (m.executor, executor), (m.channel, channel)):
            if value is not None:
                query = query.where(col == value)
        return query

    def worklist(self, user: User, campaign_id: int, *, version: int | None = None, branch_id: str | None = None,
                 executor: str | None = None, channel: str | None = None,
                 include_control: bool = False) -> pd.DataFrame:
        """The rows of a campaign ``user`` may work, with each subscriber's contact state.

        Executors get the rows assigned to them, branch managers their branch,
        province roles everything.  The filters narrow further; they never widen.
        Control-group rows (not to be contacted) are left out unless
        ``include_control`` (province roles only).  Contacts recorded under an
        earlier version count for the same subscriber.

        Returns
        -------
        DataFrame
            Columns :data:`WORKLIST_COLUMNS`.
        """
        with self._session() as session:
            actor = self._actor(session, user)
            if include_control:
                require_role(actor, PROVINCE_ROLES, "listing control-group members")
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            query = self._list_query(actor, campaign_id, found, branch_id=branch_id, executor=executor,
                                     channel=channel, include_control=include_control)
            return _frame(session.execute(query), WORKLIST_COLUMNS)

    def export_list(self, user: User, campaign_id: int, *, version: int | None = None,
                    branch_id: str | None = None, executor: str | None = None, channel: str | None = None,
                    purpose: str = "") -> pd.DataFrame:
        """The same rows as :meth:`worklist`, for leaving the system (a file, a dialler); audit-logged.

        The audit entry (action ``export``) records the filters, the purpose
        and the number of rows, in the same transaction as the read.
        """
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            query = self._list_query(actor, campaign_id, found, branch_id=branch_id, executor=executor,
                                     channel=channel)
            frame = _frame(session.execute(query), WORKLIST_COLUMNS)
            self._audit(session, actor, "export", campaign_id, version=found.version, rows=len(frame),
                        branch_id=branch_id, executor=executor, channel=channel, purpose=purpose)
            return frame

    # ----------------------------------------------------------------- results
    def record_result(self, user: User, member_id: int, result: str, note: str = "",
                      contacted_at: dt.datetime | None = None, client_request_id: str | None = None
                      ) -> RecordedResult:
        """Record one contact attempt; idempotent on ``client_request_id``.

        Parameters
        ----------
        user : User
            The acting user: an executor (own rows and own branch), a branch
            manager (own branch) or an admin.
        member_id : int
            ``member_id`` of a worklist row.
        result : str
            One of :data:`workbench.store.models.CONTACT_RESULTS`.
        note : str
            Free text, at most :data:`MAX_NOTE_LENGTH` characters.
        contacted_at : datetime, optional
            When the contact happened (naive = UTC); default now.  Not in the future.
        client_request_id : str, optional
            Made once per submitted form by the app; sending the same id again
            (a retry after a timeout) returns the first result instead of a
            duplicate.  Default: a fresh UUID (no retry protection).

        Returns
        -------
        RecordedResult
            ``created=False`` when the request had been recorded before.

        Raises
        ------
        AccessDenied
            When the row is outside the user's scope (even if the id is valid),
            or the role does not record results.
        ParameterError
            Bad result / note / time, a control-group row, a closed campaign, or
            a ``client_request_id`` already used for another member.
        """
        if result not in CONTACT_RESULTS:
            raise ParameterError.invalid("result", f"one of {list(CONTACT_RESULTS)}", result)
        if not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH:
            raise ParameterError.invalid("note", f"a string of at most {MAX_NOTE_LENGTH} characters",
                                         note if not isinstance(note, str) else f"{len(note)} characters")
        now = utcnow()
        if contacted_at is None:
            contacted_at = now
        if not isinstance(contacted_at, dt.datetime):
            raise ParameterError.invalid("contacted_at", "a datetime", contacted_at)
        if contacted_at.tzinfo is None:
            contacted_at = contacted_at.replace(tzinfo=dt.timezone.utc)
        if contacted_at > now + CLOCK_SKEW:
            raise ParameterError.invalid("contacted_at", "not in the future", contacted_at.isoformat())
        request_id = str(client_request_id) if client_request_id is not None else uuid.uuid4().hex
        if not request_id or len(request_id) > 64:
            raise ParameterError.invalid("client_request_id", "1 to 64 characters", client_request_id)
        try:
            return self._record(user, int(member_id), result, note, contacted_at, request_id)
        except IntegrityError:
            # a concurrent retry with the same client_request_id won the race
            previous = self._previous_request(request_id, int(member_id))
            if previous is None:
                raise
            return previous

    def _previous_request(self, request_id: str, member_id: int) -> RecordedResult | None:
        with self._session() as session:
            row = session.execute(
                select(ContactResult.id, ContactResult.member_id).where(ContactResult.client_request_id == request_id)
            ).first()
        if row is None:
            return None
        if row.member_id != member_id:
            raise ParameterError(
                f"The 'client_request_id' {request_id!r} was already used for member {row.member_id}; "
                f"got it again for member {member_id}. Make a new id for each submitted form."
            )
        return RecordedResult(row.id, member_id, created=False)

    def _record(self, user: User, member_id: int, result: str, note: str, contacted_at: dt.datetime,
                request_id: str) -> RecordedResult:
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, RESULT_WRITERS, "recording a contact result")
            row = session.execute(
                select(CampaignMember.branch_id, CampaignMember.executor, CampaignMember.group,
                       CampaignVersion.campaign_id, CampaignVersion.released_at, Campaign.status)
                .join(CampaignVersion, CampaignMember.campaign_version_id == CampaignVersion.id)
                .join(Campaign, CampaignVersion.campaign_id == Campaign.id)
                .where(CampaignMember.id == member_id)
            ).first()
            if row is None or not can_write_member(actor, row.branch_id, row.executor):
                if row is None and actor.role == "admin":
                    raise ParameterError(f"The 'member_id' parameter names no campaign member. Got {member_id}.")
                raise AccessDenied(
                    f"member {member_id} is not in the scope of user {actor.name!r} "
                    f"(role {actor.role!r}, branch {actor.branch_id!r})"
                )
            previous = session.execute(
                select(ContactResult.id, ContactResult.member_id).where(ContactResult.client_request_id == request_id)
            ).first()
            if previous is not None:
                if previous.member_id != member_id:
                    raise ParameterError(
                        f"The 'client_request_id' {request_id!r} was already used for member {previous.member_id}; "
                        f"got it again for member {member_id}. Make a new id for each submitted form."
                    )
                return RecordedResult(previous.id, member_id, created=False)
            if row.released_at is None:
                raise ParameterError(f"member {member_id} belongs to an unreleased version; release it first")
            if row.status == "closed":
                raise ParameterError(f"campaign {row.campaign_id} is closed; results are no longer accepted")
            if row.group != "target":
                raise ParameterError(
                    f"member {member_id} is in the {row.group!r} group, which must not be contacted"
                )
            entry = ContactResult(member_id=member_id, executor=actor.name, result=result, note=note,
                                  contacted_at=contacted_at, recorded_at=utcnow(), client_request_id=request_id)
            session.add(entry)
            session.flush()
            self._audit(session, actor, "record_result", row.campaign_id, member_id=member_id, result=result,
                        result_id=entry.id, client_request_id=request_id)
            return RecordedResult(entry.id, member_id, created=True)

    def record_results(self, user: User, frame: pd.DataFrame) -> pd.DataFrame:
        """Record many contact attempts in one transaction; idempotent on ``client_request_id``.

        The bulk path for a dialler's log, a file of results from a branch, or a
        simulated execution: every row is checked as :meth:`record_result`
        checks one, then all new rows are written together with **one** audit
        row (action ``record_results``) summarising the batch.  Nothing is
        written when any row is refused.

        Parameters
        ----------
        user : User
            The acting user: an executor (own rows and rows of own branch, only
            on their own behalf), a branch manager (rows of own branch) or an
            admin (any row).
        frame : pandas.DataFrame
            One row per contact attempt, columns :data:`RESULT_BATCH_COLUMNS`:

            ``member_id`` (required)
                ``member_id`` of a worklist row (target group of a released,
                open campaign).
            ``result`` (required)
                One of :data:`workbench.store.models.CONTACT_RESULTS`.
            ``contacted_at``
                When the contact happened (naive = UTC; empty = now); not in the future.
            ``note``
                Free text, at most :data:`MAX_NOTE_LENGTH` characters (empty = "").
            ``client_request_id``
                1 to 64 characters, unique within the batch; a row whose id
                was recorded before for the same member is not written again
                (a retried upload).  Empty: a fresh UUID (no retry protection).
            ``executor``
                Who made the contact, recorded on their behalf (empty: the acting user).

            Other columns are ignored.

        Returns
        -------
        pandas.DataFrame
            Aligned with ``frame``'s rows, columns :data:`RECORDED_BATCH_COLUMNS`:
            ``member_id``, ``client_request_id``, ``result_id`` (the stored row)
            and ``created`` (False for a row recorded before).

        Raises
        ------
        DataValidationError
            Listing every failed check of the rows (lazy): a member id that is
            not an integer, an unknown result, a note too long, a time that is
            not a time or lies in the future, a request id repeated in the
            batch or too long, an executor name too long.
        AccessDenied
            When the role does not record results, an executor records on
            someone else's behalf, or any row is outside the user's scope (even
            if the id is valid).
        ParameterError
            A member id that names no member (admins; others get AccessDenied),
            a control-group row, an unreleased version, a closed campaign, or a
            ``client_request_id`` already used for another member.

        Examples
        --------
        >>> batch = pd.DataFrame({"member_id": [11, 12], "result": ["reached", "not_reachable"],
        ...                       "contacted_at": pd.to_datetime(["2026-11-03 02:00", "2026-11-03 02:05"]),
        ...                       "client_request_id": ["dialler-1", "dialler-2"], "executor": "ex_u1"})
        >>> store.record_results(manager, batch)["created"].tolist()   # doctest: +SKIP
        [True, True]
        """
        rows = _validate_results(frame, utcnow())
        for attempt in range(_BATCH_ATTEMPTS):
            try:
                return self._record_many(user, rows)
            except IntegrityError:
                # a concurrent upload stored some of the same request ids first: the next pass skips them
                if attempt == _BATCH_ATTEMPTS - 1:
                    raise

    def _record_many(self, user: User, rows: pd.DataFrame) -> pd.DataFrame:
        from tqdm.auto import tqdm

        m, v, c, r = CampaignMember, CampaignVersion, Campaign, ContactResult
        out = pd.DataFrame({"member_id": rows["member_id"], "client_request_id": rows["client_request_id"],
                            "result_id": pd.array([pd.NA] * len(rows), dtype="Int64"), "created": False})
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, RESULT_WRITERS, "recording contact results")
            rows = rows.assign(executor=rows["executor"].where(rows["executor"].notna(), actor.name))
            if not len(rows):
                return out[list(RECORDED_BATCH_COLUMNS)]
            if actor.role == "executor":
                others = rows["executor"] != actor.name
                if others.any():
                    raise AccessDenied(
                        f"user {actor.name!r} (role 'executor') records results only on their own behalf; "
                        f"{int(others.sum())} rows name other executors, e.g. "
                        f"{sorted(rows.loc[others, 'executor'].unique().tolist())[:5]}"
                    )
            ids = np.unique(rows["member_id"].to_numpy(np.int64))
            chunks = [ids[i:i + _IN_CHUNK] for i in range(0, len(ids), _IN_CHUNK)]
            bar = tqdm(chunks, desc="contact results: members", unit="chunk",
                       disable=not self.show_progress or len(chunks) < 2)
            lookup = (select(m.id.label("member_id"), m.branch_id, m.executor.label("assigned"), m.group,
                             v.campaign_id, v.released_at, c.status)
                      .join(v, m.campaign_version_id == v.id).join(c, v.campaign_id == c.id))
            parts = []
            for chunk in bar:
                lo, hi = int(chunk[0]), int(chunk[-1])
                if hi - lo < 4 * len(chunk):   # a list's ids are dense: a range scan beats a long IN list
                    part = _frame(session.execute(lookup.where(m.id.between(lo, hi))))
                    part = part[part["member_id"].isin(chunk)] if len(part) else part
                else:
                    part = _frame(session.execute(lookup.where(m.id.in_(chunk.tolist()))))
                parts.append(part)
            known = pd.concat(parts, ignore_index=True).set_index("member_id")
            absent = np.setdiff1d(ids, known.index.to_numpy(np.int64))
            if len(absent):
                if actor.role == "admin":
                    raise ParameterError(
                        f"The 'member_id' column names {len(absent)} members that do not exist, e.g. "
                        f"{absent[:5].tolist()}."
                    )
                raise AccessDenied(f"{len(absent)} members, e.g. {absent[:5].tolist()}, are not in the scope of user "
                                   f"{actor.name!r} (role {actor.role!r}, branch {actor.branch_id!r})")
            branch = known["branch_id"].to_dict()
            assigned = known["assigned"].to_dict()
            allowed = {int(i): can_write_member(actor, branch[i], assigned[i]) for i in ids.tolist()}
            outside = [i for i, ok in allowed.items() if not ok]
            if outside:
                raise AccessDenied(
                    f"{len(outside)} members, e.g. {outside[:5]}, are not in the scope of user {actor.name!r} "
                    f"(role {actor.role!r}, branch {actor.branch_id!r})"
                )

            # idempotency: request ids stored before
            requests = rows["client_request_id"].tolist()
            previous = {}
            for i in range(0, len(requests), _IN_CHUNK):
                found = session.execute(
                    select(r.client_request_id, r.id, r.member_id)
                    .where(r.client_request_id.in_(requests[i:i + _IN_CHUNK]))
                ).all()
                previous.update({row.client_request_id: (row.id, row.member_id) for row in found})
            stored = pd.Series(np.fromiter((q in previous for q in requests), bool, len(requests)), index=rows.index)
            if stored.any():
                prev_member = rows.loc[stored, "client_request_id"].map(lambda q: previous[q][1])
                clash = prev_member.to_numpy(np.int64) != rows.loc[stored, "member_id"].to_numpy(np.int64)
                if clash.any():
                    first = rows.loc[stored].iloc[int(np.flatnonzero(clash)[0])]
                    raise ParameterError(
                        f"The 'client_request_id' {first['client_request_id']!r} was already used for member "
                        f"{previous[first['client_request_id']][1]}; got it again for member {first['member_id']} "
                        f"({int(clash.sum())} such rows). Make a new id for each contact."
                    )
                out.loc[stored, "result_id"] = rows.loc[stored, "client_request_id"].map(
                    lambda q: previous[q][0]).astype("int64")

            new = rows[~stored]
            state = known.loc[new["member_id"].to_numpy(np.int64)]
            for mask, message in (
                (state["released_at"].isna(), "belong to an unreleased version; release it first"),
                (state["status"] == "closed", "belong to a closed campaign; results are no longer accepted"),
                (state["group"] != "target", "are in the 'control' group, which must not be contacted"),
            ):
                mask = mask.to_numpy(bool)
                if mask.any():
                    who = np.unique(new["member_id"].to_numpy(np.int64)[mask])
                    raise ParameterError(f"{len(who)} members, e.g. {who[:5].tolist()}, {message}")

            campaigns = sorted(int(x) for x in pd.unique(known.loc[ids, "campaign_id"]))
            if len(new):
                recorded_at = utcnow()
                values = [
                    {"member_id": int(mid), "executor": ex, "result": res, "note": note,
                     "contacted_at": at, "recorded_at": recorded_at, "client_request_id": req}
                    for mid, ex, res, note, at, req in zip(
                        new["member_id"].tolist(), new["executor"].tolist(), new["result"].tolist(),
                        new["note"].tolist(), new["contacted_at"].dt.to_pydatetime().tolist(),
                        new["client_request_id"].tolist())
                ]
                table = r.__table__
                statement = insert(table).returning(table.c.id, table.c.client_request_id)
                step = self.chunk_size
                starts = range(0, len(values), step)
                bar = tqdm(starts, desc="contact results", unit="chunk",
                           disable=not self.show_progress or len(starts) < 2)
                made = {}
                for start in bar:
                    made.update({row.client_request_id: row.id
                                 for row in session.execute(statement, values[start:start + step])})
                fresh = ~stored
                out.loc[fresh, "result_id"] = rows.loc[fresh, "client_request_id"].map(made).astype("int64")
                out.loc[fresh, "created"] = True
            counts = new["result"].value_counts()
            executors = sorted(new["executor"].unique().tolist())
            self._audit(
                session, actor, "record_results", campaigns[0] if len(campaigns) == 1 else None,
                rows=len(rows), created=int(len(new)), already_stored=int(stored.sum()),
                campaigns=campaigns, members=int(new["member_id"].nunique()),
                results={k: int(counts.get(k, 0)) for k in CONTACT_RESULTS if counts.get(k, 0)},
                executors=executors[:50], executor_count=len(executors),
                contacted_from=new["contacted_at"].min().isoformat() if len(new) else None,
                contacted_to=new["contacted_at"].max().isoformat() if len(new) else None,
            )
        out["created"] = out["created"].astype(bool)
        return out[list(RECORDED_BATCH_COLUMNS)]

    def contact_results(self, user: User, campaign_id: int) -> pd.DataFrame:
        """Every recorded contact of a campaign (all versions) within ``user``'s scope."""
        with self._session() as session:
            actor = self._actor(session, user)
            self._campaign(session, campaign_id)
            m, r, v = CampaignMember, ContactResult, CampaignVersion
            query = (
                select(r.id.label("result_id"), r.member_id, v.version, m.subscriber_id, m.branch_id, m.channel,
                       r.executor, r.result, r.note, r.contacted_at, r.recorded_at, r.client_request_id)
                .join(m, r.member_id == m.id).join(v, m.campaign_version_id == v.id)
                .where(v.campaign_id == campaign_id, self._member_scope(actor))
                .order_by(r.id)
            )
            return _frame(session.execute(query))

    def progress(self, user: User, campaign_id: int, *, version: int | None = None) -> pd.DataFrame:
        """Execution progress of the target group, recomputed from the store.

        For the rows in ``user``'s scope: members, contacted (at least one
        attempt recorded), reached (some answer other than ``not_reachable``),
        accepted (an ``accepted`` result), and their shares of members — in
        total and by branch, channel and executor.

        Returns
        -------
        DataFrame
            Columns :data:`PROGRESS_COLUMNS`; ``dimension`` is one of
            ``total, branch, channel, executor``.
        """
        with self._session() as session:
            actor = self._actor(session, user)
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            m = CampaignMember
            summary = self._contact_summary(campaign_id)
            query = (
                select(m.branch_id.label("branch"), m.channel.label("channel"), m.executor.label("executor"),
                       func.count(m.id).label("members"), func.count(summary.c.subscriber_id).label("contacted"),
                       func.coalesce(func.sum(summary.c.reached), 0).label("reached"),
                       func.coalesce(func.sum(summary.c.accepted), 0).label("accepted"))
                .outerjoin(summary, summary.c.subscriber_id == m.subscriber_id)
                .where(m.campaign_version_id == found.id, m.group == "target", self._member_scope(actor))
                .group_by(m.branch_id, m.channel, m.executor)
            )
            cells = _frame(session.execute(query))
        counts = ["members", "contacted", "reached", "accepted"]
        cells[counts] = cells[counts].astype("int64")
        parts = [pd.DataFrame({"dimension": ["total"], "key": ["total"],
                               **{c: [int(cells[c].sum())] for c in counts}})]
        for dimension in ("branch", "channel", "executor"):
            part = cells.groupby(dimension, dropna=False, sort=True)[counts].sum().reset_index()
            part = part.rename(columns={dimension: "key"})
            part.insert(0, "dimension", dimension)
            parts.append(part)
        out = pd.concat(parts, ignore_index=True)
        out["key"] = out["key"].astype(object).where(out["key"].notna(), None)
        members = out["members"].where(out["members"] > 0)
        for c in ("contacted", "reached", "accepted"):
            out[f"{c}_rate"] = (out[c] / members).astype("float64").fillna(0.0)
        return out[list(PROGRESS_COLUMNS)]

    def branch_totals(self, user: User, campaign_id: int, *, branch_id: str | None = None,
                      version: int | None = None) -> pd.DataFrame:
        """Totals of one branch's target group: members, contacted, reached, accepted and their shares.

        Aggregates only - no member rows and no executor's figures - so an
        executor may compare their own progress with the branch's.  Branch
        roles get their own branch whatever ``branch_id`` says (another branch
        is refused and the refusal is written to the audit log); province roles
        name the branch.  Counted like :meth:`progress` (contacts under earlier
        versions count for the same subscriber).

        Parameters
        ----------
        user : User
            The signed-in user.
        campaign_id : int
            The campaign; branch roles must have rows in it.
        branch_id : str, optional
            The branch (default: the user's own; required for province roles).
        version : int, optional
            Released version (default: the newest).

        Returns
        -------
        DataFrame
            One row, columns :data:`BRANCH_TOTALS_COLUMNS`.

        Raises
        ------
        AccessDenied
            Another branch asked for by a branch role (audit action
            ``branch_totals_refused``), or a campaign without rows in the user's scope.
        ParameterError
            Unknown campaign, version or branch code; no branch named by a province role.
        """
        denied: AccessDenied | None = None
        with self._session() as session:
            actor = self._actor(session, user)
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            try:
                branch = totals_branch(actor, branch_id)
            except AccessDenied as exc:
                denied = exc
            else:
                m = CampaignMember
                if not sees_all_members(actor) and session.execute(select(m.id).where(
                        m.campaign_version_id == found.id, self._member_scope(actor)).limit(1)).first() is None:
                    raise AccessDenied(f"campaign {campaign_id} has no rows for user {actor.name!r}")
                summary = self._contact_summary(campaign_id)
                row = session.execute(
                    select(func.count(m.id).label("members"), func.count(summary.c.subscriber_id).label("contacted"),
                           func.coalesce(func.sum(summary.c.reached), 0).label("reached"),
                           func.coalesce(func.sum(summary.c.accepted), 0).label("accepted"))
                    .outerjoin(summary, summary.c.subscriber_id == m.subscriber_id)
                    .where(m.campaign_version_id == found.id, m.group == "target", m.branch_id == branch)
                ).one()
        if denied is not None:
            with self._session(write=True) as session:
                self._audit(session, actor, "branch_totals_refused", campaign_id, branch_id=branch_id)
            raise denied
        counts = {c: int(getattr(row, c)) for c in ("members", "contacted", "reached", "accepted")}
        rates = {f"{c}_rate": (counts[c] / counts["members"] if counts["members"] else 0.0)
                 for c in ("contacted", "reached", "accepted")}
        return pd.DataFrame([{"branch": branch, **counts, **rates}], columns=list(BRANCH_TOTALS_COLUMNS))

    # --------------------------------------------------------------- responses
    def record_responses(self, user: User, campaign_id: int, responses: pd.DataFrame, *,
                         version: int | None = None) -> int:
        """Store the orders observed after a campaign (analyst / admin); returns rows written.

        ``responses`` has ``subscriber_id, order_date, product`` and optionally
        ``stable`` (kept the product for the defined period; empty = not known yet).
        """
        if not isinstance(responses, pd.DataFrame):
            raise ParameterError.invalid("responses", "a pandas DataFrame", type(responses).__name__)
        missing = [c for c in _RESPONSE_COLUMNS[:3] if c not in responses.columns]
        if missing:
            raise ParameterError(f"The 'responses' table must have the columns {list(_RESPONSE_COLUMNS[:3])}; "
                                 f"missing {missing}. Got columns {list(responses.columns)}.")
        dates = pd.to_datetime(responses["order_date"], errors="coerce")
        sid = pd.to_numeric(responses[SUBSCRIBER_ID], errors="coerce")
        bad = sid.isna() | dates.isna() | responses["product"].isna()
        if bad.any():
            raise DataValidationError(
                f"responses: {int(bad.sum())} rows lack a subscriber_id, order_date or product",
                [{"table": "responses", "column": "*", "check": "not null", "count": int(bad.sum()),
                  "examples": responses[bad].head(5).to_dict("records")}],
            )
        stable = responses["stable"] if "stable" in responses.columns else pd.Series(None, index=responses.index)
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, DESIGN_ROLES, "recording responses")
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            rows = [
                {"campaign_version_id": found.id, "subscriber_id": int(s), "order_date": d.date(),
                 "product": str(p), "stable": None if pd.isna(st) else bool(st)}
                for s, d, p, st in zip(sid.tolist(), dates, responses["product"].tolist(), stable.tolist())
            ]
            if rows:
                session.execute(insert(Response), rows)
            self._audit(session, actor, "record_responses", campaign_id, version=found.version, rows=len(rows))
            return len(rows)

    def responses(self, user: User, campaign_id: int) -> pd.DataFrame:
        """Recorded responses of every version of a campaign (province roles)."""
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PROVINCE_ROLES, "reading responses")
            self._campaign(session, campaign_id)
            r, v = Response, CampaignVersion
            return _frame(session.execute(
                select(v.version, r.subscriber_id, r.order_date, r.product, r.stable)
                .join(v, r.campaign_version_id == v.id).where(v.campaign_id == campaign_id)
                .order_by(v.version, r.subscriber_id, r.order_date)
            ))

    # -------------------------------------------------------------------- audit
    def audit_log(self, user: User, *, campaign_id: int | None = None, action: str | None = None,
                  user_name: str | None = None, limit: int = 1000) -> pd.DataFrame:
        """The newest audit entries, filtered (province roles).

        Columns: ``at, user_name, action, campaign_id, details``.
        """
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PROVINCE_ROLES, "reading the audit log")
            a = AuditEntry
            query = select(a.id, a.at, a.user_name, a.action, a.campaign_id, a.details).order_by(a.id.desc())
            for col, value in ((a.campaign_id, campaign_id), (a.action, action), (a.user_name, user_name)):
                if value is not None:
                    query = query.where(col == value)
            return _frame(session.execute(query.limit(int(limit))))
