"""Widget builders shared by the apps (each returns a widget; the notebook displays it)."""
from __future__ import annotations

import html
import os

from workbench.data.tables import branch_name
from workbench.i18n import get_language, labels_for, t
from workbench.store.access import User

__all__ = ["whoami_panel", "portal_link", "sign_out_link", "branch_label", "role_label"]


def branch_label(branch_id: str | None, lang: str | None = None) -> str:
    """The branch's name in ``lang`` (the whole province for None)."""
    lang = lang or get_language()
    if not branch_id:
        return t("apps.whoami.no_branch", lang=lang)
    return branch_name(branch_id, lang)


def role_label(role: str, lang: str | None = None) -> str:
    """The role's name in ``lang``."""
    return labels_for("store.role", lang).get(role, role)


def portal_link(lang: str | None = None) -> str:
    """HTML of a link back to the portal, the server's ``/`` that lists the user's apps (id ``wb-portal``)."""
    base = os.environ.get("VOILA_BASE_URL", "/")  # set by Voila in each app's kernel
    href = base.rstrip("/") + "/"
    label = html.escape(t("apps.portal.link", lang=lang))
    return f'<a id="wb-portal" class="wb-portal-link" href="{html.escape(href)}" target="_top">{label}</a>'


def sign_out_link(lang: str | None = None) -> str:
    """HTML of a "sign out" link to the server's ``/logout`` (id ``wb-logout``)."""
    base = os.environ.get("VOILA_BASE_URL", "/")  # set by Voila in each app's kernel
    href = base.rstrip("/") + "/logout"
    label = html.escape(t("apps.logout.link", lang=lang))
    return f'<a id="wb-logout" href="{html.escape(href)}" target="_top">{label}</a>'


def whoami_panel(user: User, lang: str | None = None):
    """A card naming the signed-in user: name, display name, role and branch.

    Each value sits in an element with ``data-field`` set to ``name``,
    ``display_name``, ``role`` (the role code is in ``data-code``) or ``branch``,
    inside an element of class ``wb-whoami``, so browser tests can read them.

    Returns
    -------
    ipywidgets.HTML
    """
    import ipywidgets as widgets

    lang = lang or get_language()
    labels = labels_for("apps.whoami", lang)
    rows = [
        ("name", labels["name"], user.name, user.name),
        ("display_name", labels["display_name"], user.display_name or user.name, ""),
        ("role", labels["role"], role_label(user.role, lang), user.role),
        ("branch", labels["branch"], branch_label(user.branch_id, lang), user.branch_id or ""),
    ]
    cells = "".join(
        f'<dt style="color:#616e7c">{html.escape(label)}</dt>'
        f'<dd data-field="{field}" data-code="{html.escape(code)}" style="margin:0 0 .6em 0;font-size:1.1em">'
        f"{html.escape(str(value))}</dd>"
        for field, label, value, code in rows
    )
    body = (f'<div class="wb-whoami"><h2 style="margin-top:0">{html.escape(labels["title"])}</h2>'
            f"<dl>{cells}</dl><p>{portal_link(lang)} · {sign_out_link(lang)}</p></div>")
    panel = widgets.HTML(value=body)
    panel.add_class("wb-whoami-widget")
    return panel
