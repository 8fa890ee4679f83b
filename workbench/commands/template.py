"""``workbench template list | new | run`` - the templated notebooks from the command line."""
from __future__ import annotations

import argparse
import sys

from workbench.i18n import LANGUAGES

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``template`` and its verbs to the ``workbench`` parser."""
    parser = subparsers.add_parser(
        "template", help="list, copy and run templated notebooks",
        description="Templated notebooks: the analysis methods, fixed as notebooks that run on any data.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    parser.set_defaults(func=lambda args: _usage(parser))

    p = verbs.add_parser("list", help="list the templates with title and description",
                         description="List the templates of the templates folder ($WORKBENCH_TEMPLATES overrides it).")
    p.add_argument("--lang", choices=LANGUAGES,
                   help="language of titles and descriptions (default: $WORKBENCH_LANG or zh)")
    p.set_defaults(func=_list)

    p = verbs.add_parser("new", help="copy a template to adapt it",
                         description="Copy a template to a folder or .ipynb path; an existing notebook is never "
                                     "overwritten.")
    p.add_argument("name", metavar="NAME", help="template name, e.g. 00_hello")
    p.add_argument("dest", metavar="DEST", help="destination folder or .ipynb file")
    p.add_argument("--lang", choices=LANGUAGES, help="language of the messages")
    p.set_defaults(func=_new)

    p = verbs.add_parser(
        "run", help="run a template into an executed notebook and an HTML report",
        description="Execute a template in a Jupyter kernel with papermill and write <out>/<name>.ipynb and "
                    "<out>/<name>.html (no code; charts work offline).",
        epilog="example: workbench template run 00_hello -p data sample_data/province --out runs/hello --lang en",
    )
    p.add_argument("name", metavar="NAME", help="template name or path to a notebook")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("KEY", "VALUE"), default=[],
                   help="set a parameter of the template's parameters cell (repeatable); "
                        "the value is converted to the type of the default")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder of the executed notebook and the report; for a template with a run_dir parameter "
                        "also its run folder (unless -p run_dir names another): nothing outside it is written")
    p.add_argument("--lang", choices=LANGUAGES, help="language of the report (sets the template's 'language')")
    p.add_argument("--kernel", metavar="NAME", help="Jupyter kernel to use (default: python3 of this interpreter)")
    p.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    p.set_defaults(func=_run)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _list(args) -> int:
    from workbench.i18n import t
    from workbench.templates import list_templates, templates_dir

    infos = list_templates(lang=args.lang)
    if not infos:
        print(t("templates.cli.none", lang=args.lang, folder=templates_dir()))
        return 0
    header = (t("templates.cli.name", lang=args.lang), t("templates.cli.title", lang=args.lang),
              t("templates.cli.description", lang=args.lang))
    width = max(len(header[0]), *(len(i.name) for i in infos))
    print(f"{header[0]:<{width}}  {header[1]} - {header[2]}")
    for info in infos:
        print(f"{info.name:<{width}}  {info.title} - {info.description}")
    return 0


def _new(args) -> int:
    from workbench.i18n import t
    from workbench.templates import new_template

    path = new_template(args.name, args.dest)
    print(t("templates.cli.created", lang=args.lang, path=path))
    return 0


def _run(args) -> int:
    from workbench.errors import ParameterError
    from workbench.i18n import t
    from workbench.templates import run_template

    parameters: dict[str, str] = {}
    for key, value in args.parameter:
        if key in parameters:
            raise ParameterError.from_words("errors.cli.parameter_twice", name=repr(key), option=key)
        parameters[key] = value
    result = run_template(args.name, parameters, args.out, kernel_name=args.kernel, language=args.lang,
                          progress=not args.no_progress)
    print(t("templates.cli.notebook", lang=args.lang, path=result.notebook))
    print(t("templates.cli.report", lang=args.lang, path=result.html))
    if result.parameters.get("run_dir"):
        from workbench.runs import RunFolder, resolve_run_dir

        for stale in RunFolder(resolve_run_dir(result.parameters["run_dir"])).check_inputs(result.name):
            print(t("runs.cli.warning", lang=args.lang, message=stale.message(args.lang)), file=sys.stderr)
    return 0
