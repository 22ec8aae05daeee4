"""Database names for tenants.

The default tenant lives in `<prefix>`, tenant T in `<prefix>-<encode_tenant(T)>`. MongoDB
forbids `/\\. "$*<>:|?` and NUL in database names, caps them below 64 bytes and treats two
names differing only in case as a conflict, while tenant names are free text (often
case-sensitive, sometimes URL-like). So a tenant name is encoded into `[a-z0-9_-]` only:
lower-case letters, digits and `-` stay, every other byte of its UTF-8 form becomes `_XX`
(upper-case hex). The encoding is injective even when compared case-insensitively (an escape
is always `_` plus two upper-case hex digits, a literal is never upper-case) and stays
inside what nx-27017 accepts too. A name too long for the limit keeps a readable head and
ends in `__` plus a SHA-256 digest prefix; an unshortened name never contains `__`, so the
two forms cannot collide. The original names are kept in the `tenants` collection, so
nothing ever needs to decode a database name.
"""

from __future__ import annotations

import hashlib
import string

MAX_DB_NAME_BYTES = 63
_LITERAL = frozenset((string.ascii_lowercase + string.digits + "-").encode())
_DIGEST_CHARS = 16


def encode_tenant(tenant: str) -> str:
    return "".join(
        chr(b) if b in _LITERAL else f"_{b:02X}" for b in tenant.encode("utf-8", "surrogatepass")
    )


def tenant_db_name(prefix: str, tenant: str) -> str:
    """The database holding `tenant`'s entities ("" is the default tenant)."""
    if not tenant:
        return prefix
    name = f"{prefix}-{encode_tenant(tenant)}"
    if len(name) <= MAX_DB_NAME_BYTES:
        return name
    digest = hashlib.sha256(tenant.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARS]
    head = name[: MAX_DB_NAME_BYTES - 2 - _DIGEST_CHARS]
    return f"{head}__{digest}"
