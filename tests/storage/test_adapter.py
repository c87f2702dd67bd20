"""The ASK SDK persistence adapter on top of a Store, through the SDK's AttributesManager."""

from __future__ import annotations

import time

import msgspec
import pytest
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter, AttributesManager
from ask_sdk_model import Context, RequestEnvelope, Session, User
from ask_sdk_model.interfaces.system import SystemState
from msgspec import ValidationError

from skill.storage import (
    MemoryRecord,
    StorageError,
    Store,
    StorePersistenceAdapter,
    user_id_from_envelope,
)

USER = "amzn1.ask.account.ADAPTER"


def envelope(user_id: str | None = USER, in_context: bool = True,
             in_session: bool = True) -> RequestEnvelope:
    return RequestEnvelope(
        context=Context(system=SystemState(user=User(user_id=user_id))) if in_context else None,
        session=Session(user=User(user_id=user_id)) if in_session else None,
    )


def manager(store: Store) -> AttributesManager:
    return AttributesManager(envelope(), persistence_adapter=StorePersistenceAdapter(store))


def test_is_an_ask_persistence_adapter(store: Store) -> None:
    assert isinstance(StorePersistenceAdapter(store), AbstractPersistenceAdapter)


def test_user_id_sources() -> None:
    assert user_id_from_envelope(envelope()) == USER
    assert user_id_from_envelope(envelope(in_context=False)) == USER
    assert user_id_from_envelope(envelope(in_session=False)) == USER
    as_json = {"context": {"System": {"user": {"userId": USER}}}}
    assert user_id_from_envelope(as_json) == USER
    assert user_id_from_envelope({"session": {"user": {"userId": USER}}}) == USER
    with pytest.raises(StorageError):
        user_id_from_envelope(envelope(user_id=None))
    with pytest.raises(StorageError):
        user_id_from_envelope(RequestEnvelope())


def test_round_trip_through_the_sdk(store: Store) -> None:
    m = manager(store)
    attrs = m.persistent_attributes
    assert attrs["_was_corrupt"] is False and attrs["pace"] == 1.0 and attrs["revision"] == 0
    attrs["pace"] = 1.25
    attrs["favourites"].append("desk-break")
    m.save_persistent_attributes()
    record, _ = store.load(USER)
    assert record.pace == 1.25 and record.favourites == ["desk-break"] and record.revision == 1
    assert attrs["revision"] == 1  # refreshed in place: a second save in the request works
    attrs["verbosity"] = "quiet"
    m.save_persistent_attributes()
    assert store.load(USER)[0].verbosity == "quiet"
    assert manager(store).persistent_attributes["verbosity"] == "quiet"


def test_unchanged_attributes_write_nothing(store: Store) -> None:
    m = manager(store)
    m.persistent_attributes  # noqa: B018 - loads
    m.save_persistent_attributes()
    assert store.load(USER)[0].revision == 0


def test_overlapping_requests_are_merged(store: Store) -> None:
    """Two requests of one user overlap (phone and Echo): both changes survive."""
    store.update(USER, lambda r: (r.add_favourite("desk-break"), r.add_favourite("reverse-presses")))
    now = time.time()
    phone, echo = manager(store), manager(store)
    a, b = phone.persistent_attributes, echo.persistent_attributes
    a["sessions"].append(now - 10)
    a["pace"] = 0.9
    a["favourites"].remove("desk-break")
    b["sessions"].append(now)
    b["verbosity"] = "short"
    b["favourites"].append("spine-decompression")
    phone.save_persistent_attributes()
    echo.save_persistent_attributes()  # stale revision: merged, not overwritten
    record, _ = store.load(USER)
    assert record.sessions == [now - 10, now]
    assert (record.pace, record.verbosity) == (0.9, "short")
    assert record.favourites == ["reverse-presses", "spine-decompression"]


def test_health_data_cannot_be_persisted(store: Store) -> None:
    m = manager(store)
    m.persistent_attributes["pain_level"] = 8
    with pytest.raises(ValidationError):
        m.save_persistent_attributes()
    m.persistent_attributes.pop("pain_level")
    m.persistent_attributes["_scratch"] = "private keys are never stored"
    m.persistent_attributes["pace"] = 1.1
    m.save_persistent_attributes()
    assert "_scratch" not in store.load(USER)[0].to_json()


def test_corrupt_record_is_reported(store: Store, backend) -> None:
    backend.put_raw(USER, "garbage", 2)
    attrs = manager(store).persistent_attributes
    assert attrs["_was_corrupt"] is True and attrs["revision"] == 2


def test_replaced_attribute_dict_still_saves(store: Store) -> None:
    store.update(USER, lambda r: r.add_favourite("desk-break"))
    m = manager(store)
    m.persistent_attributes = msgspec.to_builtins(MemoryRecord(pace=1.4))
    m.save_persistent_attributes()
    record, _ = store.load(USER)
    assert record.pace == 1.4 and record.favourites == [] and record.revision == 2


def test_delete(store: Store) -> None:
    store.update(USER, lambda r: r.add_favourite("desk-break"))
    manager(store).delete_persistent_attributes()
    assert store.load(USER) == (MemoryRecord(), False)
