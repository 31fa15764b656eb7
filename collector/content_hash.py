"""The collector's keyed hash for prompt text it does not keep.

A keyed hash (HMAC-SHA256) lets reviewers see that the same text was sent twice without the database being a
dictionary-attack target for short prompts. The key lives outside the database: in settings, or else in a file
in the data directory created on first use, readable by the collector's user alone.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


class ContentHasher:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the content hash key must be at least 32 bytes")
        self._key = key

    @property
    def key(self) -> bytes:
        """The key itself: handed only to enrolled browser extensions, so their hashes match the collector's."""
        return self._key

    def hexdigest(self, text: str) -> str:
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    @classmethod
    def from_key_file(cls, path: Path) -> ContentHasher:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: two collector processes starting together must not each write a different key.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_hex(32))
        key_hex = path.read_text(encoding="ascii").strip()
        try:
            return cls(bytes.fromhex(key_hex))
        except ValueError as error:
            raise ValueError(f"{path} does not hold a hex key of at least 32 bytes") from error
