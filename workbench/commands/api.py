"""``workbench api serve | token`` - the real-time look-up API and its calling systems' tokens.

::

    workbench api serve [--port N] [--host 127.0.0.1] [--store URL] [--refresh SECONDS]
    workbench api token create NAME --scope province|branch:ID [--store URL]
    workbench api token list [--store URL]
    workbench api token revoke NAME [--store URL]

See :mod:`workbench.ops.api`.  Heavy imports happen inside the handlers.
"""
from __future__ import annotations

from workbench.commands import STORE_HELP
from workbench.i18n import LANGUAGES

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``api`` and its verbs to the ``workbench`` parser."""
    p = subparsers.add_parser("api", help="the real-time look-up API of published results and its tokens",
                              description="Serve the look-up API (one subscriber's published card and product "
                                          "eligibility, for halls, the call centre and other operational systems) "
                                          "and manage the tokens of the systems calling it.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    sv = verbs.add_parser("serve", help="serve the look-up API (127.0.0.1 unless --host says otherwise)",
                          description="Serve GET /v1/subscribers/{id} and /v1/subscribers/{id}/eligibility/{product} "
                                      "with bearer tokens, every call audited; OpenAPI at /openapi.json.",
                          epilog="example: workbench api serve --port 8870")
    sv.add_argument("--port", type=int, default=8870, metavar="N", help="port (default 8870)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--store", metavar="URL", help=STORE_HELP)
    sv.add_argument("--refresh", type=float, default=5.0, metavar="SECONDS",
                    help="how often the current versions and valid tokens are re-read (default 5)")
    sv.add_argument("--flush", type=float, default=1.0, metavar="SECONDS",
                    help="how often queued audit entries are written (default 1)")
    sv.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the messages (default: zh)")
    sv.set_defaults(func=_serve)

    tk = verbs.add_parser("token", help="create, list and revoke the tokens of calling systems")
    tverbs = tk.add_subparsers(dest="token_verb", metavar="VERB")
    tk.set_defaults(func=lambda args: (tk.print_help(), 2)[1])
    cr = tverbs.add_parser("create", help="create a token (printed once; only its hash is stored)",
                           epilog="example: workbench api token create hall-crm-hami --scope branch:hami")
    cr.add_argument("name", metavar="NAME", help="the calling system's name (unique, never reused)")
    cr.add_argument("--scope", required=True, metavar="SCOPE",
                    help="'province' (every branch) or 'branch:<id>' (that branch's subscribers only)")
    cr.add_argument("--store", metavar="URL", help=STORE_HELP)
    cr.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the messages (default: zh)")
    cr.set_defaults(func=_create)
    ls = tverbs.add_parser("list", help="list the tokens (names, scopes, times; never the tokens)")
    ls.add_argument("--store", metavar="URL", help=STORE_HELP)
    ls.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the messages (default: zh)")
    ls.set_defaults(func=_list)
    rv = tverbs.add_parser("revoke", help="revoke a token (the API refuses it within --refresh seconds)")
    rv.add_argument("name", metavar="NAME")
    rv.add_argument("--store", metavar="URL", help=STORE_HELP)
    rv.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the messages (default: zh)")
    rv.set_defaults(func=_revoke)


def _store(args):
    from workbench.store import Store
    from workbench.workspace import store_arg

    return Store(store_arg(args.store), progress=False)


def _serve(args) -> int:
    from workbench.ops.api import serve
    from workbench.workspace import store_arg

    from workbench.i18n import t

    url = store_arg(args.store)
    print(t("ops_api.cli.serving", args.lang, host=args.host, port=args.port), flush=True)
    serve(url, host=args.host, port=args.port, refresh_seconds=args.refresh, flush_seconds=args.flush)
    return 0


def _create(args) -> int:
    from workbench.i18n import t
    from workbench.store import SYSTEM_USER

    with _store(args) as store:
        token = store.create_api_token(SYSTEM_USER, args.name, args.scope)
    print(token)
    print(t("ops_api.cli.token_once", args.lang, name=args.name, scope=args.scope), flush=True)
    return 0


def _list(args) -> int:
    from workbench.i18n import labels_for, t
    from workbench.store import SYSTEM_USER

    with _store(args) as store:
        tokens = store.api_tokens(SYSTEM_USER)
    if tokens.empty:
        print(t("ops_api.cli.no_tokens", args.lang))
        return 0

    def when(v) -> str:
        return "" if v is None or v != v else f"{v:%Y-%m-%d %H:%M}"

    heads = labels_for("ops_api.cli.col", args.lang)
    rows = [[heads[k] for k in ("name", "scope", "created", "by", "revoked", "last_used")]]
    rows += [[r.name, r.scope, when(r.created_at), r.created_by, when(r.revoked_at), when(r.last_used_at)]
             for r in tokens.itertuples()]
    widths = [max(len(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    return 0


def _revoke(args) -> int:
    from workbench.i18n import t
    from workbench.store import SYSTEM_USER

    with _store(args) as store:
        store.revoke_api_token(SYSTEM_USER, args.name)
    print(t("ops_api.cli.revoked", args.lang, name=args.name))
    return 0
