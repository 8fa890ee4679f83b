"""Campaigns and their versions: drafts, releases, new versions, closing, what each role sees.

A released version (its plan as canonical JSON with a SHA-256, and its list)
never changes; a changed plan is the campaign's next version.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, func, insert, literal, select

from workbench.errors import AccessDenied, ParameterError
from workbench.store.access import (
    DESIGN_ROLES, PROVINCE_ROLES, User, member_scope, require_role, sees_all_members, sees_drafts,
)
from workbench.store.core import StoreCore, _frame
from workbench.store.members import _member_rows, validate_members
from workbench.store.models import (
    MEMBER_COLUMNS, Campaign, CampaignMember, CampaignVersion, StoreSession, utcnow,
)

__all__ = ["StoreCampaigns", "Release", "spec_hash"]


@dataclass(frozen=True)
class Release:
    """What :meth:`Store.release_campaign` and :meth:`Store.new_version` released."""

    campaign_id: int
    version: int
    version_id: int
    member_count: int
    spec_hash: str


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


class StoreCampaigns(StoreCore):
    """Campaigns and versions (part of :class:`workbench.store.Store`)."""

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
            campaign, _ = self._open_draft(session, actor, campaign_id, name, product, spec_json, digest)
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

    def _open_draft(self, session: StoreSession, actor: User, campaign_id: int | None, name: str, product: str,
                    spec_json: dict, digest: str) -> tuple[Campaign, CampaignVersion]:
        """The draft a plan goes into: a new campaign with version 1, or the unreleased version of ``campaign_id``.

        The version gets the plan and its hash (and no members yet); an
        existing draft's campaign gets ``name`` and ``product``.
        """
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
        return campaign, version

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
            campaign, version = self._open_draft(session, actor, campaign_id, name, product, spec_json, digest)
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
            if not sees_drafts(actor):
                query = query.where(Campaign.status != "draft")
            if not sees_all_members(actor):
                in_scope = select(CampaignMember.id).where(
                    CampaignMember.campaign_version_id == v.id, member_scope(actor),
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
                    CampaignMember.campaign_version_id == found.id, member_scope(actor)).limit(1)).first()
                if in_scope is None:
                    raise AccessDenied(f"campaign {campaign_id} has no rows for user {actor.name!r}")
            return dict(found.spec)
