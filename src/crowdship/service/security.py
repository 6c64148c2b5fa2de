"""Passwords (Argon2id), access tokens (signed JWT with an expiry) and handover codes.

Handover codes are six digits: too few for a slow hash to add anything against someone who
has the database, so they are stored as an HMAC keyed with the service secret (useless
without it) and guessing online is stopped by the attempt limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, its id (to revoke it alone), the account's token
    generation when it was issued (a password change starts a new one) and its expiry."""

    user_id: int
    jti: str | None  # tokens issued before revocation existed have none
    generation: int
    expires_at: datetime


def issue_token(
    user_id: int, role: str, key: str, now: datetime, minutes: int, generation: int = 0
) -> str:
    claims = {
        "sub": str(user_id),
        "role": role,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
        "jti": secrets.token_urlsafe(16),
        "gen": generation,
    }
    return jwt.encode(claims, key, algorithm=TOKEN_ALGORITHM)


def read_token(token: str, key: str, now: datetime) -> TokenClaims:
    """The claims of a valid, unexpired token; Unauthorized otherwise. (Whether it was
    revoked is the database's to say.)"""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[TOKEN_ALGORITHM],
            options={"require": ["sub", "exp"], "verify_exp": False, "verify_iat": False},
        )
        expires = int(claims["exp"])
        user_id = int(claims["sub"])
        jti = claims.get("jti")
        generation = int(claims.get("gen", 0))
        if jti is not None and (not isinstance(jti, str) or not 1 <= len(jti) <= 32):
            raise ValueError("jti")
    except (jwt.InvalidTokenError, KeyError, ValueError, TypeError, OverflowError) as error:
        raise Unauthorized("invalid access token") from error
    # Expiry is checked against the service clock, not the machine's, so tests can move time.
    if expires <= now.timestamp():
        raise Unauthorized("access token has expired; log in again")
    return TokenClaims(user_id, jti, generation, datetime.fromtimestamp(expires, UTC))


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
