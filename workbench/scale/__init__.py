"""Scale out on Dask: features, training and scoring beyond one machine.

One switch moves the work onto a Dask cluster: the ``scheduler=`` parameter of
every function here (or ``$WORKBENCH_SCHEDULER``, or the Dask config entry
``workbench.scheduler``) - ``"local"`` for a cluster on this machine bound to
127.0.0.1, ``"tcp://host:8786"`` for an existing cluster.  Without it
everything runs in-process, as the ordinary functions do.

>>> from workbench.scale import build_features, fit_target_model, score, get_client   # doctest: +SKIP
>>> client = get_client("local", n_workers=2, memory_limit="4GiB")                    # doctest: +SKIP
>>> feats = build_features("sample_data/province", "2026-10", 6, out="runs/feats",
...                        family="mobile_newspaper", scheduler=client)               # doctest: +SKIP
>>> model = fit_target_model(feats, "target", query="group != 'recent'", scheduler=client)   # doctest: +SKIP
>>> scores = score(model, feats, out="runs/scores", query="group == 'potential'", scheduler=client)  # doctest: +SKIP

Outputs are folders of Parquet parts (``part-NNNNN.parquet``), one per
subscriber-id range; models are ordinary registry models.  See
``docs/scale-out.md`` for real clusters.
"""
from workbench.scale.cluster import (
    CONFIG_KEY, IN_PROCESS, LOCAL, LOCAL_HOST, SCHEDULER_ENV, close_clients, get_client, local_cluster,
    resolve_scheduler, using_scheduler,
)
from workbench.scale.features import (
    GROUP, PART_PATTERN, SUBSCRIBER_TABLES, TARGET, build_features, part_files, partition_connection, read_dask,
    read_parts, subscriber_ranges,
)
from workbench.scale.score import SCORE, read_scores, score
from workbench.scale.train import (
    DEFAULT_MAX_VALIDATION_ROWS, GlobalEarlyStopping, fingerprint, fit_target_model, lgb_params, save_model,
)

__all__ = [
    # cluster
    "SCHEDULER_ENV", "CONFIG_KEY", "IN_PROCESS", "LOCAL", "LOCAL_HOST",
    "resolve_scheduler", "get_client", "local_cluster", "close_clients", "using_scheduler",
    # features
    "build_features", "subscriber_ranges", "partition_connection", "part_files", "read_parts", "read_dask",
    "SUBSCRIBER_TABLES", "PART_PATTERN", "GROUP", "TARGET",
    # training
    "fit_target_model", "lgb_params", "GlobalEarlyStopping", "fingerprint", "save_model",
    "DEFAULT_MAX_VALIDATION_ROWS",
    # scoring
    "score", "read_scores", "SCORE",
]
