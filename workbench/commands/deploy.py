"""``workbench deploy nginx`` - the nginx configuration putting several ``workbench serve`` behind one address.

``workbench deploy nginx --upstreams 127.0.0.1:8867,127.0.0.1:8868 [--out FILE] [--listen ADDR]
[--server-name NAME] [--tls-certificate PEM --tls-key PEM] [--run-dir DIR] [--upstream-header]``

Sticky per signed-in session, WebSockets passed on, TLS terminated at nginx;
see :mod:`workbench.apps.deploy` and docs/deploy.md.
"""
from __future__ import annotations

import argparse
import sys

from workbench.i18n import LANGUAGES

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``deploy`` and its verb ``nginx`` to the ``workbench`` parser."""
    parser = subparsers.add_parser(
        "deploy", help="configuration for running several app servers behind nginx",
        description="Configuration for a deployment of the campaign apps on more than one server (docs/deploy.md).",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    parser.set_defaults(func=lambda args: _usage(parser))
    p = verbs.add_parser(
        "nginx", help="write the nginx configuration for N `workbench serve` processes",
        description="Write nginx's upstream and server blocks: every request of one signed-in session (pages and "
                    "their kernels' WebSockets) reaches the same server; the servers share one PostgreSQL store "
                    "and one cookie secret. Without --run-dir the file goes into /etc/nginx/conf.d/; with it, a "
                    "whole nginx.conf for an unprivileged nginx in the foreground.",
        epilog="example: workbench deploy nginx --upstreams 127.0.0.1:8867,127.0.0.1:8868 --listen 443 "
               "--server-name apps.example.cn --tls-certificate /etc/ssl/apps.pem --tls-key /etc/ssl/apps.key "
               "--out /etc/nginx/conf.d/workbench.conf",
    )
    p.add_argument("--upstreams", required=True, metavar="HOST:PORT,...",
                   help="the servers' addresses (workbench serve --port of each), comma-separated")
    p.add_argument("--out", metavar="FILE", help="file to write (default: print the configuration)")
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="ADDR",
                   help="where nginx listens: PORT or HOST:PORT (default 127.0.0.1:8080)")
    p.add_argument("--server-name", default="_", metavar="NAME", help="the site's host name (default _: any)")
    p.add_argument("--tls-certificate", metavar="PEM", help="certificate (chain): nginx speaks HTTPS")
    p.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    p.add_argument("--run-dir", metavar="DIR",
                   help="write a whole nginx.conf with pid, logs and temporary files in DIR (an unprivileged, "
                        "foreground nginx) and the configuration as DIR/nginx.conf (not with --out)")
    p.add_argument("--upstream-header", action="store_true",
                   help="name the answering server in an X-Workbench-Upstream header (tests and diagnosis only)")
    p.add_argument("--lang", choices=LANGUAGES, help="language of the messages (default: $WORKBENCH_LANG or zh)")
    p.set_defaults(func=_nginx)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _nginx(args) -> int:
    import shlex
    from pathlib import Path

    from workbench.apps.deploy import (
        nginx_command, nginx_site, parse_upstreams, serve_commands, write_nginx_config,
    )
    from workbench.errors import ParameterError, Words
    from workbench.i18n import t

    site = {"listen": args.listen, "server_name": args.server_name, "tls_certificate": args.tls_certificate,
            "tls_key": args.tls_key, "upstream_header": args.upstream_header}
    if args.run_dir and args.out:
        raise ParameterError.invalid("out", Words("errors.allowed.out_with_run_dir"), args.out)
    out = str(Path(args.run_dir) / "nginx.conf") if args.run_dir else args.out
    if out is None:
        sys.stdout.write(nginx_site(args.upstreams, **site))
        return 0
    path = write_nginx_config(out, args.upstreams, run_dir=args.run_dir, **site)
    count = len(parse_upstreams(args.upstreams))
    print(t("deploy.nginx.written", lang=args.lang, path=path, count=count))
    if args.run_dir:
        print(t("deploy.nginx.check", lang=args.lang, command=shlex.join(nginx_command(args.run_dir, check=True))))
        print(t("deploy.nginx.start", lang=args.lang, command=shlex.join(nginx_command(args.run_dir))))
    else:
        print(t("deploy.nginx.check", lang=args.lang, command="nginx -t && nginx -s reload"))
    print(t("deploy.nginx.servers", lang=args.lang))
    for line in serve_commands(args.upstreams):
        print("  " + line)
    return 0
