"""The campaign store's tables, as SQLAlchemy declarative models.

The schema is created **only** by the Alembic migrations in
``workbench/store/migrations``; these models describe it for the ORM and for
the test that checks ``alembic autogenerate`` finds no difference.

Tables
------
``users``             who may sign in: role, branch, argon2 password hash
``campaigns``         one row per campaign: name, product, owner, status
``campaign_versions`` the plan (spec JSON + hash) of each version; a released
                      version is immutable (ORM guard and database triggers)
``campaign_members``  the released list: one row per (version, subscriber)
``contact_results``   what an executor recorded for a member (idempotent on
                      ``client_request_id``)
``responses``         orders observed after the campaign (filled by evaluation)
``audit_log``         who did what when (release, export, record_result, login ...)

Times are stored in UTC; :class:`UTCDateTime` returns timezone-aware values on
every database.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData,
    String, Text, TypeDecorator, UniqueConstraint, event, text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from workbench.data.tables import table
from workbench.errors import ImmutableVersionError  # noqa: F401 (re-exported)

__all__ = [
    "Base",
    "ROLES",
    "CAMPAIGN_STATUSES",
    "GROUPS",
    "CONTACT_RESULTS",
    "MEMBER_COLUMNS",
    "MEMBER_REQUIRED_COLUMNS",
    "SUBSCRIBER_ID",
    "BRANCH_ID",
    "UTCDateTime",
    "UserRecord",
    "Campaign",
    "CampaignVersion",
    "CampaignMember",
    "ContactResult",
    "Response",
    "AuditEntry",
    "utcnow",
    "ImmutableVersionError",
    "StoreSession",
]

# ------------------------------------------------------------------ vocabularies
#: Roles a user may have.  ``executor`` and ``branch_manager`` belong to a branch;
#: the province roles (``province_manager``, ``analyst``, ``admin``) see every branch.
ROLES: tuple[str, ...] = ("executor", "branch_manager", "province_manager", "analyst", "admin")
#: Lifecycle of a campaign.
CAMPAIGN_STATUSES: tuple[str, ...] = ("draft", "released", "closed")
#: Experiment group of a member: contacted (target) or held out (control).
GROUPS: tuple[str, ...] = ("target", "control")
#: What an executor may record for one contact attempt.
CONTACT_RESULTS: tuple[str, ...] = ("reached", "not_reachable", "refused", "accepted", "call_back")

#: Column names shared with the province data model (checked against it at import).
SUBSCRIBER_ID: str = table("subscribers").column("subscriber_id").name
BRANCH_ID: str = table("subscribers").column("branch_id").name

#: Columns of a released list (``campaign_members``) a caller supplies, in order.
MEMBER_COLUMNS: tuple[str, ...] = (
    SUBSCRIBER_ID, BRANCH_ID, "group", "score", "score_band", "channel", "executor",
    "reasons", "edition", "talking_points", "msisdn_masked",
)
#: Of :data:`MEMBER_COLUMNS`, those a list must have; the others default to empty.
MEMBER_REQUIRED_COLUMNS: tuple[str, ...] = (SUBSCRIBER_ID, BRANCH_ID, "group", "channel")

#: Constraint names follow one convention so that migrations and models agree.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    PostgreSQL keeps ``timestamptz``; SQLite stores text without a zone, so
    values are converted to UTC on the way in and tagged UTC on the way out.
    Naive datetimes passed in are taken to be UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


#: 64-bit keys; SQLite needs plain INTEGER for an auto-incrementing rowid key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base of the store; its metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserRecord(Base):
    """A person who may sign in (the ``users`` table)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint(
            "branch_id IS NOT NULL OR role NOT IN ('executor', 'branch_manager')", name="branch_role"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(32))
    branch_id: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The user's own language of the apps and pages (one of ``workbench.i18n.LANGUAGES``; None: the server's).
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)


class Campaign(Base):
    """One campaign; its plans are the rows of :class:`CampaignVersion`."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(_in("status", CAMPAIGN_STATUSES), name="status"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    product: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignVersion(Base):
    """One version of a campaign's plan.  Once ``released_at`` is set it never changes."""

    __tablename__ = "campaign_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict] = mapped_column(JSON)
    spec_hash: Mapped[str] = mapped_column(String(64))
    member_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    released_by: Mapped[str | None] = mapped_column(String(64))


class CampaignMember(Base):
    """One subscriber on a released list, with everything the executor needs."""

    __tablename__ = "campaign_members"
    __table_args__ = (
        UniqueConstraint("campaign_version_id", "subscriber_id"),
        CheckConstraint(_in('"group"', GROUPS), name="group"),
        Index(None, "campaign_version_id", "branch_id", "executor"),
        Index(None, "campaign_version_id", "executor"),  # an executor's worklist, across branches
        # the monitoring view's counts by branch, channel and executor, read from the index alone (0004)
        Index("ix_campaign_members_monitor", "campaign_version_id", "group", "branch_id", "channel", "executor",
              "subscriber_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_version_id: Mapped[int] = mapped_column(ForeignKey("campaign_versions.id"))
    subscriber_id: Mapped[int] = mapped_column(BigInteger)
    branch_id: Mapped[str] = mapped_column(String(32))
    group: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    score_band: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    executor: Mapped[str | None] = mapped_column(String(64))
    reasons: Mapped[str | None] = mapped_column(Text)
    edition: Mapped[str | None] = mapped_column(String(64))
    talking_points: Mapped[str | None] = mapped_column(Text)
    msisdn_masked: Mapped[str | None] = mapped_column(String(32))


class ContactResult(Base):
    """One contact attempt recorded by an executor."""

    __tablename__ = "contact_results"
    __table_args__ = (
        CheckConstraint(_in("result", CONTACT_RESULTS), name="result"),
        Index(None, "member_id"),
        Index(None, "executor", "contacted_at"),
        Index(None, "member_id", "contacted_at", "result"),  # first contact / acceptance per member (0004)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("campaign_members.id"))
    executor: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    contacted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_request_id: Mapped[str] = mapped_column(String(64), unique=True)
    callback_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # result call_back: when (0004)


class Response(Base):
    """An order of the campaign's product observed after the campaign (evaluation)."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("campaign_version_id", "subscriber_id", "product", "order_date", name="uq_responses_order"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_version_id: Mapped[int] = mapped_column(ForeignKey("campaign_versions.id"))
    subscriber_id: Mapped[int] = mapped_column(BigInteger)
    order_date: Mapped[dt.date] = mapped_column(Date)
    product: Mapped[str] = mapped_column(String(64))
    stable: Mapped[bool | None] = mapped_column(Boolean)


class AuditEntry(Base):
    """Who did what, when, to which campaign; written in the same transaction as the act."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index(None, "campaign_id", "at"),
        Index(None, "user_name", "at"),
        Index(None, "action", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


# ---------------------------------------------------------------- operations (issue 19, 17)
#: Kinds of published results (what operations may use).
PUBLISHED_KINDS = ("target", "preference", "credit", "trigger")
#: Life of a published version: written while ``loading``, then ``ready``; one ``current`` per kind at a time.
PUBLISHED_STATUSES = ("loading", "ready", "current", "retired", "failed")


class PublishedVersion(Base):
    """One published set of results of one kind (e.g. this month's target scores).

    Rows are written to :class:`PublishedResult` while the version is ``loading``; making
    it ``current`` (and the previous current one ``retired``) is one transaction, so a
    reader sees either the old version or the new one, never a half-written one.
    """

    __tablename__ = "published_versions"
    __table_args__ = (
        CheckConstraint(_in("kind", PUBLISHED_KINDS), name="kind"),
        CheckConstraint(_in("status", PUBLISHED_STATUSES), name="status"),
        Index(None, "kind", "status"),
        # at most one current version per kind, enforced by the database
        Index("uq_published_versions_current", "kind", unique=True,
              sqlite_where=text("status = 'current'"), postgresql_where=text("status = 'current'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(200), default="")
    model_version: Mapped[str] = mapped_column(String(64), default="")
    run_dir: Mapped[str] = mapped_column(Text, default="")
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="loading")
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PublishedResult(Base):
    """One subscriber's published card in one version: score, grade, decile, reasons, eligible offers."""

    __tablename__ = "published_results"

    version_id: Mapped[int] = mapped_column(ForeignKey("published_versions.id"), primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    msisdn_masked: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(8))
    decile: Mapped[int | None] = mapped_column(Integer)
    reasons: Mapped[str | None] = mapped_column(Text)   # JSON list of {code, text_zh, text_en}
    offers: Mapped[str | None] = mapped_column(Text)    # JSON list of product ids


class ApiToken(Base):
    """A calling system's token for the look-up API; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(64))          # "province" or "branch:<branch_id>"
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OcsRule(Base):
    """Online-charging (credit control) rule of one credit grade of one credit model version."""

    __tablename__ = "ocs_rules"
    __table_args__ = (UniqueConstraint("model_version", "grade"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64))
    grade: Mapped[str] = mapped_column(String(8))
    score_min: Mapped[float] = mapped_column(Float)
    score_max: Mapped[float] = mapped_column(Float)
    credit_limit_yuan: Mapped[float] = mapped_column(Float)
    stop_priority: Mapped[int] = mapped_column(Integer)
    exit_condition: Mapped[str] = mapped_column(Text, default="")
    promotions_excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------- sign-in (issue 15)
class AppSession(Base):
    """One sign-in to the apps; the cookie holds only its id.  Revoked rows stay until they expire."""

    __tablename__ = "app_sessions"
    __table_args__ = (Index(None, "user_name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64), default="")
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SignInThrottle(Base):
    """Failed sign-ins of one key (``account:<name>`` or ``client:<address>``) and its lock-out."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- immutability
class StoreSession(Session):
    """The ORM session of the store: refuses to flush changes to released versions."""


def _released(session: Session, version_id: int | None) -> bool:
    if version_id is None:
        return False
    with session.no_autoflush:
        version = session.get(CampaignVersion, version_id)
    return version is not None and version.released_at is not None


def _guard_released(session: Session, _flush_context, _instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, CampaignVersion) and session.is_modified(obj):
            released = sa_inspect(obj).attrs.released_at.history
            before = released.deleted[0] if released.deleted else (released.unchanged or [None])[0]
            if before is not None:
                raise ImmutableVersionError(
                    f"campaign_versions: version {obj.version} of campaign {obj.campaign_id} was released at "
                    f"{before:%Y-%m-%d %H:%M} UTC and cannot change; release a new version instead"
                )
    for obj in session.deleted:
        if isinstance(obj, CampaignVersion) and obj.released_at is not None:
            raise ImmutableVersionError(
                f"campaign_versions: version {obj.version} of campaign {obj.campaign_id} is released "
                "and cannot be deleted"
            )
    changed = [o for o in session.dirty if isinstance(o, CampaignMember) and session.is_modified(o)]
    changed += [o for o in session.deleted if isinstance(o, CampaignMember)]
    changed += [o for o in session.new if isinstance(o, CampaignMember)]
    for obj in changed:
        version_id = sa_inspect(obj).attrs.campaign_version_id.history
        ids = {*version_id.deleted, *version_id.unchanged, *version_id.added}
        if any(_released(session, v) for v in ids):
            raise ImmutableVersionError(
                f"campaign_members: subscriber {obj.subscriber_id} belongs to a released version; its list "
                "cannot change (no insert, update or delete); release a new version instead"
            )


event.listen(StoreSession, "before_flush", _guard_released)
