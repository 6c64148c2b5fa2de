"""Passwords (Argon2id), access tokens (signed JWT with an expiry) and handover codes.

Handover codes are six digits: too few for a slow hash to add anything against someone who
has the database, so they are stored as an HMAC keyed with the service secret (useless
without it) and guessing online is stopped by the attempt limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crowdship.service.errors import Unauthorized

_hasher = PasswordHasher()
TOKEN_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(user_id: int, role: str, key: str, now: datetime, minutes: int) -> str:
    claims = {
        "sub": str(user_id),
        "role": role,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, key, algorithm=TOKEN_ALGORITHM)


def read_token(token: str, key: str, now: datetime) -> int:
    """The user id in a valid, unexpired token; Unauthorized otherwise."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[TOKEN_ALGORITHM],
            options={"require": ["sub", "exp"], "verify_exp": False, "verify_iat": False},
        )
        expires = int(claims["exp"])
        user_id = int(claims["sub"])
    except (jwt.InvalidTokenError, KeyError, ValueError) as error:
        raise Unauthorized("invalid access token") from error
    # Expiry is checked against the service clock, not the machine's, so tests can move time.
    if expires <= now.timestamp():
        raise Unauthorized("access token has expired; log in again")
    return user_id


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def new_nonce() -> str:
    return secrets.token_hex(8)


def derived_code(purpose: str, order_id: int, nonce: str, key: str) -> str:
    """A six-digit code worked out from a stored random nonce and the service secret: the
    service can show it again (the receiver's tracking page), while the database alone
    reveals nothing, as with the keyed hash."""
    message = f"code:{purpose}:{order_id}:{nonce}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def hash_code(code: str, purpose: str, order_id: int, key: str) -> str:
    message = f"{purpose}:{order_id}:{code}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def code_matches(code: str, stored: str | None, purpose: str, order_id: int, key: str) -> bool:
    if stored is None:
        return False
    return hmac.compare_digest(hash_code(code.strip(), purpose, order_id, key), stored)
