"""``workbench demo`` - run the closed loop's templates on the sample province, in order, in a new run folder.

:data:`DEMO_STEPS` names the templates; a step whose template does not exist
yet is skipped with a note.  Each step receives the parameters it declares
among :data:`SHARED_PARAMETERS`: ``data`` (the province's data), ``run_dir``
(the demo's run folder, where a step leaves files for the steps after it) and
``store`` (the campaign store: the workspace's, shared with the CLI, the
templates opened in JupyterLab and the apps).

Each ``workbench demo`` writes a new run folder (``<runs>/demo-<n>`` of the
workspace, :func:`workbench.runs.next_run_dir`) and releases a new campaign;
an explicit ``--out`` that is not empty is refused unless ``--resume`` (which
skips the steps that finished there on unchanged inputs).  Every step is
recorded in the folder's manifest ``run.json`` (:class:`workbench.runs.RunFolder`).
"""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from workbench.i18n import LANGUAGES

__all__ = ["DEMO_STEPS", "DEMO_APPS", "STEP_FUNCTIONS", "SHARED_PARAMETERS", "register", "run_demo",
           "demo_folder", "publish_demo_apps"]

#: Templates the demo runs, in order (later issues append theirs by name); a name in
#: :data:`STEP_FUNCTIONS` is a step that is not a template.
DEMO_STEPS: list[str] = [
    "00_hello",
    "01_status_analysis",
    "02_goal_setting",
    "03_target_model",
    "07_credit_grading",        # before 04: campaign design excludes high-risk credit grades from promotions
    "04_campaign_design",
    "simulate",
    "06_campaign_evaluation",
    "08_handset_triggers",
    "09_model_monitoring",
    "publish",                  # results for operations (published versions in the store)
]
#: Steps that are functions, not templates: name -> ``"module:function"``, called with ``(data, run_dir,
#: progress=False)`` (and ``executed_share=`` when the function takes it) and returning the line the demo prints.
STEP_FUNCTIONS: dict[str, str] = {"simulate": "workbench.demo.steps:demo_simulate",
                                  "publish": "workbench.ops.publish:demo_publish"}
#: Parameters the demo hands to every step that declares them.
SHARED_PARAMETERS: tuple[str, ...] = ("data", "run_dir", "store")


def register(subparsers) -> None:
    """Add ``demo`` to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "demo", help="run every demo template on the sample province",
        description="Run the templates of the closed loop, in order, on a province's data and write one "
                    "executed notebook and one HTML report per step into a new run folder.",
    )
    p.add_argument("--data", default=None, metavar="DIR",
                   help="folder (or DuckDB file) of the province tables (default: the workspace's data, "
                        "sample_data/province in the repository)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="run folder (default: a new <runs>/demo-<n> of the workspace); an existing folder that is "
                        "not empty is refused unless --resume")
    p.add_argument("--resume", action="store_true",
                   help="continue in an existing --out folder: steps that finished there on unchanged inputs are "
                        "skipped, the others run again")
    p.add_argument("--store", metavar="URL", help="campaign store URL (default: the workspace's store)")
    p.add_argument("--lang", choices=LANGUAGES, help="language of the reports (default: each template's own)")
    p.add_argument("--executed", type=float, default=None, metavar="SHARE",
                   help="share of the campaign period the simulated execution covers (default 0.5: the demo stops "
                        "in the middle of the campaign, each executor with part of the list still to work; 1 for "
                        "a campaign worked through)")
    p.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    p.add_argument("--serve", action="store_true",
                   help="afterwards publish the demo campaign's apps, create the demo users and serve the apps on "
                        "127.0.0.1 until interrupted (prints the URL and how to sign in)")
    p.add_argument("--port", type=int, default=8866, help="port of the served apps (default 8866)")
    p.set_defaults(func=_demo)


def demo_folder(out_dir=None, *, resume: bool = False) -> Path:
    """The run folder of a demo: ``out_dir``, or a new ``<runs>/demo-<n>`` of the workspace.

    Raises
    ------
    ParameterError
        When ``out_dir`` is a file, or a folder that is not empty and ``resume`` is False.
    """
    from workbench.errors import ParameterError
    from workbench.runs import next_run_dir
    from workbench.workspace import find_workspace

    if out_dir is None:
        ws = find_workspace()
        return next_run_dir(ws.runs if ws is not None else Path("runs"), "demo")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParameterError.from_words("errors.cli.out_is_file", path=repr(str(out)))
    if out.is_dir() and any(out.iterdir()) and not resume:
        raise ParameterError.from_words("errors.cli.demo_out_not_empty", path=repr(str(out)))
    return out


def run_demo(data=None, out_dir=None, *, language: str | None = None, steps: list[str] | None = None,
             progress: bool = True, store: str | None = None, resume: bool = False,
             executed_share: float | None = None, accounts: bool = False) -> list:
    """Run the demo steps on ``data``; return the :class:`~workbench.templates.RunResult` of each step run.

    Parameters
    ----------
    data : path, optional
        Folder or DuckDB file of the province tables (default: the workspace's data).
    out_dir : path, optional
        The run folder, where each step writes ``<name>.ipynb``, ``<name>.html`` and the files
        of the later steps (default: a new ``<runs>/demo-<n>`` of the workspace).
    language : {"zh", "en"}, optional
        Report language for the steps that have a ``language`` parameter.
    steps : list of str, optional
        Template names to run instead of :data:`DEMO_STEPS`.
    progress : bool
        Show a tqdm bar over the steps.
    store : str, optional
        Campaign store URL for the steps with a ``store`` parameter (default: the workspace's store).
    resume : bool
        Skip the steps whose record in the run folder's manifest is finished and current
        (:meth:`workbench.runs.RunFolder.check_inputs` finds nothing).
    executed_share : float, optional
        Share of the campaign period the ``simulate`` step executes (default
        :data:`workbench.demo.steps.DEMO_EXECUTED_SHARE`, 0.5: the demo stops in the middle of the
        campaign, so each executor finds part of the list still to work; template 06 evaluates the
        contacts made until then).
    accounts : bool
        Create the demo's sign-in accounts (:func:`workbench.apps.ensure_demo_users`) in the store before
        the steps, as ``--serve`` does: the executors the simulated execution works for then have their
        names, and the evaluation report (template 06) names them as the apps do.

    Raises
    ------
    ParameterError
        When ``data`` does not exist (run ``make sample``) or ``language`` is unknown.
    TemplateError
        When a step fails; later steps are not run, since they may need its output.
    """
    from tqdm.auto import tqdm

    from workbench.errors import ParameterError, Words
    from workbench.i18n import t
    from workbench.runs import RunFolder
    from workbench.templates import list_templates, run_template, template_parameters
    from workbench.workspace import find_workspace

    ws = find_workspace()
    if data is None:
        data = ws.data if ws is not None else Path("sample_data/province")
    data = Path(data)
    if not data.exists():
        raise ParameterError.from_words("errors.cli.demo_no_data", path=repr(str(data)))
    if language is not None and language not in LANGUAGES:
        raise ParameterError.invalid("language", f"one of {list(LANGUAGES)}", language)
    if executed_share is not None and (isinstance(executed_share, bool) or not isinstance(executed_share, (int, float))
                                       or not 0.0 < executed_share <= 1.0):
        raise ParameterError.invalid("executed_share", Words("errors.allowed.executed_share"), executed_share)
    out = demo_folder(out_dir, resume=True)
    folder = RunFolder(out)
    store = store or (ws.store_url if ws is not None else folder.store_url())
    shared = {"data": str(data.resolve()), "run_dir": str(out.resolve()), "store": store}
    if accounts:
        from workbench.apps import ensure_demo_users
        from workbench.store import Store

        with Store(store, progress=False) as accounts_store:
            ensure_demo_users(accounts_store, echo=False, lang=language)
    available = {info.name for info in list_templates()}
    done = folder.steps() if resume else {}
    results = []
    print(t("runs.demo.folder", lang=language, folder=out, store=store))
    bar = tqdm(list(steps if steps is not None else DEMO_STEPS), desc="demo", unit="step", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        if name in done and done[name].get("finished") and not folder.check_inputs(name):
            tqdm.write(t("runs.demo.resumed", lang=language, name=name, folder=out))
            continue
        if name in STEP_FUNCTIONS:
            module, _, function = STEP_FUNCTIONS[name].partition(":")
            call = getattr(importlib.import_module(module), function)
            extra = ({"executed_share": executed_share}
                     if executed_share is not None and "executed_share" in inspect.signature(call).parameters else {})
            tqdm.write(call(str(data), str(out), progress=False, **extra))
            continue
        if name not in available:
            tqdm.write(t("templates.demo.skipped", lang=language, name=name))
            continue
        declared = template_parameters(name)
        params = {k: v for k, v in shared.items() if k in declared}
        result = run_template(name, params, out, language=language if "language" in declared else None,
                              progress=False)
        tqdm.write(t("templates.demo.step", lang=language, name=name, path=result.html))
        for stale in folder.check_inputs(name):
            tqdm.write(t("runs.cli.warning", lang=language, message=stale.message(language)))
        results.append(result)
    bar.close()
    print(t("templates.demo.done", lang=language, count=len(results), folder=out))
    return results


#: Apps published for the demo campaign: app name or notebook path relative to the repository.
DEMO_APPS: tuple[str, ...] = ("executor", "templates/05_campaign_monitoring.ipynb")


def publish_demo_apps(out_dir, *, language: str | None = None):
    """Create the demo users in the demo campaign's store and publish its apps; return (serve settings, apps)."""
    from workbench.apps import ServeSettings, ensure_demo_users, publish_app
    from workbench.runs import RunFolder
    from workbench.store import Store

    out = Path(out_dir).resolve()
    campaign = RunFolder(out).read_campaign()
    store = Store(campaign["store_url"], progress=False)
    ensure_demo_users(store, echo=False, lang=language)
    apps_dir = out / "apps"
    root = Path(__file__).resolve().parents[2]
    published = []
    for app in DEMO_APPS:
        target = root / app if app.endswith(".ipynb") else app
        published.append(publish_app(int(campaign["campaign_id"]), app=target, apps_dir=apps_dir, store=store))
    settings = ServeSettings(apps_dir=str(apps_dir), state_dir=str(out / "serve"), store_url=campaign["store_url"],
                             language=language)
    return settings, published


def _demo(args) -> int:
    out = demo_folder(args.out, resume=args.resume)
    run_demo(args.data, out, language=args.lang, progress=not args.no_progress, store=args.store,
             resume=args.resume, executed_share=args.executed, accounts=args.serve)
    if args.serve:
        import dataclasses

        from workbench.apps import app_url, ensure_demo_users, serve
        from workbench.store import Store

        settings, published = publish_demo_apps(out, language=args.lang)
        settings = dataclasses.replace(settings, port=args.port)
        ensure_demo_users(Store(settings.store_url, progress=False), echo=True, lang=args.lang)  # prints sign-in
        for info in published:
            print(app_url(f"http://127.0.0.1:{args.port}/", info))
        serve(settings)
    return 0
