"""Demo accounts for the sample province: two branches' executors and managers, a province manager.

**Demo only.** The passwords below are published in this file; use these
accounts with the synthetic sample data and never on a store holding real
subscribers.  ``workbench demo`` calls :func:`ensure_demo_users`; campaign lists
of the demo assign rows to :func:`demo_executors`.
"""
from __future__ import annotations

from dataclasses import dataclass

from workbench.i18n import t

__all__ = ["DemoUser", "DEMO_USERS", "DEMO_BRANCHES", "demo_executors", "ensure_demo_users"]

#: The two branches the demo accounts work in (Urumqi behaves unlike the prefectures).
DEMO_BRANCHES: tuple[str, ...] = ("urumqi", "hami")


@dataclass(frozen=True)
class DemoUser:
    """One demo account (``password`` is public: demo data only)."""

    name: str
    role: str
    branch_id: str | None
    display_name: str
    password: str


#: The demo accounts, with their deterministic, public passwords.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("urumqi_exec1", "executor", "urumqi", "乌鲁木齐 执行员 1", "demo-urumqi-exec1"),
    DemoUser("urumqi_exec2", "executor", "urumqi", "乌鲁木齐 执行员 2", "demo-urumqi-exec2"),
    DemoUser("urumqi_manager", "branch_manager", "urumqi", "乌鲁木齐 分公司经理", "demo-urumqi-manager"),
    DemoUser("hami_exec1", "executor", "hami", "哈密 执行员 1", "demo-hami-exec1"),
    DemoUser("hami_exec2", "executor", "hami", "哈密 执行员 2", "demo-hami-exec2"),
    DemoUser("hami_manager", "branch_manager", "hami", "哈密 分公司经理", "demo-hami-manager"),
    DemoUser("province_manager", "province_manager", None, "省公司 市场经理", "demo-province-manager"),
    DemoUser("analyst", "analyst", None, "经营分析 分析师", "demo-analyst-pass"),
)


def demo_executors() -> dict[str, list[str]]:
    """Executor names of the demo accounts by branch (for ``campaign.assign_executors``)."""
    out: dict[str, list[str]] = {}
    for user in DEMO_USERS:
        if user.role == "executor":
            out.setdefault(user.branch_id, []).append(user.name)
    return out


def ensure_demo_users(store, *, echo: bool = True, lang: str | None = None) -> list[DemoUser]:
    """Create the :data:`DEMO_USERS` missing from ``store`` and print how to sign in.

    Accounts that already exist are left as they are (their password is not
    reset).  Returns the demo accounts created now.

    Parameters
    ----------
    store : workbench.store.Store
        The campaign store the server signs users in against.
    echo : bool
        Print the accounts and sign-in instructions.
    lang : {"zh", "en"}, optional
        Language of the printed text.
    """
    from workbench.store.access import SYSTEM_USER

    existing = set(store.list_users(SYSTEM_USER)["name"].tolist())
    created = []
    for user in DEMO_USERS:
        if user.name in existing:
            continue
        store.add_user(SYSTEM_USER, user.name, user.role, password=user.password, branch_id=user.branch_id,
                       display_name=user.display_name)
        created.append(user)
    if echo:
        print(t("apps.demo_users.heading", lang=lang))
        for user in DEMO_USERS:
            branch = f" / {user.branch_id}" if user.branch_id else ""
            print(t("apps.demo_users.row", lang=lang, name=user.name, password=user.password,
                    role=t(f"store.role.{user.role}", lang=lang), branch=branch))
        print(t("apps.demo_users.how", lang=lang))
    return created
