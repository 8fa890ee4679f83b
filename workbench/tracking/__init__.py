"""Tracking and evaluation of campaigns.

``effect``       effect tables: lift with CIs per arm, outcome and segment; SRM; CUPED
``attribution``  which order counts as a response, and whether it was stable
``quality``      retention, unsubscribes, ARPU difference-in-differences, product trend
``simulate``     campaign execution and outcomes drawn from the synthetic ground truth
``loop``         the closed loop: simulate a released campaign, evaluate it, uplift model, next round
"""
from workbench.tracking import attribution, effect, loop, quality, simulate
from workbench.tracking.attribution import *  # noqa: F401,F403 - names listed in its __all__
from workbench.tracking.effect import *  # noqa: F401,F403
from workbench.tracking.loop import *  # noqa: F401,F403
from workbench.tracking.quality import *  # noqa: F401,F403
from workbench.tracking.simulate import *  # noqa: F401,F403

__all__ = [*effect.__all__, *attribution.__all__, *quality.__all__, *simulate.__all__, *loop.__all__]
