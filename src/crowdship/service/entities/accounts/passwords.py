"""Password rules, at sign-up, when the operator adds staff and at a password change: long
enough (the schema's 8 characters), not the email address (nor its part before the @), not
one character repeated, and not one of the most common passwords (a small bundled list,
compared without case). A long passphrase passes; guessing lists are what these rules stop."""

from __future__ import annotations

from crowdship.service.errors import Invalid

MIN_LENGTH = 8

# The most common passwords of 8 characters or more (from public breach-frequency lists),
# and a few this service invites.
_COMMON = """
    password password1 password12 password123 passw0rd p@ssw0rd p@ssword 12345678 123456789
    1234567890 0123456789 987654321 87654321 11111111 00000000 12341234 11223344 12121212
    123123123 123321123 qwertyui qwertyuiop qwerty12 qwerty123 qwerty1234 asdfghjk asdfghjkl
    zxcvbnm1 zxcvbnma 1q2w3e4r 1q2w3e4r5t q1w2e3r4 q1w2e3r4t5 1qaz2wsx zaq12wsx qazwsxedc
    qweasdzxc 123qweasd 1234qwer abcd1234 abc12345 aa123456 a1b2c3d4 iloveyou iloveyou1
    sunshine sunshine1 princess princess1 football football1 baseball baseball1 welcome1
    welcome123 letmein1 letmein123 trustno1 superman batman12 whatever starwars dragon12
    monkey12 shadow12 master12 michael1 jennifer michelle corvette mercedes liverpool
    chelsea1 arsenal1 computer internet charlie1 freedom1 hello123 killer12 babygirl
    lovely12 secret12 changeme changeme1 admin123 administrator test1234 testtest
    passpass summer2024 summer2025 summer2026 winter2024 winter2025 winter2026 spring2026
    autumn2026 december november1 qwertyqwerty 1234abcd abcdefgh abcdefg1 salasana
    salasana1 salasana123 kissa123 koira123 helsinki helsinki1 suomi123 crowdship
    crowdship1 crowdship123 delivery delivery1 courier1 courier123 parcel123
"""
COMMON = frozenset(_COMMON.split())


def check(password: str, email: str, field: str = "password") -> None:
    """Invalid (422 naming ``field``) if the password breaks a rule."""
    lowered = password.strip().lower()
    address = email.strip().lower()
    local = address.split("@", 1)[0]
    if len(password) < MIN_LENGTH:
        raise Invalid(field, f"should have at least {MIN_LENGTH} characters")
    if lowered in (address, local) or (len(local) >= 4 and local in lowered):
        raise Invalid(field, "must not be or contain your email address")
    if len(set(lowered)) == 1:
        raise Invalid(field, "must not be one character repeated")
    if lowered in COMMON:
        raise Invalid(field, "is one of the most common passwords; choose another")
