"""The portal: the page every user lands on after sign-in, listing the apps their role may open.

``workbench serve`` answers its root address with :class:`PortalHandler`
instead of Voila's list of notebook files.  The page (``page_templates/portal.html.j2``,
self-contained: inline style, no script, nothing fetched from off the server)
shows, in the user's language,

- who is signed in (name, role, branch), an English / Chinese switch and the
  sign-out form (a POST with the XSRF token, optionally ending every session);
- one card per campaign the user may see that has published apps: its name,
  status and period (from the store) and the apps of it the user's role may open,
  by their human names (``portal.app.<kind>``), never by file name;
- the tools every campaign shares (the hall look-up, "my account"), as allowed.

Which role opens which app is decided by :func:`workbench.store.access.can_open_app`;
:func:`served_app_for` applies it to a page request, so an app the role may not
open answers a localized 403 page and an unknown one a localized 404 page before
any kernel starts.  The language switch (:class:`LanguageHandler`) stores the
choice in the store (``users.language``): the portal, the error pages and the
apps' kernels (:func:`workbench.apps.hook.prelaunch_hook`) then speak it.
Voila's file tree (``/voila/tree``, ``/tree``) redirects here (:class:`ToPortalHandler`).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from workbench.apps.pages import ErrorPageMixin, request_language
from workbench.apps.publish import AppInfo, app_info, list_apps
from workbench.i18n import LANGUAGES, labels_for, t
from workbench.store.access import APP_ROLES, User, can_open_app

__all__ = [
    "PortalApp",
    "PortalCampaign",
    "PortalView",
    "PORTAL_TEMPLATE",
    "LANGUAGE_PATH",
    "portal_view",
    "render_portal",
    "served_app_for",
    "PortalHandler",
    "LanguageHandler",
    "ToPortalHandler",
    "portal_handlers",
    "LANGUAGE_COOKIE",
    "set_language_cookie",
]

#: The portal's page template (in the workbench's page templates folder).
PORTAL_TEMPLATE = "portal.html.j2"
#: Where the language switch posts to (under the server's base URL).
LANGUAGE_PATH = "portal/language"
#: Cookie telling an app page's own script (its connection-lost banner) the user's language; not a secret.
LANGUAGE_COOKIE = "workbench-lang"
_TEMPLATES = Path(__file__).with_name("page_templates")
#: Apps in the order of the access rules' table (the worklist first), others after them by file name.
_ORDER = {kind: i for i, kind in enumerate(APP_ROLES)}


@dataclass(frozen=True)
class PortalApp:
    """One app as the portal shows it: its kind, human name, what it is for and its address."""

    kind: str
    title: str
    hint: str
    url: str
    name: str


@dataclass(frozen=True)
class PortalCampaign:
    """One campaign card: id, name, status (code and words), period and the user's apps of it."""

    campaign_id: int
    name: str
    status: str
    status_label: str
    period: str
    apps: tuple[PortalApp, ...]


@dataclass(frozen=True)
class PortalView:
    """Everything the portal page lists for one user."""

    campaigns: tuple[PortalCampaign, ...] = ()
    tools: tuple[PortalApp, ...] = field(default_factory=tuple)

    @property
    def kinds(self) -> set[str]:
        """The kinds of app listed (campaign apps and tools)."""
        return {a.kind for c in self.campaigns for a in c.apps} | {a.kind for a in self.tools}


def _join(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _portal_app(info: AppInfo, base_url: str, lang: str) -> PortalApp:
    names, hints = labels_for("portal.app", lang), labels_for("portal.app_hint", lang)
    return PortalApp(info.app, names.get(info.app, names["other"]), hints.get(info.app, hints["other"]),
                     _join(base_url, "voila/render/" + info.name), info.name)


def _period(store, user: User, campaign_id: int, lang: str) -> str:
    """``start to end`` of the campaign's newest released plan (``goal.period_*``), ``from start``, or "not set"."""
    from workbench.errors import AccessDenied, ParameterError

    try:
        goal = (store.spec(user, campaign_id) or {}).get("goal") or {}
    except (AccessDenied, ParameterError, LookupError):
        goal = {}
    start, end = goal.get("period_start"), goal.get("period_end")
    if not start:
        return t("portal.period_unknown", lang=lang)
    if not end:
        return t("portal.period_from", lang=lang, start=str(start)[:10])
    return t("portal.period_value", lang=lang, start=str(start)[:10], end=str(end)[:10])


def portal_view(store, user: User, apps_dir, *, base_url: str = "/", lang: str = "zh") -> PortalView:
    """What the portal lists for ``user``: the served apps their role may open, grouped by campaign.

    Parameters
    ----------
    store : workbench.store.Store
        The campaign store (campaigns the user may see, their status and period).
    user : workbench.store.User
        The signed-in user.
    apps_dir : path
        The served folder of apps.
    base_url : str
        The server's base URL (the apps' addresses are under it).
    lang : {"zh", "en"}
        Language of the names.

    Returns
    -------
    PortalView
        Campaign cards (newest campaign first; a campaign the user may not see is left out,
        and so is one without an app for them) and the tools.
    """
    served = [a for a in list_apps(apps_dir) if can_open_app(user, a.app)]
    visible = store.visible_campaigns(user)
    statuses = labels_for("store.status", lang)
    campaigns = []
    for row in visible.itertuples(index=False):
        cid = int(row.campaign_id)
        apps = [a for a in served if a.campaign_id == cid]
        if not apps:
            continue
        apps.sort(key=lambda a: (_ORDER.get(a.app, len(_ORDER)), a.name))
        campaigns.append(PortalCampaign(cid, str(row.name), str(row.status), statuses.get(row.status, row.status),
                                        _period(store, user, cid, lang),
                                        tuple(_portal_app(a, base_url, lang) for a in apps)))
    tools = tuple(_portal_app(a, base_url, lang) for a in served if a.campaign_id is None)
    return PortalView(tuple(campaigns), tools)


@lru_cache(maxsize=1)
def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True)


def render_portal(view: PortalView, *, user, lang: str, base_url: str = "/", xsrf_form_html: str = "") -> str:
    """The portal page of ``view`` for ``user`` (a :class:`~workbench.apps.identity.WorkbenchUser`).

    Every word comes from the label catalogue (``portal.*``, ``apps.logout.*``, ``store.role.*``).
    """
    from workbench.apps.widgets import branch_label, role_label

    labels = labels_for("portal", lang)
    return _env().get_template(PORTAL_TEMPLATE).render(
        lang=lang, L=labels, logout=labels_for("apps.logout", lang), view=view,
        user_name=user.display_name or user.username, user_code=user.username, role=role_label(user.role, lang),
        role_code=user.role, branch=branch_label(user.branch_id, lang), languages=LANGUAGES,
        language_names={code: labels[f"language_name.{code}"] for code in LANGUAGES},
        language_action=_join(base_url, LANGUAGE_PATH), logout_action=_join(base_url, "logout"),
        home_url=base_url, xsrf_form_html=xsrf_form_html,
    )


def served_app_for(handler, path: str | None) -> AppInfo:
    """The served app a page request asks for, if the signed-in user's role may open it.

    Raises
    ------
    tornado.web.HTTPError
        404 when ``path`` is not an app of the served folder; 403 (``error_reason``
        ``app_role`` set on the handler) when the user's role may not open it.
    """
    root = Path(handler.settings["contents_manager"].root_dir)
    name = path or ""
    if (not name.endswith(".ipynb") or name.startswith(".") or "/" in name or "\\" in name
            or not (root / name).is_file()):
        raise web.HTTPError(404)
    info = app_info(root / name)
    if not can_open_app(handler.current_user.to_store_user(), info.app):
        handler.error_reason = "app_role"
        raise web.HTTPError(403, f"app {info.app!r} is not open to role {handler.current_user.role!r}")
    return info


def set_language_cookie(handler) -> None:
    """Tell the pages' scripts the request's language (:data:`LANGUAGE_COOKIE`, readable by scripts)."""
    handler.set_cookie(LANGUAGE_COOKIE, request_language(handler), path=handler.base_url, samesite="Lax",
                       expires_days=30)


class PortalHandler(ErrorPageMixin, JupyterHandler):
    """``/``: the portal of the signed-in user (sign-in first otherwise)."""

    @web.authenticated
    async def get(self) -> None:
        user = self.current_user
        lang = request_language(self)
        store = self.identity_provider.store
        root = self.settings["contents_manager"].root_dir
        view = await asyncio.get_running_loop().run_in_executor(
            None, lambda: portal_view(store, user.to_store_user(), root, base_url=self.base_url, lang=lang))
        self.set_header("Cache-Control", "no-store")
        set_language_cookie(self)
        self.finish(render_portal(view, user=user, lang=lang, base_url=self.base_url,
                                  xsrf_form_html=self.xsrf_form_html()))


class LanguageHandler(ErrorPageMixin, JupyterHandler):
    """``POST /portal/language``: the signed-in user's own language (``language`` = zh / en), XSRF-checked.

    Stored in the store (it holds on every computer and server) and audit-logged; back to the portal.
    """

    @web.authenticated
    async def post(self) -> None:
        language = self.get_body_argument("language", default="")
        if language not in LANGUAGES:
            raise web.HTTPError(400, f"language must be one of {list(LANGUAGES)}")
        provider = self.identity_provider
        user = self.current_user.to_store_user()
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: provider.store.set_user_language(user, language))
        await provider.refresh_users()  # this server's pages speak it at once
        self.log.info("language of %s set to %s", user.name, language)
        self.redirect(self.base_url, status=303)


class ToPortalHandler(JupyterHandler):
    """Voila's file tree (``/voila/tree...``, ``/tree...``): redirected to the portal."""

    @allow_unauthenticated
    def get(self, *args, **kwargs) -> None:
        self.redirect(self.base_url)


def portal_handlers(server_url: str) -> list[tuple]:
    """The portal's routes under ``server_url``: the root, the language switch and the old file-tree addresses."""
    from jupyter_server.base.handlers import path_regex
    from jupyter_server.utils import url_path_join

    return [
        (server_url, PortalHandler),
        (url_path_join(server_url, "/" + LANGUAGE_PATH), LanguageHandler),
        (url_path_join(server_url, r"/voila/tree" + path_regex), ToPortalHandler),
        (url_path_join(server_url, r"/tree" + path_regex), ToPortalHandler),
    ]
