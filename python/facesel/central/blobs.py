"""Object storage for large records: the ciphertext of a record above a size threshold lives in an
S3-compatible bucket (AWS S3, MinIO, Ceph RGW), its row and log entry in PostgreSQL.

The bucket only ever sees sealed bytes. Keys are ``<prefix>records/<id[:2]>/<id>.fsr``. Uploads
are conditional (``If-None-Match: *``): a redelivery of the same record is a no-op, and a
different object under an existing key is refused rather than overwritten. Credentials come from
boto3's usual sources (environment, shared config, instance role); the bucket must exist.
"""

from __future__ import annotations

import hashlib
import os
from urllib.parse import urlparse

from facesel.central.pg_backend import CentralUnavailableError
from facesel.vault.errors import RecordError


def blob_key(prefix: str, record_id: str) -> str:
    return f"{prefix}records/{record_id[:2]}/{record_id}.fsr"


class S3BlobStore:
    """One bucket (and key prefix) of an S3-compatible service.

    Parameters
    ----------
    url : str
        ``s3://BUCKET`` or ``s3://BUCKET/PREFIX``.
    endpoint_url : str, optional
        The service's endpoint for anything but AWS itself (e.g. ``https://minio.example:9000``).
    """

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        import boto3

        parsed = urlparse(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"url must look like s3://BUCKET[/PREFIX], got {url!r}")
        self.url, self.bucket = url, parsed.netloc
        self.prefix = parsed.path.strip("/") + "/" if parsed.path.strip("/") else ""
        self.client = boto3.client("s3", endpoint_url=endpoint_url,
                                   region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))

    def _call(self, what: str, **kwargs):
        import botocore.exceptions

        try:
            return getattr(self.client, what)(Bucket=self.bucket, **kwargs)
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as err:
            raise CentralUnavailableError(f"object store {self.url} is unreachable: {err}") from err

    def put(self, record_id: str, data: bytes) -> str:
        """Store ``data`` under the record's key unless it is there already; return the key.

        Raises
        ------
        RecordError
            When another object is stored under that key.
        """
        import botocore.exceptions

        key = blob_key(self.prefix, record_id)
        try:
            self._call("put_object", Key=key, Body=data, IfNoneMatch="*")
        except botocore.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                raise
            if hashlib.sha256(self.get(key)).digest() != hashlib.sha256(data).digest():
                raise RecordError(f"record {record_id}: object {key} in {self.url} holds other bytes") from None
        return key

    def get(self, key: str) -> bytes:
        import botocore.exceptions

        try:
            return self._call("get_object", Key=key)["Body"].read()
        except botocore.exceptions.ClientError as err:
            raise RecordError(f"object {key} is missing from {self.url} ({err})") from None

    def delete(self, key: str) -> None:
        self._call("delete_object", Key=key)  # idempotent: deleting a missing key succeeds
