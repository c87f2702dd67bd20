"""Data files are parsed once and read back from their cached copy until their text changes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from skill.core import datafiles
from skill.core.datafiles import CACHE_DIR, DataFileError, load_yaml


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """Every text that goes through the YAML parser."""
    seen: list[str] = []
    real = datafiles.read_yaml

    def counting(text: str):
        seen.append(text)
        return real(text)

    monkeypatch.setattr(datafiles, "read_yaml", counting)
    return seen


def _cache(path: Path) -> Path:
    return path.parent / CACHE_DIR / f"{path.name}.msgpack"


def test_second_load_comes_from_the_cache(tmp_path, parses):
    path = tmp_path / "a.yaml"
    path.write_text("title: Desk break\nsteps: [1, 2.5, null, true]\n7: seven\n")
    first = load_yaml(path)
    assert _cache(path).is_file()
    assert load_yaml(path) == first == {"title": "Desk break", "steps": [1, 2.5, None, True], 7: "seven"}
    assert len(parses) == 1


def test_an_edited_file_is_parsed_again(tmp_path, parses):
    path = tmp_path / "a.yaml"
    path.write_text("title: one\n")
    load_yaml(path)
    path.write_text("title: two\n")
    assert load_yaml(path) == {"title": "two"}
    assert load_yaml(path) == {"title": "two"}
    assert len(parses) == 2


def test_data_that_would_not_survive_the_cache_is_never_cached(tmp_path, parses):
    path = tmp_path / "a.yaml"
    path.write_text("when: 2024-05-01\n")
    assert str(load_yaml(path)["when"]) == "2024-05-01"
    assert str(load_yaml(path)["when"]) == "2024-05-01"
    assert not _cache(path).exists()
    assert len(parses) == 2


@pytest.mark.parametrize("junk", [b"", b"\x92\xa1", b"not msgpack at all", b"\x93\x01\x02\x03"])
def test_a_damaged_cache_is_ignored_and_replaced(tmp_path, parses, junk):
    path = tmp_path / "a.yaml"
    path.write_text("title: one\n")
    _cache(path).parent.mkdir()
    _cache(path).write_bytes(junk)
    assert load_yaml(path) == {"title": "one"}
    assert load_yaml(path) == {"title": "one"}
    assert len(parses) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_read_only_directory_still_loads(tmp_path, parses):
    path = tmp_path / "a.yaml"
    path.write_text("title: one\n")
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert load_yaml(path) == {"title": "one"}
    finally:
        tmp_path.chmod(stat.S_IRWXU)
    assert not _cache(path).exists()


def test_a_cache_directory_that_is_a_file_does_not_stop_loading(tmp_path, parses):
    path = tmp_path / "a.yaml"
    path.write_text("title: one\n")
    (tmp_path / CACHE_DIR).write_text("in the way")
    assert load_yaml(path) == load_yaml(path) == {"title": "one"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a.yaml", CACHE_DIR])


@pytest.mark.parametrize(
    ("content", "message"),
    [("id: [unclosed\n", "cannot be read as YAML"), (b"\xff\xfe", "cannot be read")],
)
def test_unreadable_files_raise_one_error_type(tmp_path, content, message):
    path = tmp_path / "a.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(DataFileError, match=message) as caught:
        load_yaml(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_raises_the_same_error(tmp_path):
    with pytest.raises(DataFileError, match="cannot be read"):
        load_yaml(tmp_path / "nowhere.yaml")
