"""The server's own pages: sign-in, signed-out and error pages that need nothing but themselves.

Jupyter Server's stock login, logout and error templates extend its
``page.html``, which asks for static files standalone Voila does not serve
(they fail with a 500).  These pages are self-contained HTML (inline style, no
scripts), rendered with autoescaping; every text comes from the label
catalogue (``apps.*`` in ``workbench/i18n/labels/apps.yaml``).
"""
from __future__ import annotations

from functools import lru_cache
from http import HTTPStatus

from workbench.i18n import LANGUAGES, get_language, labels_for

__all__ = ["render_login", "render_logout", "render_logout_form", "render_error", "request_language", "ErrorPageMixin"]

_BASE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }}</title>
<style>
  body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", system-ui, sans-serif;
         background: #f3f5f8; margin: 0; color: #1f2933; }
  main { max-width: 24rem; margin: 12vh auto; background: #fff; padding: 2rem 2.2rem;
         border-radius: 8px; box-shadow: 0 2px 12px rgba(0, 0, 0, .08); }
  h1 { font-size: 1.3rem; margin: 0 0 1.2rem; }
  label { display: block; margin: .9rem 0 .3rem; font-size: .95rem; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .55rem .6rem;
         font-size: 1rem; border: 1px solid #b8c2cc; border-radius: 4px; }
  button, .button { margin-top: 1.3rem; width: 100%; padding: .6rem; font-size: 1rem; border: 0;
         border-radius: 4px; background: #0b6bcb; color: #fff; cursor: pointer; text-align: center;
         display: block; text-decoration: none; box-sizing: border-box; }
  .error { background: #fdecea; color: #8a1c13; padding: .6rem .8rem; border-radius: 4px; }
  .hint { color: #616e7c; font-size: .85rem; margin-top: 1.2rem; }
</style>
</head>
<body><main>{% block body %}{% endblock %}</main></body>
</html>
"""

_LOGIN = """{% extends "base" %}{% block body %}
<h1>{{ L.heading }}</h1>
{% if error %}<p class="error" id="login-error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}" id="login-form" autocomplete="on">
  {{ xsrf_form_html | safe }}
  <input type="hidden" name="next" value="{{ next_url }}">
  <label for="username_input">{{ L.name }}</label>
  <input type="text" id="username_input" name="name" value="{{ name }}" autocomplete="username"
         autocapitalize="off" spellcheck="false" maxlength="{{ max_name }}" required autofocus>
  <label for="password_input">{{ L.password }}</label>
  <input type="password" id="password_input" name="password" autocomplete="current-password" required>
  <button type="submit" id="login_submit">{{ L.submit }}</button>
</form>
<p class="hint">{{ L.hint }}</p>
{% endblock %}"""

_LOGOUT = """{% extends "base" %}{% block body %}
<h1 id="logout-title">{{ L.title }}</h1>
<p id="logout-message">{{ L.message }}</p>
<a class="button" id="login-again" href="{{ login_url }}">{{ L.again }}</a>
{% endblock %}"""

_LOGOUT_FORM = """{% extends "base" %}{% block body %}
<h1 id="logout-title">{{ L.form_title }}</h1>
<form method="post" action="{{ action }}" id="logout-form">
  {{ xsrf_form_html | safe }}
  <label><input type="checkbox" name="all" value="1" id="logout-all"> {{ L.all_sessions }}</label>
  <button type="submit" id="logout_submit">{{ L.link }}</button>
</form>
<p class="hint">{{ L.form_hint }}</p>
{% endblock %}"""

_ERROR = """{% extends "base" %}{% block body %}
<h1 id="error-title">{{ title }}</h1>
<p id="error-message">{{ message }}</p>
<a class="button" href="{{ home_url }}">{{ home }}</a>
{% endblock %}"""


@lru_cache(maxsize=1)
def _env():
    import jinja2

    loader = jinja2.DictLoader({"base": _BASE, "login": _LOGIN, "logout": _LOGOUT, "logout_form": _LOGOUT_FORM,
                                 "error": _ERROR})
    return jinja2.Environment(loader=loader, autoescape=True)


def _join(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def render_login(*, next_url: str, error: str | None = None, name: str = "", base_url: str = "/",
                 xsrf_form_html: str = "", lang: str | None = None, error_args: dict | None = None) -> str:
    """The sign-in page.

    Parameters
    ----------
    next_url : str
        Where to go after signing in (already checked to be a local path).
    error : {"failed", "missing", "throttled"}, optional
        Which refusal to show; ``error_args`` fill its placeholders (``minutes`` of "throttled").
    name : str
        The user name typed before (kept in the field after a refusal).
    base_url : str
        The server's base URL.
    xsrf_form_html : str
        The hidden ``_xsrf`` field of the handler (trusted HTML).
    lang : {"zh", "en"}, optional
        Language; default the current one.
    """
    from workbench.apps.identity import MAX_NAME_LENGTH

    lang = lang or get_language()
    labels = labels_for("apps.login", lang)
    return _env().get_template("login").render(
        lang=lang, title=labels["title"], L=labels, error=labels[error].format(**(error_args or {})) if error else None,
        name=name,
        next_url=next_url, action=_join(base_url, "login"), xsrf_form_html=xsrf_form_html,
        max_name=MAX_NAME_LENGTH,
    )


def render_logout(*, base_url: str = "/", lang: str | None = None) -> str:
    """The signed-out page, with a link to sign in again."""
    lang = lang or get_language()
    labels = labels_for("apps.logout", lang)
    return _env().get_template("logout").render(lang=lang, title=labels["title"], L=labels,
                                               login_url=_join(base_url, "login"))


def render_logout_form(*, base_url: str = "/", xsrf_form_html: str = "", lang: str | None = None) -> str:
    """The sign-out form: a POST with the XSRF token, optionally ending every session of the user."""
    lang = lang or get_language()
    labels = labels_for("apps.logout", lang)
    return _env().get_template("logout_form").render(lang=lang, title=labels["form_title"], L=labels,
                                                    action=_join(base_url, "logout"), xsrf_form_html=xsrf_form_html)


def render_error(status_code: int, *, base_url: str = "/", lang: str | None = None, reason: str | None = None) -> str:
    """An error page naming the status and saying what it means, without any internals.

    ``reason`` picks a more specific message (``apps.error.<reason>`` or ``portal.error.<reason>``),
    e.g. ``server_kernels``, ``app_role``.  403 and 404 have titles of their own
    (``portal.error.title.<code>``); other codes name the status (its English phrase in English only).
    """
    lang = lang or get_language()
    labels = labels_for("apps.error", lang)
    portal = labels_for("portal.error", lang)
    message = labels.get(reason or "") or portal.get(reason or "") or labels.get(str(status_code), labels["other"])
    title = portal.get(f"title.{status_code}")
    if title is None:
        try:
            phrase = HTTPStatus(status_code).phrase if lang == "en" else ""
        except ValueError:
            phrase = ""
        title = labels["title"].format(code=f"{status_code} {phrase}".strip())
    return _env().get_template("error").render(lang=lang, title=title, message=message, home=labels["home"],
                                              home_url=base_url)


def request_language(handler) -> str:
    """The language of a request's pages: the signed-in user's own choice, else the server's.

    Safe in ``write_error`` (an error raised before the user was read leaves the server's language).
    """
    user = getattr(handler, "_jupyter_current_user", None)
    if user is None:
        try:
            user = handler.current_user
        except Exception:  # noqa: BLE001 - an error page must render whatever failed before it
            user = None
    language = getattr(user, "language", None)
    return language if language in LANGUAGES else get_language()


class ErrorPageMixin:
    """For Jupyter handlers: errors as :func:`render_error` pages (never a traceback) in the user's language.

    A handler may set ``error_reason`` before raising to pick a more specific message.
    """

    error_reason: str | None = None

    def write_error(self, status_code: int, **kwargs) -> None:
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(render_error(status_code, base_url=getattr(self, "base_url", "/"), lang=request_language(self),
                                 reason=getattr(self, "error_reason", None)))
