"""Review 7b, open item 2 (low): the object store's endpoint was the store's word.

``blob_url`` and ``blob_endpoint`` are read from the store's ``authority`` table. A writer of that
table pointed every reader (and ``sync``) at an endpoint of their own, ``http://`` to another
machine included, past round 6's rule that a remote store needs verified TLS: the reader then
sent its signed S3 requests (access key id, the record's key) in clear, and took the bytes that
answered.

Now the endpoint gets round 6's rule: ``https://`` (verified by boto3), ``http://`` only on this
machine or with ``FACESEL_CENTRAL_ALLOW_UNVERIFIED=1`` (logged). The attacker is a real HTTP server
on this machine's own non-loopback address, where a remote bucket would be.
"""

from __future__ import annotations

import logging

import pytest
from facesel.central.pg_backend import PostgresVault
from facesel.central.transport import ALLOW_ENV, UnverifiedStoreError, check_blob_endpoint
from facesel.vault.errors import RecordError
from hostile_store import one_synced_record, point_record_at_object, read_request
from network_attacker import Listener, outside_address


class _FakeBucket:
    """An HTTP server that keeps each request's head and answers 404 (no such key)."""

    def __init__(self, address: str) -> None:
        self.requests: list[bytes] = []
        self.listener = Listener(address, self.serve)
        self.endpoint = f"http://{address}:{self.listener.port}"

    def serve(self, conn) -> None:
        self.requests.append(read_request(conn))
        body = b"<Error><Code>NoSuchKey</Code><Message>no</Message></Error>"
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(body), body))


@pytest.fixture
def planted(central_dsn, authority, cameras, tmp_path, shared_data, monkeypatch):
    """(record id, fake bucket on the outside address): the store's table names it as the endpoint."""
    pytest.importorskip("boto3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    bucket = _FakeBucket(outside_address())
    with PostgresVault.create(central_dsn, authority[0]) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
    point_record_at_object(central_dsn, record_id, bucket.endpoint)
    yield record_id, bucket
    bucket.listener.close()


def test_a_plain_http_endpoint_on_another_machine_is_refused(central_dsn, planted):
    record_id, bucket = planted
    with pytest.raises(UnverifiedStoreError, match=f"endpoint {bucket.endpoint} .* plain http .*{ALLOW_ENV}=1"):
        with PostgresVault(central_dsn) as store:
            store.read(record_id)
    assert bucket.listener.connections == 0 and bucket.requests == []


def test_the_opt_out_reaches_it_with_a_warning(central_dsn, planted, monkeypatch, caplog):
    record_id, bucket = planted
    monkeypatch.setenv(ALLOW_ENV, "1")
    with caplog.at_level(logging.WARNING, logger="facesel.central"), PostgresVault(central_dsn) as store:
        with pytest.raises(RecordError, match="missing"):
            store.read(record_id)
    assert any("not verified" in r.getMessage() and bucket.endpoint in r.getMessage() for r in caplog.records)
    # What went in clear: the signed request, with the access key id (boto3 keeps the first
    # credentials it found in this process, so the id is not checked).
    assert bucket.requests and b"authorization: aws4-hmac-sha256 credential=" in bucket.requests[0].lower()


def test_the_endpoint_rule():
    for fine in (None, "https://minio.example:9000", "https://192.0.2.7", "http://127.0.0.1:9000",
                 "http://localhost:9000", "http://[::1]:9000"):
        check_blob_endpoint(fine)
    for remote in ("http://minio.example:9000", "http://192.0.2.7:9000", "HTTP://10.1.2.3"):
        with pytest.raises(UnverifiedStoreError, match="plain http"):
            check_blob_endpoint(remote)
    for malformed in ("ftp://192.0.2.7", "minio.example:9000", "https://", 17):
        with pytest.raises(ValueError, match="must be an https://HOST"):
            check_blob_endpoint(malformed)
