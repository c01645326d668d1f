"""The secret that signs every link: never short, never half-written (issue 8, item 4)."""

from __future__ import annotations

import os
import stat

import pytest
from plenary import config


def test_an_empty_secret_file_is_refused_with_a_clear_message(tmp_path):
    # A crash between creating the file and writing it used to leave it empty:
    # an empty HMAC key, and the admin link a.server.HMAC(b"", ...) opened the console.
    path = tmp_path / "s.key"
    path.write_bytes(b"\n")
    with pytest.raises(config.ConfigError) as err:
        config.load({"PLENARY_SECRET_FILE": str(path)}).secret()
    assert "32" in str(err.value) and str(path) in str(err.value)
    assert "Traceback" not in str(err.value)


def test_a_short_secret_file_or_key_is_refused(tmp_path):
    path = tmp_path / "s.key"
    path.write_bytes(b"x" * 31 + b"\n")
    with pytest.raises(config.ConfigError, match="PLENARY_SECRET_FILE"):
        config.load({"PLENARY_SECRET_FILE": str(path)}).secret()
    with pytest.raises(config.ConfigError, match="PLENARY_SECRET_KEY"):
        config.load({"PLENARY_SECRET_KEY": "abc"}).secret()
    # 32 bytes is enough, in either place.
    assert config.load({"PLENARY_SECRET_KEY": "k" * 32}).secret() == b"k" * 32
    path.write_bytes(b"y" * 32)
    assert config.load({"PLENARY_SECRET_FILE": str(path)}).secret() == b"y" * 32


def test_the_key_file_is_written_whole_then_moved_into_place(tmp_path, monkeypatch):
    path = tmp_path / "keys" / "s.key"
    moves: list[tuple[str, str, bytes, int]] = []
    real_link = os.link

    def spy(src, dst):
        # At the moment it is moved into place the temporary file holds the whole key.
        with open(src, "rb") as f:
            moves.append((str(src), str(dst), f.read(), stat.S_IMODE(os.stat(src).st_mode)))
        real_link(src, dst)

    monkeypatch.setattr(config.os, "link", spy)
    key = config.load({"PLENARY_SECRET_FILE": str(path)}).secret()
    assert len(key) >= 32
    [(src, dst, content, mode)] = moves
    assert dst == str(path) and src != dst and os.path.dirname(src) == str(path.parent)
    assert content.strip() == key and mode == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_a_failed_write_leaves_no_key_file(tmp_path, monkeypatch):
    path = tmp_path / "s.key"

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config.os, "fsync", full_disk)
    with pytest.raises(OSError):
        config.load({"PLENARY_SECRET_FILE": str(path)}).secret()
    assert list(tmp_path.iterdir()) == []  # neither an empty key file nor a temporary one


def test_a_key_another_process_wrote_first_is_kept(tmp_path, monkeypatch):
    # Two processes starting at once on a first run: the second must not replace
    # the first one's key (it may already be signing links), it adopts it.
    path = tmp_path / "s.key"
    theirs = b"t" * 64
    real_link = os.link

    def race(src, dst):
        path.write_bytes(theirs + b"\n")
        real_link(src, dst)

    monkeypatch.setattr(config.os, "link", race)
    assert config.load({"PLENARY_SECRET_FILE": str(path)}).secret() == theirs
    assert path.read_bytes().strip() == theirs
    assert list(tmp_path.iterdir()) == [path]
