"""Serving the campaign apps: Voila with real sign-in, kernel ownership and publishing.

- :mod:`~workbench.apps.server` - ``workbench serve``: configuration, the
  guarded Voila application, launch on 127.0.0.1;
- :mod:`~workbench.apps.identity` - sign-in with name + password against the
  campaign store, signed cookie with a bounded life, sign-out;
- :mod:`~workbench.apps.kernels` - kernels owned by the user who started them;
- :mod:`~workbench.apps.heap` - an app kernel gives its free C heap back after each cell;
- :mod:`~workbench.apps.hook` - the prelaunch hook injecting the signed-in user
  into the notebook, and :func:`signed_in_user` for the notebook's side;
- :mod:`~workbench.apps.publish` - a finished app notebook becomes a campaign's app;
- :mod:`~workbench.apps.widgets` - widget builders shared by the apps;
- :mod:`~workbench.apps.hall` - the hall / call-centre look-up of one subscriber's published card;
- :mod:`~workbench.apps.monitor` - the manager view of template 05 (its numbers and lagging panel);
- :mod:`~workbench.apps.demo` - demo accounts for the sample province;
- :mod:`~workbench.apps.deploy` - several servers behind nginx: the sticky configuration, and
  ending the kernels of users signed out on another server.

Names are imported on first use: an app's kernel that needs only
:func:`signed_in_user` does not pay for importing Jupyter Server (seconds).
"""
from __future__ import annotations

from workbench.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    # hook
    "IDENTITY_PARAMETERS": "hook", "APP_METADATA": "hook", "prelaunch_hook": "hook", "prepare_notebook": "hook",
    "inject_parameters": "hook", "identity_parameters": "hook", "signed_in_user": "hook",
    # widgets
    "whoami_panel": "widgets", "sign_out_link": "widgets", "branch_label": "widgets", "role_label": "widgets",
    # monitor (template 05)
    "MonitorData": "monitor", "monitor_data": "monitor", "daily_progress": "monitor", "branch_status": "monitor",
    "shown_days": "monitor", "activity_by_day": "monitor", "lagging_html": "monitor", "monitor_app": "live_monitor",
    "LiveMonitor": "live_monitor",
    "early_response": "monitor", "lagging_panel": "monitor",
    # hall / call-centre look-up
    "hall_app": "hall", "card_html": "hall", "lookup_card": "hall",
    # publish
    "AppInfo": "publish", "APP_NOTEBOOKS_ENV": "publish", "BUILTIN_APPS": "publish", "DEFAULT_APP": "publish",
    "DEFAULT_APPS_DIR": "publish", "app_notebooks_dir": "publish", "find_app_notebook": "publish",
    "install_builtin_apps": "publish", "list_apps": "publish", "publish_app": "publish", "app_url": "publish",
    # demo
    "DemoUser": "demo", "DEMO_USERS": "demo", "DEMO_BRANCHES": "demo", "demo_executors": "demo",
    "ensure_demo_users": "demo",
    # identity
    "WorkbenchUser": "identity", "Session": "identity", "StoreIdentityProvider": "identity",
    "LoginHandler": "identity", "LogoutHandler": "identity", "load_or_create_secret": "identity",
    "safe_next_url": "identity", "COOKIE_NAME": "identity", "DEFAULT_COOKIE_HOURS": "identity",
    # kernels
    "OwnedKernelManager": "kernels", "KernelOwnerAuthorizer": "kernels", "OwnerShutdownKernelHandler": "kernels",
    "kernel_owner": "kernels",
    # heap
    "trim_heap": "heap", "trim_after_each_cell": "heap",
    # server
    "HOST": "server", "DEFAULT_PORT": "server", "DEFAULT_STATE_DIR": "server", "ServeSettings": "server",
    "write_config": "server", "prepare_state": "server", "serve": "server", "voila_app_class": "server",
    # deploy (several servers behind nginx)
    "nginx_site": "deploy", "nginx_standalone": "deploy", "nginx_command": "deploy", "write_nginx_config": "deploy",
    "parse_upstreams": "deploy", "end_signed_out_kernels": "deploy",
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
