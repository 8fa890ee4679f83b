"""The one switch: where feature building, training and scoring run.

A *scheduler* names where the work of :mod:`workbench.scale` runs:

``None``                 not given: use ``$WORKBENCH_SCHEDULER``, else Dask's
                         configuration entry ``workbench.scheduler`` (a YAML
                         file in ``~/.config/dask/`` or ``$DASK_WORKBENCH__SCHEDULER``),
                         else run in-process;
``"in-process"``         in this Python process, with the ordinary
                         (non-distributed) functions - whatever the environment says;
``"local"``              a :class:`distributed.LocalCluster` on this machine, bound
                         to 127.0.0.1 (no dashboard), ``n_workers`` processes with
                         ``memory_limit`` each;
``"tcp://HOST:PORT"``    an existing Dask scheduler (Kubernetes, YARN, ...);
a ``distributed.Client`` used as is.

:func:`get_client` turns a scheduler into a ``Client`` (or ``None`` for
in-process).  Clients it opens are cached per scheduler name, so a notebook
that sets ``WORKBENCH_SCHEDULER=local`` starts one local cluster, not one per
call; :func:`close_clients` (also run at interpreter exit) shuts them down.

>>> get_client("in-process") is None
True
"""
from __future__ import annotations

import atexit
import os
import threading
from contextlib import contextmanager

from workbench import extras
from workbench.errors import ParameterError

__all__ = [
    "SCHEDULER_ENV", "CONFIG_KEY", "IN_PROCESS", "LOCAL", "LOCAL_HOST",
    "resolve_scheduler", "get_client", "local_cluster", "close_clients", "using_scheduler",
]

#: Environment variable naming the scheduler (``local``, ``tcp://host:port`` or ``in-process``).
SCHEDULER_ENV = "WORKBENCH_SCHEDULER"
#: Dask configuration key naming the scheduler (read after the environment variable).
CONFIG_KEY = "workbench.scheduler"
#: Scheduler value that forces in-process execution.
IN_PROCESS = "in-process"
#: Scheduler value that starts a local cluster.
LOCAL = "local"
#: Every server a local cluster starts binds this address only.
LOCAL_HOST = "127.0.0.1"
_ADDRESS_PREFIXES = ("tcp://", "tls://", "ws://", "wss://", "inproc://", "ucx://")

_clients: dict[tuple, object] = {}
_lock = threading.Lock()


def _is_client(obj) -> bool:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return False
    return isinstance(obj, Client)


def resolve_scheduler(scheduler=None):
    """The scheduler in effect: the argument, else the environment, else the Dask config, else in-process.

    Parameters
    ----------
    scheduler : str, Client or None
        See the module docstring.

    Returns
    -------
    str, Client or None
        ``None`` means in-process; otherwise ``"local"``, an address or the client given.

    Raises
    ------
    ParameterError
        A value that is none of the accepted forms.

    Examples
    --------
    >>> resolve_scheduler("in-process") is None
    True
    >>> resolve_scheduler("tcp://10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    """
    if scheduler is None:
        scheduler = os.environ.get(SCHEDULER_ENV) or None
    if scheduler is None:
        try:
            import dask
        except ImportError:  # without the scale extra there is no Dask config to read: in-process
            dask = None
        scheduler = (dask.config.get(CONFIG_KEY, None) or None) if dask is not None else None
    if scheduler is None or _is_client(scheduler):
        return scheduler
    if not isinstance(scheduler, str):
        raise ParameterError.invalid("scheduler", "None, 'in-process', 'local', a scheduler address such as "
                                     "'tcp://host:8786' or a distributed.Client", scheduler)
    value = scheduler.strip()
    if value.lower() in (IN_PROCESS, "inprocess", "none", ""):
        return None
    if value.lower() == LOCAL:
        return LOCAL
    if value.startswith(_ADDRESS_PREFIXES) or (":" in value and value.rsplit(":", 1)[1].isdigit()):
        return value if "://" in value else f"tcp://{value}"
    raise ParameterError.invalid("scheduler", "'in-process', 'local' or a scheduler address such as "
                                 "'tcp://host:8786'", scheduler)


def local_cluster(n_workers: int = 2, *, memory_limit="4GiB", threads_per_worker: int = 1,
                  local_directory: str | None = None, dashboard: bool = False):
    """A :class:`distributed.LocalCluster` whose every server binds 127.0.0.1.

    Parameters
    ----------
    n_workers : int
        Worker processes.
    memory_limit : str or int
        Memory of each worker (Dask's ``memory_limit``: ``"4GiB"``, bytes, ...);
        the nanny restarts a worker that exceeds it, and DuckDB inside a worker
        is given a share of it (see :mod:`workbench.scale.features`).
    threads_per_worker : int
        Threads of each worker.
    local_directory : str, optional
        Where workers spill (default: Dask's temporary folder).
    dashboard : bool
        Serve the scheduler's Bokeh dashboard (127.0.0.1, a free port,
        ``client.dashboard_link``).  Off by default; the scheduler's small HTTP
        endpoint (health, metrics) still listens on 127.0.0.1.

    Returns
    -------
    distributed.LocalCluster
        Scheduler and workers on 127.0.0.1.
    """
    LocalCluster = extras.require("distributed", "a local Dask cluster").LocalCluster

    for name, value in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError.invalid(name, "an integer >= 1", value)
    return LocalCluster(
        n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True, host=LOCAL_HOST,
        dashboard_address=f"{LOCAL_HOST}:0" if dashboard else None, worker_dashboard_address=None,
        memory_limit=memory_limit, local_directory=local_directory, silence_logs=40,
    )


def get_client(scheduler=None, *, n_workers: int = 2, memory_limit="4GiB", threads_per_worker: int = 1,
               local_directory: str | None = None):
    """A Dask client for ``scheduler``, or ``None`` to run in-process.

    Parameters
    ----------
    scheduler : str, Client or None
        See the module docstring; ``None`` reads ``$WORKBENCH_SCHEDULER`` and the
        Dask config entry ``workbench.scheduler``.
    n_workers, memory_limit, threads_per_worker, local_directory
        For ``"local"`` only: see :func:`local_cluster`.

    Returns
    -------
    distributed.Client or None
        A cached client per scheduler (and, for ``"local"``, per cluster shape);
        ``None`` for in-process.

    Examples
    --------
    >>> client = get_client("local", n_workers=2, memory_limit="2GiB")   # doctest: +SKIP
    >>> get_client(None) is None     # no switch set                      # doctest: +SKIP
    True
    """
    resolved = resolve_scheduler(scheduler)
    if resolved is None or _is_client(resolved):
        return resolved
    Client = extras.require("distributed", "a Dask scheduler").Client

    key = (resolved, n_workers, str(memory_limit), threads_per_worker, local_directory) if resolved == LOCAL \
        else (resolved,)
    with _lock:
        client = _clients.get(key)
        if client is not None and client.status == "running":
            return client
        if resolved == LOCAL:
            cluster = local_cluster(n_workers, memory_limit=memory_limit, threads_per_worker=threads_per_worker,
                                    local_directory=local_directory)
            client = Client(cluster, set_as_default=False)
        else:
            client = Client(resolved, set_as_default=False)
        _clients[key] = client
        return client


def close_clients() -> None:
    """Close every client :func:`get_client` opened, and the local clusters behind them."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        cluster = getattr(client, "cluster", None)
        try:
            client.close()
        finally:
            if cluster is not None:
                cluster.close()


atexit.register(close_clients)


@contextmanager
def using_scheduler(scheduler=None, **cluster_options):
    """``with using_scheduler("local") as client:`` - a client (or ``None``) closed on exit.

    Unlike :func:`get_client`, the client (and a local cluster) is not cached:
    it is closed when the block ends.  A ``Client`` passed in is yielded and left open.
    """
    resolved = resolve_scheduler(scheduler)
    if resolved is None or _is_client(resolved):
        yield resolved
        return
    Client = extras.require("distributed", "a Dask scheduler").Client

    cluster = None
    if resolved == LOCAL:
        cluster = local_cluster(**cluster_options)
        client = Client(cluster, set_as_default=False)
    else:
        client = Client(resolved, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
