"""Metrics: compute only (numbers in, numbers out); :mod:`workbench.viz` draws them.

``classification``  AUC, PR-AUC, KS, gains / lift tables, calibration
``experiment``      lift with confidence intervals, SRM check, CUPED, regression adjustment
``uplift``          uplift and Qini curves, AUUC, uplift by bin
"""
from workbench.metrics import classification, experiment, uplift
from workbench.metrics.classification import *  # noqa: F401,F403 - names listed in its __all__
from workbench.metrics.experiment import *  # noqa: F401,F403
from workbench.metrics.uplift import *  # noqa: F401,F403

__all__ = [*classification.__all__, *experiment.__all__, *uplift.__all__]
