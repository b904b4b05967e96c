"""Password hashing with argon2id (argon2-cffi's defaults meet OWASP's recommendation)."""

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _placeholder_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_nothing(password: str) -> None:
    """Spend the time of a real check, so an unknown username answers as slowly as a wrong password."""
    verify_password(_placeholder_hash(), password)
