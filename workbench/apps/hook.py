"""The signed-in user reaches the notebook: Voila's prelaunch hook injects who it is.

``VoilaConfiguration.prelaunch_hook`` (set in the configuration file that
``workbench serve`` generates) runs before each page's kernel starts.
:func:`prelaunch_hook` reads the user from the server's authentication
(``req.current_user``, see :mod:`workbench.apps.identity`) and injects
:data:`IDENTITY_PARAMETERS` with papermill's ``parameterize_notebook``, right
after the notebook's ``parameters`` cell, together with the parameters the app
was published with (see :mod:`workbench.apps.publish`).  Nothing the browser
sends - URL query (``QUERY_STRING`` in the kernel), form fields, widget values -
can change them: identity parameters always win over any other.  A user who chose
a language in the portal (``users.language``) also gets ``language`` injected, so
the app speaks it whatever the server's ``--lang``.

An app notebook declares the identity parameters in its parameters cell::

    user_name = ""  # signed-in user (injected by the server)
    user_role = ""  # their role
    user_branch = ""  # their branch ("" for province roles)
    user_display_name = ""  # name shown on screens

and turns them into the store's user with :func:`signed_in_user`.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from workbench.errors import AccessDenied
from workbench.store.access import User

__all__ = [
    "IDENTITY_PARAMETERS",
    "APP_KERNEL_ENV",
    "served_kernel",
    "APP_METADATA",
    "prelaunch_hook",
    "prepare_notebook",
    "inject_parameters",
    "identity_parameters",
    "signed_in_user",
]

#: Parameters the server injects into every app, from the signed-in user.
IDENTITY_PARAMETERS: tuple[str, ...] = ("user_name", "user_role", "user_branch", "user_display_name")
#: Environment variable set to "1" in every kernel ``workbench serve`` starts for a page
#: (:data:`workbench.apps.kernels.KERNEL_ENV`): how an app tells a served page from a batch run.
APP_KERNEL_ENV = "WORKBENCH_APP_KERNEL"
#: Notebook metadata key of the workbench's app information (``app_parameters`` inside it).
APP_METADATA = "workbench"
_TAGS = "tags"


def prepare_notebook(nb):
    """Give every cell a ``tags`` list and the notebook ``papermill`` metadata (in place; returned).

    papermill's ``parameterize_notebook`` expects both; notebooks saved by
    other tools often lack them.
    """
    from nbformat import NotebookNode

    for cell in nb.cells:
        meta = cell.setdefault("metadata", NotebookNode())
        tags = meta.get(_TAGS)
        if not isinstance(tags, list):
            meta[_TAGS] = [] if tags is None else list(tags) if isinstance(tags, (tuple, set)) else [str(tags)]
    if not isinstance(nb.metadata.get("papermill"), Mapping):
        nb.metadata["papermill"] = NotebookNode()
    return nb


def inject_parameters(nb, parameters: Mapping[str, object]):
    """``nb`` with ``parameters`` in one injected cell after its ``parameters`` cell (papermill's way).

    An earlier injected cell is replaced.  Returns the (upgraded) notebook.
    """
    from papermill.parameterize import parameterize_notebook

    prepare_notebook(nb)
    return parameterize_notebook(nb, dict(parameters), comment="Parameters injected by workbench serve")


def identity_parameters(user) -> dict[str, str]:
    """The :data:`IDENTITY_PARAMETERS` of a signed-in :class:`~workbench.apps.identity.WorkbenchUser`."""
    return {
        "user_name": user.username,
        "user_role": user.role,
        "user_branch": user.branch_id or "",
        "user_display_name": user.display_name or user.username,
    }


def served_kernel() -> bool:
    """Whether this process is a kernel ``workbench serve`` started for a page (:data:`APP_KERNEL_ENV`).

    A batch run of the same notebook (papermill, ``workbench run``) is not: its outputs are
    saved when the last cell ends, so nothing may be drawn after it.
    """
    return os.environ.get(APP_KERNEL_ENV) == "1"


def prelaunch_hook(req, notebook, cwd):
    """Voila's prelaunch hook: inject the signed-in user and the app's published parameters.

    Parameters
    ----------
    req : tornado.web.RequestHandler
        The page request; ``req.current_user`` comes from the identity provider.
    notebook : nbformat.NotebookNode
        The notebook about to run.
    cwd : str
        Its folder (unused).

    Raises
    ------
    tornado.web.HTTPError
        403 when the request has no workbench user (the server is misconfigured).
    """
    from tornado import web

    from workbench.apps.identity import WorkbenchUser

    user = getattr(req, "current_user", None)
    if not isinstance(user, WorkbenchUser) or not user.username or not user.role:
        raise web.HTTPError(403, "no signed-in workbench user")
    published = notebook.metadata.get(APP_METADATA, {}).get("app_parameters", {})
    parameters = {k: v for k, v in dict(published).items() if k not in IDENTITY_PARAMETERS}
    parameters.update(identity_parameters(user))
    if getattr(user, "language", None):  # the user's own choice (the portal's switch) over the server's --lang
        parameters["language"] = user.language
    return inject_parameters(notebook, parameters)


def signed_in_user(user_name: str, user_role: str, user_branch: str | None = None,
                   user_display_name: str = "") -> User:
    """The store's :class:`~workbench.store.User` from the injected identity parameters.

    The store re-reads the user by name on every call, so access is decided by
    the ``users`` table, not by these values.

    Raises
    ------
    AccessDenied
        When no user was injected (the notebook runs outside ``workbench serve``).
    ParameterError
        When the role or branch is not a valid one.
    """
    if not user_name or not user_role:
        raise AccessDenied(
            "no signed-in user: this app runs under `workbench serve`, which injects user_name and user_role "
            f"after sign-in. Got user_name={user_name!r}, user_role={user_role!r}."
        )
    display = user_display_name if user_display_name and user_display_name != user_name else ""
    return User(user_name, user_role, user_branch or None, display)
