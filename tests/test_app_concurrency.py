"""Twenty executors record results at the same moment through the app's code path (SQLite WAL and PostgreSQL).

Each writer is a thread with its own Store and engine, as twenty app kernels
would have, and submits through :class:`workbench.apps.worklist.ResultForm` - the
object the executor app's "record" button calls.  A barrier releases them together.
"""
from __future__ import annotations

import threading

import pandas as pd

from store_fixtures import *  # noqa: F401,F403 - fixtures
from store_fixtures import PASSWORD, SPEC
from workbench.apps.worklist import ResultForm
from workbench.store import SYSTEM_USER, PasswordPolicy, Store, engine_for

WRITERS = 20


class AnswerLostOnce:
    """A store whose first ``record_result`` is written but whose answer is lost (a dropped connection)."""

    def __init__(self, store: Store):
        self.store, self.lost = store, False

    def record_result(self, *args, **kwargs):
        recorded = self.store.record_result(*args, **kwargs)
        if not self.lost:
            self.lost = True
            raise ConnectionError("connection to the store dropped before the answer arrived")
        return recorded


def _setup(store: Store):
    analyst = store.add_user(SYSTEM_USER, "ana", "analyst", password=PASSWORD)
    executors = [store.add_user(SYSTEM_USER, f"ex_{i:02d}", "executor", branch_id="urumqi", password=PASSWORD)
                 for i in range(WRITERS)]
    members = pd.DataFrame({
        "subscriber_id": range(5000, 5000 + 2 * WRITERS), "branch_id": ["urumqi"] * (2 * WRITERS),
        "group": ["target"] * (2 * WRITERS), "channel": ["outbound_call"] * (2 * WRITERS),
        "executor": [u.name for u in executors] * 2,
        "msisdn_masked": [f"138****{i:04d}" for i in range(2 * WRITERS)],
    })
    release = store.release_campaign(analyst, SPEC, members)
    return executors, release.campaign_id


def test_twenty_executors_through_the_app_lose_no_update_and_retries_make_no_duplicate(store, store_url):
    executors, campaign_id = _setup(store)
    barrier = threading.Barrier(WRITERS)
    outcomes: dict[int, list] = {}
    errors: list[BaseException] = []

    def executor(i: int, own: Store) -> None:
        user = executors[i]
        try:
            rows = own.worklist(user, campaign_id)["member_id"].tolist()  # what the app's grid shows
            form = ResultForm(AnswerLostOnce(own), user)
            barrier.wait(timeout=60)
            try:
                form.submit(rows[0], "accepted", f"note {i}")
                raise AssertionError("the lost answer was not reported")
            except ConnectionError:
                pass  # the page shows the failure; the user clicks Retry
            retried = form.submit(rows[0], "accepted", f"note {i}")
            second = form.submit(rows[1], "refused")
            outcomes[i] = [retried, second]
        except BaseException as exc:  # reported below with the writer's number
            errors.append(exc)

    stores = [Store(engine=engine_for(store_url, pool_size=2), migrate=False,
                    password_policy=PasswordPolicy.fast_for_tests(), progress=False) for _ in range(WRITERS)]
    threads = [threading.Thread(target=executor, args=(i, stores[i])) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    for own in stores:
        own.close()
    assert not errors, errors
    assert len(outcomes) == WRITERS

    results = store.contact_results(SYSTEM_USER, campaign_id)
    assert len(results) == 2 * WRITERS  # every write kept, the retries added nothing
    assert results["client_request_id"].is_unique
    for retried, second in outcomes.values():
        assert not retried.created and second.created  # the retry found the write that had reached the store
    by_executor = results.groupby("executor")["result"].agg(sorted)
    assert by_executor.to_dict() == {u.name: ["accepted", "refused"] for u in executors}
    audit = store.audit_log(SYSTEM_USER, campaign_id=campaign_id, action="record_result")
    assert len(audit) == 2 * WRITERS
    progress = store.progress(SYSTEM_USER, campaign_id)
    total = progress[progress["dimension"] == "total"].iloc[0]
    assert (total["members"], total["contacted"], total["accepted"]) == (2 * WRITERS, 2 * WRITERS, WRITERS)
