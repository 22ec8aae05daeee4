"""The `sqlite:` store URL and the filesystem path it names."""

from __future__ import annotations

MEMORY = ":memory:"
_SCHEME = "sqlite://"


def parse_sqlite_url(url: str) -> str:
    """The path a `sqlite:` URL names, as `SqliteStore` takes it.

    `sqlite:///data/agora.db` is relative to the working directory (`data/agora.db`),
    `sqlite:////var/lib/agora.db` is absolute (`/var/lib/agora.db`) and `sqlite://:memory:`
    is a private in-memory database (`:memory:`). The same three spellings as SQLAlchemy, so
    operators can copy URLs they already use.
    """
    if not url.startswith(_SCHEME):
        raise ValueError(f"not a sqlite URL: '{url}' (expected sqlite:///path/agora.db)")
    rest = url[len(_SCHEME) :]
    if rest in (MEMORY, "/" + MEMORY):
        return MEMORY
    if not rest.startswith("/") or len(rest) == 1:
        raise ValueError(
            f"sqlite URL without a path: '{url}' (sqlite:///relative.db, "
            "sqlite:////absolute.db or sqlite://:memory:)"
        )
    return rest[1:]
