"""The Store contract, run against every back end (SQLite and DynamoDB via moto)."""

from __future__ import annotations

import json
import threading
import time

import msgspec
import pytest
from msgspec import ValidationError

from skill.storage import (
    Conflict,
    MemoryRecord,
    Resume,
    StorageError,
    Store,
)

from .conftest import Backend

USER = "amzn1.ask.account.TESTUSER"


def full_record(now: float) -> MemoryRecord:
    return MemoryRecord(
        resume=Resume(routine_id="desk-break", step_index=3, phase_index=1,
                      elapsed_seconds=42.5, saved_at=now),
        pace=1.25,
        verbosity="short",
        favourites=["desk-break", "neck-and-shoulders"],
        last_routine="desk-break",
        sessions=[now - 86400, now],
        disclaimer_heard=True,
    )


def test_is_a_store(store: Store) -> None:
    assert isinstance(store, Store)


def test_new_user_gets_a_fresh_record(store: Store, backend: Backend) -> None:
    record, corrupt = store.load(USER)
    assert record == MemoryRecord() and corrupt is False and record.revision == 0
    assert store.load(USER) == (MemoryRecord(), False)  # loading writes nothing
    assert backend.store.quarantined(USER) == []


def test_round_trip(store: Store, backend: Backend) -> None:
    now = time.time()
    stored = store.save(USER, full_record(now))
    assert stored.revision == 1
    loaded, corrupt = store.load(USER)
    assert not corrupt
    assert loaded == stored and loaded.content() == full_record(now).content()
    # another store instance (another connection / client) sees the same
    assert backend.make().load(USER) == (stored, False)
    again = store.save(USER, msgspec.structs.replace(loaded, pace=0.75))
    assert again.revision == 2 and store.load(USER)[0].pace == 0.75


def test_save_does_not_touch_its_argument(store: Store) -> None:
    record = full_record(time.time())
    before = msgspec.to_builtins(record)
    store.save(USER, record)
    assert msgspec.to_builtins(record) == before


def test_stale_save_is_a_conflict_and_changes_nothing(store: Store, backend: Backend) -> None:
    base, _ = store.load(USER)
    first = store.save(USER, msgspec.structs.replace(base, pace=1.5))
    with pytest.raises(Conflict):
        backend.make().save(USER, msgspec.structs.replace(base, pace=0.75))
    assert store.load(USER)[0] == first
    with pytest.raises(Conflict):  # a second stale writer at the current revision - 1
        store.save(USER, msgspec.structs.replace(first, revision=0))
    assert issubclass(Conflict, StorageError)


def test_saving_a_stored_revision_for_a_missing_record_conflicts(store: Store) -> None:
    with pytest.raises(Conflict):
        store.save(USER, MemoryRecord(revision=3))
    assert store.load(USER) == (MemoryRecord(), False)


def test_update_applies_and_counts(store: Store) -> None:
    now = time.time()
    r1 = store.update(USER, lambda r: r.add_session(now))
    r2 = store.update(USER, lambda r: setattr(r, "verbosity", "quiet"))
    assert (r1.revision, r2.revision) == (1, 2)
    assert r2.sessions == [now] and r2.verbosity == "quiet"
    r3 = store.update(USER, lambda r: MemoryRecord(pace=0.8))  # a replacement record
    assert r3.pace == 0.8 and r3.sessions == [] and r3.revision == 3
    assert store.load(USER)[0] == r3


def test_update_with_invalid_change_writes_nothing(store: Store) -> None:
    store.update(USER, lambda r: r.add_favourite("desk-break"))

    def too_many(r: MemoryRecord) -> None:
        r.favourites.extend(f"r{i}" for i in range(30))  # nothing checks in-place changes

    with pytest.raises(ValidationError):
        store.update(USER, too_many)

    def boom(r: MemoryRecord) -> None:
        r.pace = 1.5
        raise RuntimeError("handler bug")

    with pytest.raises(RuntimeError):
        store.update(USER, boom)
    record, _ = store.load(USER)
    assert record.favourites == ["desk-break"] and record.pace == 1.0 and record.revision == 1


def test_old_sessions_are_pruned_on_write(backend: Backend) -> None:
    """The 60 days end at the newest session: a server clock a year ahead of the requests'
    timestamps (a test's fixed date, a skewed host) keeps what was just recorded."""
    store = backend.store
    now = 2_000_000_000.0
    store._clock = lambda: now + 365 * 86400
    stored = store.save(USER, MemoryRecord(sessions=[now - 61 * 86400, now - 59 * 86400, now]))
    assert stored.sessions == [now - 59 * 86400, now]
    assert store.load(USER)[0].sessions == [now - 59 * 86400, now]


def test_v1_record_is_migrated_on_read(store: Store, backend: Backend) -> None:
    v1 = json.dumps({"v": 1, "pace": 1.2, "verbose": False, "favorites": ["desk-break"],
                     "last": "desk-break", "disclaimer": True, "history": [time.time()]})
    backend.put_raw(USER, v1, 7)
    record, corrupt = store.load(USER)
    assert not corrupt
    assert (record.v, record.pace, record.verbosity) == (3, 1.2, "short")
    assert record.favourites == ["desk-break"] and record.last_routine == "desk-break"
    assert record.disclaimer_heard and len(record.sessions) == 1
    assert record.revision == 7
    upgraded = store.save(USER, record)
    assert upgraded.revision == 8 and store.load(USER) == (upgraded, False)


@pytest.mark.parametrize(
    "body",
    [b"\x00\xff\xfe garbage \x9c", "{not json", "[1, 2]", '{"v": 2, "pain_level": 9}', None],
    ids=["bytes", "bad-json", "array", "health-field", "missing"],
)
def test_corrupt_body_is_quarantined_and_replaced(store: Store, backend: Backend, body: object) -> None:
    backend.put_raw(USER, body, 4)
    record, corrupt = store.load(USER)
    assert corrupt is True
    assert record == MemoryRecord(revision=4)
    assert backend.store.quarantined(USER) == [body]
    store.load(USER)  # loading again does not pile up copies
    assert backend.store.quarantined(USER) == [body]
    stored = store.save(USER, msgspec.structs.replace(record, pace=1.1))
    assert stored.revision == 5
    assert store.load(USER) == (stored, False)
    assert backend.store.quarantined(USER) == [body]  # the copy outlives the overwrite


def test_update_over_a_corrupt_body_quarantines_it(store: Store, backend: Backend) -> None:
    backend.put_raw(USER, "\u0000\u0001 not a record", 2)
    stored = store.update(USER, lambda r: r.add_favourite("desk-break"))
    assert stored.favourites == ["desk-break"] and stored.revision == 3
    assert backend.store.quarantined(USER) == ["\u0000\u0001 not a record"]


def test_unusable_revision_counts_as_zero(store: Store, backend: Backend) -> None:
    backend.put_raw(USER, MemoryRecord(pace=1.4).to_json(), "abc")
    record, corrupt = store.load(USER)
    assert not corrupt and record.pace == 1.4 and record.revision == 0
    assert store.save(USER, record).revision == 1


def test_newer_version_is_left_alone(store: Store, backend: Backend) -> None:
    body = '{"v": 4, "something": "new"}'
    backend.put_raw(USER, body, 9)
    with pytest.raises(StorageError, match="version 4"):
        store.load(USER)
    with pytest.raises(StorageError):
        store.update(USER, lambda r: r.add_session(time.time()))
    assert backend.store.quarantined(USER) == []
    backend.put_raw(USER, body, 9)  # still there, unchanged: nothing overwrote it


def test_delete_forgets_record_and_quarantine(store: Store, backend: Backend) -> None:
    backend.put_raw(USER, "garbage", 1)
    store.load(USER)
    other = "amzn1.ask.account.OTHER"
    store.update(other, lambda r: r.add_favourite("desk-break"))
    store.delete(USER)
    assert store.load(USER) == (MemoryRecord(), False)
    assert backend.store.quarantined(USER) == []
    assert store.load(other)[0].favourites == ["desk-break"]
    store.delete("amzn1.ask.account.NEVER-SEEN")  # deleting nothing is fine
    assert store.save(USER, MemoryRecord()).revision == 1  # and the user can start over


@pytest.mark.parametrize("bad", ["", None, 42])
def test_user_id_is_checked(store: Store, bad: object) -> None:
    with pytest.raises(ValueError):
        store.load(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.save(bad, MemoryRecord())  # type: ignore[arg-type]


def test_concurrent_updates_lose_nothing(backend: Backend) -> None:
    """8 threads x 25 updates on one user, each appending a unique marker: all 200 survive."""
    threads_n, per_thread = 8, 25
    base = time.time() - 3600
    stores = [backend.make() for _ in range(threads_n)]  # clients built before threads start
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []
    conflicts = [0] * threads_n
    for t, s in enumerate(stores):  # count the conflicts update() had to resolve
        def counting_save(user_id, record, _save=s.save, _t=t):
            try:
                return _save(user_id, record)
            except Conflict:
                conflicts[_t] += 1
                raise
        s.save = counting_save

    def worker(t: int) -> None:
        start.wait()
        for i in range(per_thread):
            marker = base + t * 100 + i * 0.5
            try:
                stores[t].update(USER, lambda r, m=marker: r.add_session(m))
            except BaseException as exc:  # noqa: BLE001 - recorded and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    expected = {base + t * 100 + i * 0.5 for t in range(threads_n) for i in range(per_thread)}
    final, corrupt = backend.store.load(USER)
    lost = len(expected - set(final.sessions))
    print(f"\n[{backend.name}] threads: {threads_n}x{per_thread} updates, "
          f"lost updates: {lost}, conflicts resolved by retry: {sum(conflicts)}, "
          f"errors: {len(errors)}, final revision: {final.revision}")
    assert not errors, errors[:3]
    assert not corrupt
    assert lost == 0
    assert len(final.sessions) == threads_n * per_thread  # nothing applied twice either
    assert final.revision == threads_n * per_thread
