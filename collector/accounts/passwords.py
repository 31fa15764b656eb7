"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106's recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing cost grows with length; nobody types more

_hasher = PasswordHasher()
# Verified when the username is unknown, so a failed sign-in takes as long whether or not the user exists.
_DUMMY_HASH = _hasher.hash("not a real password, only spends the same time")


class WeakPassword(ValueError):
    """The password is refused; the message says why (and never repeats it)."""


def check_strength(password: str, username: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password may have at most {MAX_LENGTH} characters")
    if username.casefold() in password.casefold():
        raise WeakPassword("a password may not contain the username")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True if the password matches; with no hash, spend the same time and say no."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
