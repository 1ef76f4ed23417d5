"""Airflow's ``Dataset`` (Airflow 2) and ``Asset`` (Airflow 3): data a task updates, named by a URI
or a name, that deras maps onto an ``AssetKey``.

A URI's scheme and path parts become the key's parts (``s3://bucket/orders`` is
``s3/bucket/orders``); a plain name is read as a key (``orders``, ``raw/orders``). They go where
asset keys go: a task's ``outlets=[...]`` and a DAG's ``schedule=[...]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .._core.errors import DefinitionError
from .._core.keys import AssetKey


def key_from_uri(uri: str) -> AssetKey:
    """The asset key of a URI or name.

    >>> key_from_uri("s3://bucket/orders.parquet").to_user_string()
    's3/bucket/orders.parquet'
    >>> key_from_uri("raw/orders").to_user_string()
    'raw/orders'
    """
    if not isinstance(uri, str) or not uri.strip():
        raise DefinitionError(f"a dataset or asset needs a non-empty URI or name, not {uri!r}")
    if "://" not in uri:
        try:
            return AssetKey.from_user_string(uri)
        except ValueError as err:
            raise DefinitionError(f"dataset {uri!r} is not a valid asset key: {err}") from None
    parts = urlsplit(uri)
    path = [p for p in f"{parts.netloc}/{parts.path}".split("/") if p]
    if not parts.scheme or not path:
        raise DefinitionError(f"dataset URI {uri!r} names no location after its scheme")
    return AssetKey([parts.scheme, *path])


class Dataset:
    """Airflow 2's ``Dataset(uri)``: ``outlets=[Dataset("s3://b/orders")]`` and
    ``schedule=[Dataset("s3://b/orders")]`` name the same asset, ``s3/b/orders``.

    >>> Dataset("s3://bucket/orders").key
    AssetKey(['s3', 'bucket', 'orders'])
    """

    def __init__(self, uri: str, extra: Mapping[str, Any] | None = None) -> None:
        self.uri = uri
        self.extra = dict(extra or {})
        self.key = key_from_uri(uri)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"


class Asset(Dataset):
    """Airflow 3's ``Asset(name, uri=..., group=...)``: the key is read from ``name`` (or the URI
    when there is no name).

    >>> Asset("orders", uri="s3://bucket/orders").key
    AssetKey(['orders'])
    """

    def __init__(
        self,
        name: str | None = None,
        uri: str | None = None,
        *,
        group: str = "asset",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        if name is None and uri is None:
            raise DefinitionError("Asset() needs a name or a uri")
        super().__init__(uri if uri is not None else name, extra)  # type: ignore[arg-type]
        self.name = name if name is not None else uri
        self.group = group
        self.key = key_from_uri(self.name)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Asset(name={self.name!r}, uri={self.uri!r})"
