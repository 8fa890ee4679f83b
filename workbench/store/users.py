"""Users and sign-in: adding, (de)activating, passwords, own language, listing, authenticating.

Only argon2 hashes are stored (:mod:`workbench.store.passwords`); every change
and every sign-in, failed or not, is audit-logged.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from workbench.checks import check_choice
from workbench.errors import ParameterError
from workbench.store.access import SYSTEM_USER, USER_ADMINS, USER_READERS, User, require_role, user_scope
from workbench.store.core import StoreCore, _frame
from workbench.store.models import UserRecord, utcnow

__all__ = ["StoreUsers"]


class StoreUsers(StoreCore):
    """The users of the store (part of :class:`workbench.store.Store`)."""

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
            require_role(actor, USER_ADMINS, "adding a user")
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
            require_role(actor, USER_ADMINS, "activating or deactivating a user")
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
                require_role(actor, USER_ADMINS, "changing another user's password")
            row = session.execute(select(UserRecord).where(UserRecord.name == name)).scalar_one_or_none()
            if row is None:
                raise ParameterError(f"The 'name' parameter names no user. Got {name!r}.")
            row.password_hash = password_hash
            self._audit(session, actor, "set_password", name=name)

    def list_users(self, user: User) -> pd.DataFrame:
        """Users (never their hashes): all for admins and province managers, own branch for branch managers.

        Columns: ``name, display_name, role, branch_id, active, created_at, language`` (``language``:
        the user's own choice of language, None for the server's).
        """
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, USER_READERS, "listing users")
            query = select(UserRecord.name, UserRecord.display_name, UserRecord.role, UserRecord.branch_id,
                           UserRecord.active, UserRecord.created_at, UserRecord.language)
            return _frame(session.execute(query.where(user_scope(actor)).order_by(UserRecord.name)))

    def set_user_language(self, user: User, language: str | None, *, name: str | None = None) -> None:
        """Set the language a user's pages and apps speak: a user their own, an admin anyone's; audit-logged.

        Parameters
        ----------
        user : User
            The acting user.
        language : {"zh", "en"} or None
            One of :data:`workbench.i18n.LANGUAGES`; None goes back to the server's language.
        name : str, optional
            Whose language (default: the acting user's own).

        Raises
        ------
        ParameterError
            An unknown language, or ``name`` names no user.
        AccessDenied
            Setting another user's language without being an admin.
        """
        from workbench.i18n import LANGUAGES

        if language is not None:
            check_choice("language", language, LANGUAGES)
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            target = name or actor.name
            if target != actor.name:
                require_role(actor, USER_ADMINS, "changing another user's language")
            row = session.execute(select(UserRecord).where(UserRecord.name == target)).scalar_one_or_none()
            if row is None:
                raise ParameterError(f"The 'name' parameter names no user. Got {target!r}.")
            if row.language != language:
                row.language = language
                self._audit(session, actor, "set_language", name=target, language=language)

    def user_language(self, user: User) -> str | None:
        """The acting user's own language (None: they never chose one, the server's applies)."""
        with self._session() as session:
            actor = self._actor(session, user)
            return session.execute(select(UserRecord.language).where(UserRecord.name == actor.name)).scalar()

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
