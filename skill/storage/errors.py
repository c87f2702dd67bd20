"""The errors stores raise, and those of a stored body that cannot be read."""

from __future__ import annotations


class StorageError(Exception):
    """The store could not do what was asked: storage down, locked too long, disk full, ...

    Never carries a half-written record: a failed write leaves the stored record as it was.
    """


class LockTimeout(StorageError):
    """The store stayed locked for its whole timeout; retrying would only wait as long again."""


class Conflict(StorageError):
    """Someone else wrote the record between our read and our write (revision mismatch)."""


class CorruptRecord(ValueError):
    """A stored body that cannot be read as any known record version."""


class NewerVersion(CorruptRecord):
    """A body written by a newer release (``v`` above :data:`CURRENT_VERSION`).

    It is not garbage, just not ours to read: stores refuse to touch it (they raise
    :class:`StorageError`) instead of quarantining and overwriting it.
    """
