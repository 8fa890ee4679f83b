"""Publishing: a finished app notebook becomes one campaign's app in the served folder.

App notebooks live in the repository's ``notebooks/apps/`` folder (or the
folder named by ``$WORKBENCH_APP_NOTEBOOKS``).  :func:`publish_app` checks the
campaign in the store (it must be released), checks that the notebook
declares ``campaign_id`` and the identity parameters in its ``parameters``
cell, clears outputs and earlier injected cells, records the campaign in the
notebook's metadata (``workbench.app_parameters``; the server injects it next
to the signed-in user, see :mod:`workbench.apps.hook`) and writes
``<apps_dir>/campaign_<id>_<app>.ipynb`` atomically, so a running server never
reads half a file.

>>> from workbench.apps import publish_app, list_apps
>>> info = publish_app(3, app="executor", apps_dir="runs/apps")   # doctest: +SKIP
>>> [a.name for a in list_apps("runs/apps")]                      # doctest: +SKIP
['campaign_3_executor.ipynb', 'whoami.ipynb']
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workbench.apps.hook import APP_METADATA, IDENTITY_PARAMETERS, prepare_notebook
from workbench.errors import ParameterError

__all__ = [
    "AppInfo",
    "APP_NOTEBOOKS_ENV",
    "BUILTIN_APPS",
    "DEFAULT_APP",
    "DEFAULT_APPS_DIR",
    "app_notebooks_dir",
    "find_app_notebook",
    "install_builtin_apps",
    "list_apps",
    "app_info",
    "publish_app",
    "app_url",
]

#: Environment variable naming another folder of app notebooks.
APP_NOTEBOOKS_ENV = "WORKBENCH_APP_NOTEBOOKS"
#: The folder ``workbench serve`` serves by default.
DEFAULT_APPS_DIR = Path("runs") / "apps"
#: The app a campaign gets when none is named.
DEFAULT_APP = "executor"
#: Apps every server carries (copied into the served folder at start).
BUILTIN_APPS: tuple[str, ...] = ("whoami", "hall")
_PARAMETERS_TAG = "parameters"
_INJECTED_TAG = "injected-parameters"
_PUBLISHED = re.compile(r"^campaign_(\d+)_(.+)\.ipynb$")
#: A template's bilingual title cell (``# 中文标题 · English title``): training material shows both languages,
#: a served app shows its title in the signed-in user's language instead (drawn by the app itself).
_BILINGUAL_TITLE = re.compile(r"^#\s[^\n]*\s·\s[^\n]*$")


@dataclass(frozen=True)
class AppInfo:
    """One app in the served folder.

    Attributes
    ----------
    name : str
        File name (the app's address is ``/voila/render/<name>``).
    path : Path
        The notebook file.
    app : str
        Which app notebook it was made from (``executor``, ``whoami``, ...).
    campaign_id : int or None
        The campaign it serves (None for built-in apps).
    published_at : str
        ISO time of publishing ("" for built-in apps).
    """

    name: str
    path: Path
    app: str
    campaign_id: int | None = None
    published_at: str = ""


def app_notebooks_dir() -> Path:
    """The folder app notebooks are looked up in (``$WORKBENCH_APP_NOTEBOOKS`` or ``notebooks/apps``)."""
    override = os.environ.get(APP_NOTEBOOKS_ENV)
    if override:
        return Path(override).expanduser()
    return Path(__file__).resolve().parents[2] / "notebooks" / "apps"


def find_app_notebook(app: str | os.PathLike) -> Path:
    """The notebook of an app, by name (``"executor"``) or path.

    Raises
    ------
    ParameterError
        When neither a notebook at that path nor an app of that name exists; the
        message lists the available apps.
    """
    from workbench.templates import find_notebook

    folder = app_notebooks_dir()
    available = sorted(p.stem for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    return find_notebook(app, folder, available, parameter="app", kind="app notebooks")


def _read(path: Path):
    from workbench.templates import read_notebook

    return read_notebook(path, ParameterError, "The app notebook")


def _write_atomic(nb, dest: Path) -> None:
    import nbformat

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            nbformat.write(nb, fh)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _declared(nb, path: Path) -> set[str]:
    from workbench.templates import parse_parameters

    for cell in nb.cells:
        if cell.cell_type == "code" and _PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return set(parse_parameters(cell.source, path.stem))
    return set()


def _check_campaign(store, campaign_id: int) -> str:
    """The campaign's name; it must exist and be released (or closed)."""
    from workbench.store.access import SYSTEM_USER

    campaigns = store.visible_campaigns(SYSTEM_USER)
    found = campaigns[campaigns["campaign_id"] == campaign_id]
    if found.empty:
        known = campaigns.loc[campaigns["status"] != "draft", "campaign_id"].tolist()
        raise ParameterError(
            f"The 'campaign_id' parameter must name a released campaign of the store {store!r}: one of "
            f"{known}. Got {campaign_id!r} instead."
        )
    status = found["status"].iloc[0]
    if status == "draft":
        raise ParameterError(
            f"campaign {campaign_id} is a draft: release it first (Store.release_campaign), then publish its app"
        )
    return str(found["name"].iloc[0])


#: Kernelspec of every published app: the kernel pool's (see ``apps.kernels``).
APP_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def publish_app(campaign_id: int, *, app: str | os.PathLike = DEFAULT_APP,
                apps_dir: str | os.PathLike | None = None, store=None, store_url: str | None = None) -> AppInfo:
    """Make ``app`` the app of campaign ``campaign_id`` in the served folder.

    Parameters
    ----------
    campaign_id : int
        A released campaign of the store.
    app : str or path
        App notebook name in :func:`app_notebooks_dir` or a notebook path. It
        must declare ``campaign_id`` and :data:`~workbench.apps.hook.IDENTITY_PARAMETERS`
        in its ``parameters`` cell.
    apps_dir : path, optional
        The served folder (default :data:`DEFAULT_APPS_DIR`).
    store : workbench.store.Store, optional
        The campaign store; default one opened from ``store_url``.
    store_url : str, optional
        Store URL when no ``store`` is given (default ``$WORKBENCH_STORE_URL``, else the workspace's
        store; a relative SQLite path is the workspace root's, see :mod:`workbench.workspace`).

    Returns
    -------
    AppInfo
        The published app; it is served at ``/voila/render/<name>``.

    Raises
    ------
    ParameterError
        Bad campaign id, unknown or draft campaign, unknown app notebook, or a
        notebook that does not declare the parameters the server injects.
    """
    if isinstance(campaign_id, bool) or not isinstance(campaign_id, int) or campaign_id < 1:
        raise ParameterError.invalid("campaign_id", "a positive integer", campaign_id)
    source = find_app_notebook(app)
    nb = _read(source)
    missing = [p for p in ("campaign_id", *IDENTITY_PARAMETERS) if p not in _declared(nb, source)]
    if missing:
        raise ParameterError(
            f"The app notebook {str(source)!r} must declare {['campaign_id', *IDENTITY_PARAMETERS]} in its "
            f"'parameters'-tagged cell; missing {missing}."
        )
    owns_store = store is None
    if owns_store:
        from workbench.store import Store
        from workbench.workspace import cli_workspace

        store = Store(cli_workspace(hint=False).store(store_url), progress=False)  # relative: the workspace's
    try:
        campaign_name = _check_campaign(store, campaign_id)
    finally:
        if owns_store:
            store.close()

    nb.cells = [c for c in nb.cells if _INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    if nb.cells and nb.cells[0].cell_type == "markdown" and _BILINGUAL_TITLE.match(nb.cells[0].source.strip()):
        nb.cells = nb.cells[1:]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("papermill", None)  # a papermill run's record is not part of the app
    # Served apps run in the server's warm kernel pool (``python3``, the server's own interpreter);
    # a template's 'Python (workbench)' kernelspec would make every page start a cold kernel of its own.
    nb.metadata["kernelspec"] = dict(APP_KERNELSPEC)
    prepare_notebook(nb)
    published_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    app_name = source.stem
    meta = dict(nb.metadata.get(APP_METADATA, {}))
    meta.update(app=app_name, campaign_id=campaign_id, campaign_name=campaign_name, published_at=published_at,
                source=source.name, app_parameters={"campaign_id": campaign_id})
    nb.metadata[APP_METADATA] = meta
    dest = Path(apps_dir or DEFAULT_APPS_DIR) / f"campaign_{campaign_id}_{app_name}.ipynb"
    _write_atomic(nb, dest)
    return AppInfo(dest.name, dest, app_name, campaign_id, published_at)


def install_builtin_apps(apps_dir: str | os.PathLike | None = None) -> list[Path]:
    """Copy :data:`BUILTIN_APPS` into the served folder (when missing or changed); returns their paths."""
    folder = Path(apps_dir or DEFAULT_APPS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in BUILTIN_APPS:
        source = find_app_notebook(name)
        dest = folder / source.name
        if not dest.exists() or dest.read_bytes() != source.read_bytes():
            shutil.copyfile(source, dest)
        paths.append(dest)
    return paths


def app_info(path: str | os.PathLike) -> AppInfo:
    """The :class:`AppInfo` of one app notebook of the served folder (from its metadata, else its file name)."""
    import json

    path = Path(path)
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get(APP_METADATA, {})
    except (ValueError, OSError, AttributeError):
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    match = _PUBLISHED.match(path.name)
    campaign = meta.get("campaign_id", int(match.group(1)) if match else None)
    return AppInfo(path.name, path, str(meta.get("app", match.group(2) if match else path.stem)),
                   int(campaign) if campaign is not None else None, str(meta.get("published_at", "")))


def list_apps(apps_dir: str | os.PathLike | None = None) -> list[AppInfo]:
    """The apps in the served folder, sorted by file name."""
    folder = Path(apps_dir or DEFAULT_APPS_DIR)
    if not folder.is_dir():
        return []
    return [app_info(path) for path in sorted(folder.glob("*.ipynb")) if not path.name.startswith(".")]


def app_url(base_url: str, info: AppInfo | str) -> str:
    """The address of an app on a server at ``base_url`` (``http://127.0.0.1:8866/``)."""
    name = info.name if isinstance(info, AppInfo) else str(info)
    return base_url.rstrip("/") + "/voila/render/" + name
