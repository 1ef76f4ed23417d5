"""Asset keys: the names of the data an asset-centric pipeline produces."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class AssetKey:
    """The name of an asset, a path of one or more parts.

    >>> AssetKey(["prices", "raw"]).to_user_string()
    'prices/raw'
    >>> AssetKey.from_user_string("prices/raw") == AssetKey(["prices", "raw"])
    True
    """

    __slots__ = ("_str", "path")

    def __init__(self, path: str | Sequence[str]) -> None:
        if isinstance(path, str):  # the common case, checked without a generator
            if not path or "/" in path:
                raise ValueError(f"invalid asset key {path!r}: parts must be non-empty strings without '/'")
            self.path: tuple[str, ...] = (path,)
            self._str = path
            return
        parts = tuple(path)
        if not parts or any(not isinstance(p, str) or not p or "/" in p for p in parts):
            raise ValueError(f"invalid asset key {path!r}: parts must be non-empty strings without '/'")
        self.path = parts
        self._str = "/".join(parts)

    @classmethod
    def from_user_string(cls, s: str) -> AssetKey:
        if not s or s[0] == "/" or s[-1] == "/" or "//" in s:
            return cls(s.split("/"))  # raises, naming the bad parts
        key = cls.__new__(cls)
        key.path = tuple(s.split("/"))
        key._str = s
        return key

    @classmethod
    def coerce(cls, value: AssetKey | str | Sequence[str]) -> AssetKey:
        """Accept a key, a "prefix/name" string or a list of parts."""
        if isinstance(value, AssetKey):
            return value
        if isinstance(value, str):
            return cls.from_user_string(value)
        key = getattr(value, "key", None)  # an asset definition or spec
        if isinstance(key, AssetKey):
            return key
        return cls(list(value))

    def to_user_string(self) -> str:
        return self._str

    def with_prefix(self, prefix: str | Iterable[str]) -> AssetKey:
        pre = [prefix] if isinstance(prefix, str) else list(prefix)
        return AssetKey([*pre, *self.path])

    @property
    def name(self) -> str:
        return self.path[-1]

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        return f"AssetKey({list(self.path)!r})"

    def __hash__(self) -> int:
        return hash(self._str)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetKey) and other._str == self._str

    def __lt__(self, other: AssetKey) -> bool:
        return self._str < other._str
