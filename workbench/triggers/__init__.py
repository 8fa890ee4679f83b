"""Handset-change trigger campaigns (issue 18).

Stable changers of a day found from daily IMEI presence, eligible services
recommended by handset capability and preference, rolling daily waves with a
randomized control per wave and a comparison group of similar non-changers.
Compute only: it returns data; words live in ``workbench.report``, figures in
``workbench.viz``.
"""
