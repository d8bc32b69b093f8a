"""Large records in an S3-compatible bucket (a local moto S3 server the test starts), rows and log
entries in PostgreSQL: the same guarantees as inline records."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import psycopg
import pytest
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.vault import Vault
from facesel.vault.errors import RecordError
from facesel.ports import unclaimed_port
from test_vault_common import orl_faces, share_paths, track_result

BUCKET = "facesel-evidence"


@pytest.fixture(scope="module")
def s3_endpoint():
    """A local S3-compatible server (moto's, in its own process) with one bucket; credentials via env."""
    pytest.importorskip("boto3")
    pytest.importorskip("moto.server")
    port = unclaimed_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    try:
        import boto3
        from botocore.exceptions import EndpointConnectionError

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        # The server takes a moment to listen (it imports Flask and boto: 1.75 s at load 5 on the
        # shared 2-core machine), longer on a loaded machine: wait for it, up to a bound, not for a
        # fixed 10 s. Only "nobody listens yet" is retried; any other error is the test's.
        deadline, made = time.monotonic() + 120, False
        while not made and server.poll() is None and time.monotonic() < deadline:
            try:
                client.create_bucket(Bucket=BUCKET)
                made = True
            except EndpointConnectionError:
                time.sleep(0.1)
        assert made, f"the S3 test server did not come up (exit code {server.poll()})"
        yield endpoint, client
    finally:
        server.terminate()
        server.wait(timeout=30)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_large_records_go_to_the_bucket_and_open_exactly(central_dsn, authority, cameras, tmp_path, shared_data,
                                                         s3_endpoint):
    endpoint, client = s3_endpoint
    pub, folder = authority
    faces = orl_faces(shared_data, 3)
    store = PostgresVault.create(central_dsn, pub, blob_url=f"s3://{BUCKET}/site-1", blob_endpoint=endpoint,
                                 blob_threshold=60_000)
    cameras.register(store, "cam-a")
    with Vault(tmp_path / "cam-a", cameras.pub_path, camera=cameras("cam-a")) as vault:
        small = vault.seal(track_result(faces[0]))                    # about 20 KB: inline
        large = vault.seal(track_result(faces[1], clip=faces * 2))    # a clip: above the threshold
    assert sync_vault(tmp_path / "cam-a", store, cameras("cam-a")).stored == 2
    with psycopg.connect(central_dsn) as conn:
        placed = dict(conn.execute("SELECT record_id, blob_key IS NOT NULL AND data IS NULL FROM records"))
    assert placed == {small: False, large: True}
    key = f"site-1/records/cam-a/{large[:2]}/{large}.fsr"  # the camera in the key since review round 11
    assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == store.read(large)
    opened = open_from(store, share_paths(folder)[:2], folder / "keystore", "case 15/4", tmp_path / "out",
                       all_records=True)
    crops = {o.row.record_id: o.snapshot.crop() for o in opened}
    np.testing.assert_array_equal(crops[large], faces[1])
    assert len(opened[[o.row.record_id for o in opened].index(large)].snapshot.clip()) == 6
    # A second client reads the settings from the store itself.
    with PostgresVault(central_dsn) as other:
        assert other.blobs is not None and other.read(large) == store.read(large)
    # Someone with bucket access swaps the object: opening refuses it, nothing is written.
    client.put_object(Bucket=BUCKET, Key=key, Body=store.read(small))
    with pytest.raises(RecordError, match=large):
        open_from(store, share_paths(folder)[:2], folder / "keystore", "case 15/5", tmp_path / "out2",
                  all_records=True)
    assert not (tmp_path / "out2").exists()
    # Retention deletes the object too.
    assert store.purge(max(r.sealed_at for r in store.rows()) + pub.retention_seconds + 1, allow_future=True) == 2
    assert client.list_objects_v2(Bucket=BUCKET, Prefix="site-1/").get("KeyCount", 0) == 0
    assert store.verify_audit().ok
    store.close()


def test_a_redelivered_large_record_is_stored_once(central_dsn, authority, cameras, tmp_path, shared_data,
                                                   s3_endpoint):
    endpoint, client = s3_endpoint
    pub, _ = authority
    faces = orl_faces(shared_data, 2)
    with PostgresVault.create(central_dsn, pub, blob_url=f"s3://{BUCKET}/site-2", blob_endpoint=endpoint,
                              blob_threshold=60_000) as store:
        cameras.register(store, "cam-a")
        with Vault(tmp_path / "cam-a", cameras.pub_path, camera=cameras("cam-a")) as vault:
            rid = vault.seal(track_result(faces[0], clip=faces * 3))
        data = (tmp_path / "cam-a" / "records" / f"{rid}.fsr").read_bytes()
        assert [a.status for a in store.receive([data])] == ["stored"]
        assert [a.status for a in store.receive([data])] == ["duplicate"]
        assert client.list_objects_v2(Bucket=BUCKET, Prefix="site-2/")["KeyCount"] == 1
        with pytest.raises(ValueError, match="cannot switch"):
            PostgresVault.create(central_dsn, pub, blob_url=f"s3://{BUCKET}/elsewhere", blob_endpoint=endpoint)
