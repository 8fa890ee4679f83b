"""The hall / call-centre page: look up one subscriber's published card and "can they order product A?".

Staff in a retail hall or the call centre type a subscriber id and see what the analysis side
published for them (masked number, branch, each current model's score, grade, decile and
reasons, the version and its valid dates) and, for every product, yes or why not in words:
the same answers the look-up API gives (:mod:`workbench.ops.card`).  Who may look up whom is
the store's rule (:func:`workbench.store.access.lookup_branch`): every signed-in role, branch
staff their own branch's subscribers only; every look-up is audit-logged.
"""
from __future__ import annotations

import html

from workbench.apps.widgets import branch_label, portal_link, role_label, sign_out_link
from workbench.errors import AccessDenied, ParameterError, WorkbenchError
from workbench.i18n import get_language, labels_for, t
from workbench.ops.card import build_card, eligibility
from workbench.store.access import User, lookup_branch

__all__ = ["hall_app", "card_html", "lookup_card"]

_PREFIX = "ops_api.hall"


def lookup_card(store, user: User, subscriber_id, lang: str) -> dict | None:
    """The card of ``subscriber_id`` as ``user`` may see it (None when nothing is published for them).

    Raises
    ------
    ParameterError
        ``subscriber_id`` is not a positive whole number.
    AccessDenied
        Another branch's subscriber, for branch staff.
    """
    text = str(subscriber_id).strip()
    if not text.isdigit() or int(text) < 1 or len(text) > 18:
        raise ParameterError(t(f"{_PREFIX}.bad_id", lang, got=str(subscriber_id)))
    rows = store.subscriber_rows(user, int(text))
    return build_card(rows, store.current_versions(), lang) if rows else None


def _fmt(value, digits: int = 3) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def card_html(card: dict, lang: str) -> str:
    """The card as HTML (class ``wb-hall-card`` with ``data-subscriber``; offers rows carry ``data-product``
    and ``data-eligible``)."""
    labels = labels_for(_PREFIX, lang)
    kinds = labels_for("ops_api.kind", lang)
    e = html.escape
    head = (f'<div class="wb-hall-card" data-subscriber="{card["subscriber_id"]}" '
            f'data-branch="{e(card["branch_id"])}">'
            f'<h3 style="margin:.4em 0">{e(str(card["subscriber_id"]))} · '
            f'<span data-field="number">{e(card["msisdn_masked"] or "–")}</span> · '
            f'{e(branch_label(card["branch_id"], lang))}</h3>')
    cols = ("model", "score", "grade", "decile", "reasons", "version", "valid")
    rows = []
    for r in card["results"]:
        valid = t(f"{_PREFIX}.valid_range", lang, start=r["valid_from"] or "–", end=r["valid_to"] or labels["open_end"])
        reasons = t("ops_api.answer.separator", lang).join(x["text"] for x in r["reasons"])
        cells = (kinds.get(r["kind"], r["kind"]), _fmt(r["score"]), _fmt(r["grade"]), _fmt(r["decile"]),
                 reasons or "–", r["model_version"] or str(r["version_id"]), valid)
        tds = "".join(f'<td style="padding-right:1.2em">{e(str(c))}</td>' for c in cells)
        rows.append(f'<tr data-kind="{e(r["kind"])}">{tds}</tr>')
    table = ('<table class="wb-hall-results" style="border-collapse:collapse;margin:.3em 0 1em 0">'
             "<thead><tr>" + "".join(f'<th style="text-align:left;padding-right:1.2em">{e(labels[c])}</th>'
                                     for c in cols) + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    offers = []
    for o in card["offers"]:
        answer = eligibility(card, o["product"], lang)["answer"]      # the API's words
        color = "#1b7f3b" if o["eligible"] else "#b42318"
        offers.append(f'<tr data-product="{e(o["product"])}" data-eligible="{str(o["eligible"]).lower()}">'
                      f'<td style="padding-right:1.2em">{e(o["product"])}</td>'
                      f'<td style="color:{color}">{e(answer)}</td></tr>')
    offer_table = ""
    if offers:
        offer_table = (f'<h4 style="margin:.4em 0">{e(labels["offers"])}</h4>'
                       '<table class="wb-hall-offers" style="border-collapse:collapse">'
                       f'<thead><tr><th style="text-align:left">{e(labels["product"])}</th>'
                       f'<th style="text-align:left">{e(labels["answer"])}</th></tr></thead>'
                       "<tbody>" + "".join(offers) + "</tbody></table>")
    return head + table + offer_table + "</div>"


def _message(text: str, kind: str) -> str:
    color = {"error": "#b42318", "info": "#616e7c"}[kind]
    return f'<div class="wb-hall-message" data-kind="{kind}" style="color:{color}">{html.escape(text)}</div>'


def hall_app(store, user: User, lang: str | None = None):
    """The page: who is signed in and whom they may look up, an id box, the card.

    Returns
    -------
    ipywidgets.VBox
        Classes for the browser tests: ``wb-hall-id`` (the box), ``wb-hall-lookup`` (the button),
        ``wb-hall-output`` (holding ``wb-hall-card`` or ``wb-hall-message``).
    """
    import ipywidgets as widgets

    lang = lang or get_language()
    labels = labels_for(_PREFIX, lang)
    try:
        branch = lookup_branch(user)
        scope = (labels["scope_all"] if branch is None
                 else t(f"{_PREFIX}.scope_branch", lang, branch=branch_label(branch, lang)))
    except AccessDenied as exc:
        return widgets.HTML(_message(t(f"{_PREFIX}.refused", lang, reason=str(exc)), "error"))
    who = f"{user.display_name or user.name} · {role_label(user.role, lang)} · {branch_label(user.branch_id, lang)}"
    links = f"{portal_link(lang)} · {sign_out_link(lang)}"
    header = widgets.HTML(f'<h2 style="margin:0 0 .2em 0">{html.escape(labels["title"])}</h2>'
                          f'<div class="wb-signed-in">{html.escape(who)} · {links}</div>'
                          f'<div class="wb-hall-scope" style="color:#616e7c">{html.escape(scope)}</div>')
    box = widgets.Text(description=labels["subscriber"], placeholder="1001", style={"description_width": "8em"},
                       continuous_update=False)
    box.add_class("wb-hall-id")
    button = widgets.Button(description=labels["lookup"], button_style="primary")
    button.add_class("wb-hall-lookup")
    output = widgets.HTML(_message("", "info"))
    output.add_class("wb-hall-output")

    def look_up(_=None) -> None:
        try:
            card = lookup_card(store, user, box.value, lang)
        except (AccessDenied, ParameterError) as exc:
            output.value = _message(t(f"{_PREFIX}.refused", lang, reason=str(exc)), "error")
            return
        except WorkbenchError as exc:  # pragma: no cover - the store is away
            output.value = _message(str(exc), "error")
            return
        if card is None:
            output.value = _message(t(f"{_PREFIX}.not_found", lang, subscriber_id=box.value.strip()), "info")
        else:
            output.value = card_html(card, lang)

    button.on_click(look_up)
    box.observe(look_up, names="value")          # Enter in the box (continuous_update off) looks up too
    return widgets.VBox([header, widgets.HBox([box, button]), output])
