"""The photo object store against a real S3 API: moto's S3 server in a process of its own, spoken to
over HTTP by boto3 exactly as `MONITOR_PHOTO_STORE=s3://…` and `MONITOR_S3_ENDPOINT` set it up."""

from __future__ import annotations

import http.client
import itertools
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError
from sqlmodel import Session, select

from monitor.core.config import Settings
from monitor.core.models import Photo
from monitor.evidence.photo_gc import collect_garbage
from monitor.evidence.photo_removal import remove_photo
from monitor.evidence.photo_store import ObjectStore, PhotoStore, StoreError, open_store
from monitor.evidence.photos import attach_one
from tests.factories import OPERATOR, TODAY
from tests.photo_factories import jpeg, load_activities
from tests.test_photos import NJK_CLERK

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ONE, TWO = "ab" * 32, "cd" * 32
_buckets = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)  # no proxy in the way
    try:
        connection.request("GET", "/moto-api/")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _start(log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """moto's server on a free port of the loopback; a port taken meanwhile by another process is tried again."""
    for _ in range(3):
        port = _free_port()
        with log.open("ab") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            if _answers(port):
                return server, port
            time.sleep(0.05)
        if server.poll() is None:
            server.kill()
        server.wait()
    pytest.fail(f"moto's S3 server did not start:\n{log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server, port = _start(tmp_path_factory.mktemp("moto") / "server.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The environment an operator sets for the server, and a boto3 client of the test's own to look in the bucket."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    environment = {
        "MONITOR_S3_ENDPOINT": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it reads the credentials once and keeps them
    return boto3.session.Session().client("s3", endpoint_url=s3_endpoint)


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new, empty bucket for each test."""
    name = f"photos-{next(_buckets)}"
    s3.create_bucket(Bucket=name)
    return name


def _keys(s3: Any, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def _refused(call: Any, words: str) -> StoreError:
    """The StoreError a call raises, in Chinese and free of the client's English, with its cause kept."""
    with pytest.raises(StoreError, match=words) as refused:
        call()
    message = str(refused.value)
    assert CHINESE.search(message) and "An error occurred" not in message and "botocore" not in message, message
    assert isinstance(refused.value.__cause__, ClientError | BotoCoreError)
    return refused.value


def test_originals_and_thumbnails_go_in_and_out_under_the_prefix(s3, bucket):  # type: ignore[no-untyped-def]
    store = open_store(Settings(photo_store_url=f"s3://{bucket}/district/photos/"))
    assert isinstance(store, ObjectStore)
    assert not store.has(ONE, "original")
    store.put(ONE, "original", b"one")
    store.put(ONE, "original", b"not written again")
    store.put(ONE, "thumb", b"\xff\xd8\xff thumb")
    store.put(TWO, "original", b"two!")
    assert _keys(s3, bucket) == [
        f"district/photos/original/ab/{ONE}",
        f"district/photos/original/cd/{TWO}",
        f"district/photos/thumb/ab/{ONE}",
    ]
    assert (store.get(ONE, "original"), store.get(ONE, "thumb"), store.get(TWO, "original")) == (
        b"one",
        b"\xff\xd8\xff thumb",
        b"two!",
    )
    assert store.has(ONE, "original") and store.has(ONE, "thumb") and not store.has(TWO, "thumb")
    head = s3.head_object(Bucket=bucket, Key=f"district/photos/thumb/ab/{ONE}")
    assert head["ContentType"] == "image/jpeg"

    store.delete(ONE, "original")
    assert not store.has(ONE, "original") and store.has(ONE, "thumb")
    assert _keys(s3, bucket) == [f"district/photos/original/cd/{TWO}", f"district/photos/thumb/ab/{ONE}"]
    with pytest.raises(ValueError):
        store.put("../../etc/passwd", "original", b"x")


def test_a_missing_object_is_told_in_chinese_and_deleting_it_is_no_error(s3, bucket):  # type: ignore[no-untyped-def]
    store = open_store(Settings(photo_store_url=f"s3://{bucket}/district"))
    _refused(lambda: store.get(ONE, "original"), f"照片文件缺失：{ONE[:12]}")
    assert not store.has(ONE, "thumb")
    store.delete(ONE, "original")
    store.put(ONE, "original", b"one")
    store.delete(ONE, "original")
    store.delete(ONE, "original")
    assert _keys(s3, bucket) == []


def test_a_missing_bucket_refuses_every_write_and_read_in_chinese(s3, bucket):  # type: ignore[no-untyped-def]
    store = open_store(Settings(photo_store_url="s3://no-such-bucket/district"))
    for call in (
        lambda: store.put(ONE, "original", b"one"),
        lambda: store.get(ONE, "original"),
        lambda: store.delete(ONE, "original"),
        lambda: list(store.files()),
    ):
        _refused(call, "照片存储无法访问：存储桶“no-such-bucket”不存在")
    assert "no-such-bucket" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_an_unreachable_store_refuses_in_chinese_at_once(s3, monkeypatch):  # type: ignore[no-untyped-def]
    with socket.socket() as held:  # a port bound and not listening: every connection is refused
        held.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{held.getsockname()[1]}"
        monkeypatch.setenv("MONITOR_S3_ENDPOINT", closed)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the operator's retry setting; no retry to wait for here
        store = open_store(Settings(photo_store_url="s3://photos/district"))
        started = time.monotonic()
        for call in (
            lambda: store.put(ONE, "original", b"one"),
            lambda: store.get(ONE, "original"),
            lambda: store.has(ONE, "original"),
            lambda: store.delete(ONE, "original"),
            lambda: list(store.files()),
        ):
            _refused(call, f"照片存储无法访问：无法连接 {closed}，请检查 MONITOR_S3_ENDPOINT")
        assert time.monotonic() - started < 5

    monkeypatch.setenv("MONITOR_S3_ENDPOINT", "not a url")
    with pytest.raises(StoreError, match="MONITOR_S3_ENDPOINT（现为“not a url”）"):
        open_store(Settings(photo_store_url="s3://photos/district"))


def test_a_store_that_never_answers_is_told_in_chinese_within_the_wait(s3, monkeypatch):  # type: ignore[no-untyped-def]
    """A server that takes the connection and never answers holds an upload READ_TIMEOUT_S per
    attempt, not botocore's 60 s."""
    monkeypatch.setattr("monitor.evidence.photo_store.READ_TIMEOUT_S", 1)
    with socket.socket() as silent:  # listening: the kernel takes the connection, nothing ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setenv("MONITOR_S3_ENDPOINT", endpoint)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        store = open_store(Settings(photo_store_url="s3://photos/district"))
        started = time.monotonic()
        _refused(lambda: store.get(ONE, "original"), f"照片存储无法访问：{endpoint} 没有应答（超时）")
        assert time.monotonic() - started < 5


def test_no_credentials_is_told_in_chinese(s3, bucket, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    store = open_store(Settings(photo_store_url=f"s3://{bucket}/district"))
    _refused(lambda: store.put(ONE, "original", b"one"), "缺少访问密钥，请设置 AWS_ACCESS_KEY_ID")


def _attach(session: Session, settings: Settings, store: PhotoStore, activity_id: int) -> Photo:
    attach_one(
        session=session,
        actor=NJK_CLERK,
        settings=settings,
        store=store,
        activity_id=activity_id,
        name="合影.jpg",
        data=jpeg(21),
    )
    session.expire_all()
    return session.exec(select(Photo).where(Photo.activity_id == activity_id)).one()


def test_a_photo_goes_to_the_bucket_and_leaves_it_with_the_last_activity_that_shows_it(s3, bucket, session, settings):  # type: ignore[no-untyped-def]
    settings = replace(settings, photo_store_url=f"s3://{bucket}/monitor")
    ids = load_activities(session, settings)
    store = open_store(settings)
    first = _attach(session, settings, store, ids["理论宣讲进村"])
    second = _attach(session, settings, store, ids["和平村宣讲"])  # the same picture on another activity
    sha = first.sha256
    assert second.sha256 == sha
    assert _keys(s3, bucket) == [f"monitor/original/{sha[:2]}/{sha}", f"monitor/thumb/{sha[:2]}/{sha}"]
    assert store.get(sha, "original") == jpeg(21)
    assert store.get(sha, "thumb")[:3] == b"\xff\xd8\xff"

    assert first.id is not None and second.id is not None
    removed = remove_photo(
        session=session, actor=NJK_CLERK, settings=settings, store=store, photo_id=first.id, today=TODAY
    )
    assert not removed.file_deleted
    assert len(_keys(s3, bucket)) == 2, "the other activity still shows the picture"
    removed = remove_photo(
        session=session, actor=NJK_CLERK, settings=settings, store=store, photo_id=second.id, today=TODAY
    )
    assert removed.file_deleted
    assert _keys(s3, bucket) == []
    assert session.exec(select(Photo)).all() == []


def test_an_upload_to_a_missing_bucket_is_refused_and_links_nothing(s3, bucket, session, settings):  # type: ignore[no-untyped-def]
    settings = replace(settings, photo_store_url="s3://no-such-bucket/monitor")
    ids = load_activities(session, settings)
    with pytest.raises(StoreError, match="存储桶“no-such-bucket”不存在"):
        _attach(session, settings, open_store(settings), ids["理论宣讲进村"])
    assert session.exec(select(Photo)).all() == []


def test_files_lists_only_the_stores_own_objects_and_gc_removes_the_unlinked(s3, bucket, session, settings):  # type: ignore[no-untyped-def]
    settings = replace(settings, photo_store_url=f"s3://{bucket}/monitor")
    ids = load_activities(session, settings)
    store = open_store(settings)
    kept = _attach(session, settings, store, ids["文艺演出"])
    store.put(ONE, "original", b"orphan")
    store.put(ONE, "thumb", b"o")
    foreign = [f"elsewhere/original/ab/{ONE}", "monitor/original/ab/notes.txt", f"monitor/original/cd/{ONE}"]
    for key in foreign:
        s3.put_object(Bucket=bucket, Key=key, Body=b"not the store's")

    listed = {(f.sha256, f.kind): f.size for f in store.files()}
    assert listed == {
        (kept.sha256, "original"): len(jpeg(21)),
        (kept.sha256, "thumb"): listed[(kept.sha256, "thumb")],
        (ONE, "original"): 6,
        (ONE, "thumb"): 1,
    }
    now = datetime.now(UTC)
    assert all(f.modified.tzinfo is not None and abs(f.modified - now) < timedelta(minutes=5) for f in store.files())

    done = collect_garbage(
        session=session, actor=OPERATOR, settings=settings, store=store, now=now + timedelta(hours=25)
    )
    assert (done.photos, done.files, done.bytes) == (1, 2, 7)
    sha = kept.sha256
    assert _keys(s3, bucket) == sorted(
        [*foreign, f"monitor/original/{sha[:2]}/{sha}", f"monitor/thumb/{sha[:2]}/{sha}"]
    )
