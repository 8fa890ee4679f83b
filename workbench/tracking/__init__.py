"""Tracking and evaluation of campaigns (on recorded data only: nothing here reads the ground truth).

``effect``       effect tables: lift with CIs per arm, outcome and segment; SRM; CUPED
``attribution``  which order counts as a response, and whether it was stable
``quality``      retention, unsubscribes, ARPU difference-in-differences, product trend
``terms``        the campaign's terms read from its stored plan
``inputs``       gather what an evaluation reads (store, DuckDB) into DataFrames
``evaluation``   the evaluation of a campaign, computed on those DataFrames
``uplift_fit``   the uplift model a campaign teaches, measured on held-out members
``loop``         the run-level steps: open a run folder, evaluate its campaign, next round's candidates

The simulator and everything that reads the synthetic ground truth live in :mod:`workbench.demo`;
what template 06 says and shows lives in :mod:`workbench.report.t06`.
"""
from workbench.tracking import attribution, effect, evaluation, inputs, loop, quality, terms, uplift_fit
from workbench.tracking.attribution import *  # noqa: F401,F403 - names listed in its __all__
from workbench.tracking.effect import *  # noqa: F401,F403
from workbench.tracking.evaluation import *  # noqa: F401,F403
from workbench.tracking.inputs import *  # noqa: F401,F403
from workbench.tracking.loop import *  # noqa: F401,F403
from workbench.tracking.quality import *  # noqa: F401,F403
from workbench.tracking.terms import *  # noqa: F401,F403
from workbench.tracking.uplift_fit import *  # noqa: F401,F403

__all__ = [*effect.__all__, *attribution.__all__, *quality.__all__, *terms.__all__, *inputs.__all__,
           *evaluation.__all__, *uplift_fit.__all__, *loop.__all__]
