"""From analysis to operations (issue 19): published results, back-fill, feeds, look-up API.

The edge where the workbench's results leave it: versioned published tables in the
store with an atomic switch of the current version, back-fill into an operational
database by URL, predefined feeds on a schedule, and the real-time look-up API.
"""
