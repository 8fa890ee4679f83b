# Run by every app kernel at its start (PYTHONSTARTUP, see workbench.apps.heap), in the notebook's
# namespace: a comment rather than a docstring, and one expression, so that it leaves no name behind.
__import__("workbench.apps.heap", fromlist=["prepare_app_kernel"]).prepare_app_kernel()
