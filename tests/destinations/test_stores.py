"""The FileStore contract, on the local filesystem and on S3 (moto), plus the env resolver."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from appflow_dagster.destinations import LocalFileStore, S3FileStore, resolver_from_env, store_for
from appflow_dagster.destinations.base import FileStore, StoreError


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    if request.param == "local":
        return LocalFileStore(tmp_path, "bucket")
    factory = request.getfixturevalue("s3_client_factory")
    return S3FileStore(factory(), request.getfixturevalue("s3_bucket"))


def test_store_contract(store: FileStore) -> None:
    with store.open_write("a/b/one.txt") as f:
        f.write(b"hello ")
        f.write(b"world")
    store.write_bytes("a/two.json", b"{}")
    assert store.read_bytes("a/b/one.txt") == b"hello world"
    assert store.size("a/b/one.txt") == 11 and store.exists("a/two.json") and not store.exists("a/nope")
    assert sorted(store.list("a/")) == ["a/b/one.txt", "a/two.json"]
    store.move("a/b/one.txt", "c/one.txt")
    assert sorted(store.list("")) == ["a/two.json", "c/one.txt"]
    store.delete(["a/two.json", "missing"])
    assert list(store.list("")) == ["c/one.txt"]
    with pytest.raises(FileNotFoundError):
        store.read_bytes("a/two.json")
    staging = store.staging_prefix("p/flow", "exec-1")
    store.write_bytes(staging + "x/y.jsonl", b"1")
    assert store.staging_areas("p/flow") == {"exec-1": staging}
    store.delete_prefix(staging)
    assert store.staging_areas("p/flow") == {}
    assert store.url("c/one.txt").endswith("/c/one.txt")


def test_discarded_stream_writes_nothing(store: FileStore) -> None:
    f = store.open_write("k/file.bin")
    f.write(b"partial")
    discard = getattr(f, "discard", None)
    if discard is None:  # local: the writer stages, so a partial file only ever lives in staging
        f.close()
        store.delete(["k/file.bin"])
    else:
        discard()
    assert list(store.list("k/")) == []


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", "a//b", "a\\b"])
def test_keys_cannot_escape_the_bucket(tmp_path: Path, key: str) -> None:
    with pytest.raises(StoreError):
        LocalFileStore(tmp_path, "bucket").write_bytes(key, b"x")


@pytest.mark.parametrize("bucket", ["..", "a/b", ""])
def test_bad_bucket_names(tmp_path: Path, bucket: str) -> None:
    with pytest.raises(StoreError):
        LocalFileStore(tmp_path, bucket)


def test_resolver_from_env(tmp_path: Path, s3_client_factory: Callable[[], Any], moto_server: str) -> None:
    env = {
        "APPFLOW_LOCAL_ROOT": str(tmp_path),
        "APPFLOW_S3_BUCKETS": "real, other",
        "APPFLOW_S3_ENDPOINT_URL": moto_server,
    }
    resolve = resolver_from_env(env=env)
    local = resolve("demo")
    assert isinstance(local, LocalFileStore) and local.base == (tmp_path / "demo").resolve()
    s3 = resolve("real")
    assert isinstance(s3, S3FileStore) and s3.client.meta.endpoint_url == moto_server
    assert isinstance(resolver_from_env(env={})("x"), S3FileStore)
    assert isinstance(store_for("x", local_root=None, s3_client_factory=s3_client_factory), S3FileStore)


def test_compare_and_swap_write(store: FileStore) -> None:
    """``write_bytes_if``: the partition manifest's compare-and-swap (S3 conditional puts, a lock locally)."""
    cas: Any = store
    assert cas.write_bytes_if("m.json", b"1", None)  # absent: created
    assert not cas.write_bytes_if("m.json", b"2", None)  # present now: refused
    data, token = cas.read_versioned("m.json")
    assert data == b"1"
    assert cas.write_bytes_if("m.json", b"3", token)
    assert not cas.write_bytes_if("m.json", b"4", token)  # stale token: refused
    assert store.read_bytes("m.json") == b"3"
    with pytest.raises(FileNotFoundError):
        cas.read_versioned("nope.json")
