"""Where photo files live: one small interface, a folder by default, an S3-compatible store as a drop-in.

Files are addressed by their SHA-256, so the same picture uploaded twice is stored once, and a
name a user chose never becomes a path. Each photo has its original and a JPEG thumbnail.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from monitor.core.calendar import as_utc
from monitor.core.config import Settings
from monitor.core.errors import Refusal

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
KINDS = ("original", "thumb")


class StoreError(Refusal):
    """The photo store cannot be reached or does not hold a file it should."""

    code = "store"


def _key(sha256: str, kind: str) -> str:
    if not _SHA256.match(sha256) or kind not in KINDS:
        raise ValueError(f"not a photo key: {sha256!r} {kind!r}")
    return f"{kind}/{sha256[:2]}/{sha256}"


@dataclass(frozen=True)
class StoredFile:
    """One file the store holds, as listed for removing the ones no photo row links."""

    sha256: str
    kind: str
    size: int
    modified: datetime  # aware, UTC


class PhotoStore(Protocol):
    def put(self, sha256: str, kind: str, data: bytes) -> None: ...
    def get(self, sha256: str, kind: str) -> bytes: ...
    def has(self, sha256: str, kind: str) -> bool: ...
    def delete(self, sha256: str, kind: str) -> None: ...  # a file already gone is no error
    def files(self) -> Iterator[StoredFile]: ...


class FolderStore:
    """Files under one folder: original/ab/abcd…, thumb/ab/abcd…; written whole or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, sha256: str, kind: str) -> Path:
        return self.root / _key(sha256, kind)

    def put(self, sha256: str, kind: str, data: bytes) -> None:
        path = self._path(sha256, kind)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, sha256: str, kind: str) -> bytes:
        try:
            return self._path(sha256, kind).read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(f"照片文件缺失：{sha256[:12]}…（{kind}）") from exc

    def has(self, sha256: str, kind: str) -> bool:
        return self._path(sha256, kind).exists()

    def delete(self, sha256: str, kind: str) -> None:
        self._path(sha256, kind).unlink(missing_ok=True)

    def files(self) -> Iterator[StoredFile]:
        for kind in KINDS:
            for path in sorted((self.root / kind).glob("*/*")):
                if not _SHA256.match(path.name) or path.parent.name != path.name[:2]:
                    continue  # a write in progress (.part-…) or something not put here
                try:
                    found = path.stat()
                except FileNotFoundError:  # removed meanwhile
                    continue
                yield StoredFile(path.name, kind, found.st_size, datetime.fromtimestamp(found.st_mtime, UTC))


# How long a page waits for an object store that does not answer, per attempt (botocore's own
# defaults are 60 s each; AWS_MAX_ATTEMPTS sets the attempts): a photo upload or a gallery waits
# that long before it is told why, never a minute or more.
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 30


class ObjectStore:
    """An S3-compatible bucket, through any client with boto3's put/get/head/delete_object and
    list_objects_v2."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    def _name(self, sha256: str, kind: str) -> str:
        key = _key(sha256, kind)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, sha256: str, kind: str, data: bytes) -> None:
        if self.has(sha256, kind):
            return
        content_type = "image/jpeg" if kind == "thumb" else "application/octet-stream"
        key = self._name(sha256, kind)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except Exception as exc:
            raise self._failure(exc) from exc

    def get(self, sha256: str, kind: str) -> bytes:
        key = self._name(sha256, kind)  # a malformed key is a mistake here, not a missing file
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return bytes(response["Body"].read())
        except Exception as exc:
            if _missing(exc):
                raise StoreError(f"照片文件缺失：{sha256[:12]}…（{kind}）") from exc
            raise self._failure(exc) from exc

    def has(self, sha256: str, kind: str) -> bool:
        key = self._name(sha256, kind)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _missing(exc):
                return False
            raise self._failure(exc) from exc
        return True

    def delete(self, sha256: str, kind: str) -> None:
        key = self._name(sha256, kind)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)  # a missing key is deleted all the same
        except Exception as exc:
            if not _missing(exc):
                raise self._failure(exc) from exc

    def files(self) -> Iterator[StoredFile]:
        for kind in KINDS:
            prefix = f"{self.prefix}/{kind}/" if self.prefix else f"{kind}/"
            token = ""
            while True:
                try:
                    page = self.client.list_objects_v2(
                        Bucket=self.bucket, Prefix=prefix, **({"ContinuationToken": token} if token else {})
                    )
                except Exception as exc:
                    raise self._failure(exc) from exc
                for item in page.get("Contents", []):
                    name = str(item["Key"]).rsplit("/", 1)[-1]
                    if _SHA256.match(name) and item["Key"] == self._name(name, kind):
                        modified = item["LastModified"]
                        modified = as_utc(modified)
                        yield StoredFile(name, kind, int(item["Size"]), modified.astimezone(UTC))
                if not page.get("IsTruncated"):
                    break
                token = str(page["NextContinuationToken"])

    def _failure(self, exc: Exception) -> StoreError:
        """What went wrong, told in Chinese; the client's own exception stays as the cause."""
        names = {cls.__name__ for cls in type(exc).__mro__}
        code = _code(exc)
        if names & {"NoCredentialsError", "PartialCredentialsError"}:
            reason = "缺少访问密钥，请设置 AWS_ACCESS_KEY_ID 和 AWS_SECRET_ACCESS_KEY"
        elif code == "NoSuchBucket":
            reason = f"存储桶“{self.bucket}”不存在"
        elif code in {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            reason = f"访问被拒绝（{code}），请检查访问密钥和存储桶“{self.bucket}”的权限"
        elif names & {"ConnectTimeoutError", "ReadTimeoutError"}:
            endpoint = getattr(getattr(self.client, "meta", None), "endpoint_url", "") or "对象存储"
            reason = f"{endpoint} 没有应答（超时），请检查对象存储服务和网络"
        elif names & {"ConnectionError", "HTTPClientError", "OSError"}:
            endpoint = getattr(getattr(self.client, "meta", None), "endpoint_url", "") or "对象存储"
            reason = f"无法连接 {endpoint}，请检查 MONITOR_S3_ENDPOINT 和网络"
        else:
            reason = f"存储服务返回错误（{code or type(exc).__name__}）"
        return StoreError(f"照片存储无法访问：{reason}。")


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _missing(exc: Exception) -> bool:
    return _code(exc) in {"404", "NoSuchKey", "NotFound"}


def open_store(settings: Settings) -> PhotoStore:
    """The store the settings name: the data folder's photos/ unless MONITOR_PHOTO_STORE is s3://bucket/prefix."""
    url = settings.photo_store_url
    if not url:
        return FolderStore(settings.photos_dir)
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise StoreError(f"照片存储地址“{url}”无法识别，应为 s3://存储桶/前缀，或留空使用本地文件夹。")
    try:
        import boto3  # type: ignore[import-not-found]  # only for an object store
    except ImportError as exc:
        raise StoreError("使用对象存储需要安装 boto3（pip install boto3）。") from exc
    from botocore.config import Config  # type: ignore[import-not-found]

    endpoint = os.environ.get("MONITOR_S3_ENDPOINT") or None
    waits = Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S)
    try:
        client = boto3.client("s3", endpoint_url=endpoint, config=waits)
    except Exception as exc:
        raise StoreError(
            f"对象存储的连接设置无法使用（{type(exc).__name__}）：请检查 MONITOR_S3_ENDPOINT"
            f"（现为“{endpoint or '未设置'}”）、AWS_DEFAULT_REGION 和 AWS_PROFILE。"
        ) from exc
    return ObjectStore(client, parsed.netloc, parsed.path)
