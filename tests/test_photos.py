"""Photos of activities (SPEC §8): read within bounds, matched by folder and file names, stored by content."""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, select

from monitor.core.config import Settings
from monitor.core.models import Activity, ImportBatch, Photo
from monitor.core.permissions import Actor, Forbidden
from monitor.evidence.images import PhotoRefused, describe
from monitor.evidence.photo_choices import activity_choices, hand_choices, plan_table
from monitor.evidence.photo_files import UploadRefused, read_files, read_zip
from monitor.evidence.photo_store import FolderStore, ObjectStore, StoreError, open_store
from monitor.evidence.photos import attach_plan, plan_photos
from monitor.ingest.rollback import rollback_batch
from tests.factories import OPERATOR, TODAY
from tests.photo_factories import heic, jpeg, load_activities, png, zipped

CHINESE = re.compile(r"[\u4e00-\u9fff]")
NJK_CLERK = Actor(name="泥江口镇经办人", role="town", town="泥江口镇")
LX_CLERK = Actor(name="兰溪镇经办人", role="town", town="兰溪镇")
REVIEWER = Actor(name="审核员", role="reviewer")


@pytest.fixture
def ids(session: Session, settings: Settings) -> dict[str, int]:
    return load_activities(session, settings)


def _plan(session, settings, entries, actor=OPERATOR, town=None):  # type: ignore[no-untyped-def]
    incoming = read_zip(zipped(entries), settings)
    return plan_photos(session=session, actor=actor, settings=settings, incoming=incoming, town=town)


def _photos(session: Session) -> list[tuple[int, str]]:
    session.expire_all()
    return sorted((p.activity_id, p.file_name) for p in session.exec(select(Photo)).all())


# (who, township picked, name) -> (status, title of the activity matched, words of the message)
MATCHING = [
    (OPERATOR, None, "油草塘村/2025-06-03 理论宣讲/1.jpg", "matched", "理论宣讲进村", ""),
    (OPERATOR, None, "油草塘村-0603-1.jpg", "matched", "理论宣讲进村", ""),
    (OPERATOR, None, "泥江口镇/油草塘村/6月3日/2.heic", "matched", "理论宣讲进村", ""),
    (OPERATOR, None, "油草塘村_20250603.jpg", "matched", "理论宣讲进村", ""),
    (OPERATOR, None, "NJK-YCT_20250605_文艺.jpg", "matched", "文艺演出", ""),
    (OPERATOR, None, "油草塘村/2025年6月5日 志愿服务/3.jpg", "matched", "志愿服务", ""),
    (OPERATOR, None, "油草塘村-6月5日-文艺演出.jpg", "matched", "文艺演出", ""),
    (OPERATOR, None, "油草塘村-0605.jpg", "ambiguous", None, "有 2 项活动"),
    (OPERATOR, None, "油草塘村-0607.jpg", "unmatched", None, "没有已上报的活动"),
    (OPERATOR, None, "油草塘村.jpg", "unmatched", None, "没有活动日期"),
    (OPERATOR, None, "IMG_1234.jpg", "unmatched", None, "没有找到单位名称"),
    (OPERATOR, None, "和平村-0603.jpg", "ambiguous", None, "可能是多个单位"),
    (OPERATOR, None, "泥江口镇/和平村/0603.jpg", "matched", "和平村宣讲", ""),
    (OPERATOR, None, "兰溪镇/和平村/0603.jpg", "matched", "兰溪和平村宣讲", ""),
    (REVIEWER, "兰溪镇", "和平村-0603.jpg", "matched", "兰溪和平村宣讲", ""),
    (NJK_CLERK, None, "和平村-0603.jpg", "matched", "和平村宣讲", ""),
    (LX_CLERK, None, "和平村/6月3日.jpg", "matched", "兰溪和平村宣讲", ""),
    (NJK_CLERK, None, "兰溪镇/和平村/0603.jpg", "unmatched", None, "兰溪镇"),
    (LX_CLERK, None, "油草塘村-0603.jpg", "unmatched", None, "泥江口镇"),
]


@pytest.mark.parametrize(("actor", "town", "name", "status", "title", "words"), MATCHING)
def test_photos_are_matched_by_their_folder_and_file_names(
    session, settings, ids, actor, town, name, status, title, words
):  # type: ignore[no-untyped-def]
    [item] = _plan(session, settings, {name: heic() if name.endswith(".heic") else jpeg()}, actor, town).items
    assert (item.status, item.activity_id) == (status, ids[title] if title else None), item.message
    assert words in item.message
    if status == "ambiguous" and "有 2 项活动" in words:
        assert sorted(item.candidates) == sorted([ids["志愿服务"], ids["文艺演出"]])


def test_the_plan_stores_nothing_and_attaching_stores_matched_and_hand_matched(session, settings, ids):  # type: ignore[no-untyped-def]
    entries = {
        "油草塘村/2025-06-03 理论宣讲/1.jpg": jpeg(1),
        "油草塘村/2025-06-03 理论宣讲/2.jpg": jpeg(2),
        "油草塘村-0605.jpg": jpeg(3),
        "不知道哪里.jpg": jpeg(4),
    }
    plan = _plan(session, settings, entries, NJK_CLERK)
    assert [i.status for i in plan.items] == ["matched", "matched", "ambiguous", "unmatched"]
    assert _photos(session) == []
    assert not settings.photos_dir.exists()
    store = open_store(settings)
    done = attach_plan(
        session=session, actor=NJK_CLERK, settings=settings, store=store, plan=plan, chosen={2: ids["文艺演出"]}
    )
    assert (done.stored, done.duplicates) == (3, 0)
    assert _photos(session) == [
        (ids["理论宣讲进村"], "1.jpg"),
        (ids["理论宣讲进村"], "2.jpg"),
        (ids["文艺演出"], "油草塘村-0605.jpg"),
    ]

    again = _plan(session, settings, entries, NJK_CLERK)
    assert [i.status for i in again.items] == ["duplicate", "duplicate", "duplicate", "unmatched"]
    assert again.items[2].activity_id == ids["文艺演出"]
    done = attach_plan(session=session, actor=NJK_CLERK, settings=settings, store=store, plan=again)
    assert (done.stored, done.duplicates) == (0, 0)
    assert len(_photos(session)) == 3


def test_the_same_photo_twice_is_one_file_in_the_store_and_one_row_per_activity(session, settings, ids):  # type: ignore[no-untyped-def]
    same = jpeg(7)
    entries = [("油草塘村-0603.jpg", same), ("和平村-0603.jpg", same), ("油草塘村/0603/again.jpg", same)]
    plan = _plan(session, settings, entries, NJK_CLERK)
    assert [i.status for i in plan.items] == ["matched", "matched", "duplicate"]
    done = attach_plan(session=session, actor=NJK_CLERK, settings=settings, store=open_store(settings), plan=plan)
    assert (done.stored, done.duplicates) == (2, 0)
    assert [a for a, _ in _photos(session)] == sorted([ids["理论宣讲进村"], ids["和平村宣讲"]])
    files = sorted(p.relative_to(settings.photos_dir).parts[0] for p in settings.photos_dir.rglob("*") if p.is_file())
    assert files == ["original", "thumb"]


def test_a_photo_linked_meanwhile_by_another_upload_counts_as_a_duplicate(session, settings, ids, monkeypatch):  # type: ignore[no-untyped-def]
    """Two clerks sending the same photo at once: the second finds the link made, not an error."""
    plan = _plan(session, settings, {"油草塘村-0603.jpg": jpeg(8)}, NJK_CLERK)
    store = open_store(settings)
    first = _plan(session, settings, {"油草塘村-0603.jpg": jpeg(8)}, NJK_CLERK)
    attach_plan(session=session, actor=NJK_CLERK, settings=settings, store=store, plan=first)
    monkeypatch.setattr(
        "monitor.evidence.photos._attached", lambda session, hashes: set()
    )  # read before the other commit
    done = attach_plan(session=session, actor=NJK_CLERK, settings=settings, store=store, plan=plan)
    assert (done.stored, done.duplicates) == (0, 1)
    assert len(_photos(session)) == 1


def test_heic_from_a_phone_is_taken(session, settings, ids):  # type: ignore[no-untyped-def]
    plan = _plan(session, settings, {"油草塘村/2025-06-03/IMG_0001.HEIC": heic(5)}, NJK_CLERK)
    [item] = plan.items
    assert (item.status, item.facts.kind if item.facts else None) == ("matched", "HEIC")
    attach_plan(session=session, actor=NJK_CLERK, settings=settings, store=open_store(settings), plan=plan)
    assert _photos(session) == [(ids["理论宣讲进村"], "IMG_0001.HEIC")]


def test_exif_orientation_is_applied_to_size_and_thumbnail():
    turned = jpeg(1, size=(800, 400), exif={0x0112: 6, 0x0132: "2025:06:03 09:30:00"})
    facts = describe(turned, limit_bytes=10 * 1048576, max_pixels=64_000_000)
    thumb = Image.open(io.BytesIO(facts.thumb))
    assert (facts.width, facts.height, facts.taken_at) == (400, 800, "2025-06-03 09:30:00")
    assert thumb.width < thumb.height


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10, "损坏"),
        (jpeg(1)[:200], "损坏"),
        (b"hello, this is a text file", "不是 JPEG、PNG 或 HEIC"),
        (b"\xff\xd8\xff" + bytes(10 * 1048576), "超过单张 10 MB"),
    ],
    ids=["corrupt", "truncated", "text", "over_10_mb"],
)
def test_what_is_not_a_photo_is_refused_in_chinese(data, words):  # type: ignore[no-untyped-def]
    with pytest.raises(PhotoRefused, match=words) as refused:
        describe(data, limit_bytes=10 * 1048576, max_pixels=64_000_000)
    assert CHINESE.search(str(refused.value))


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(100))) + chunk(b"IEND", b"")
    )


def test_a_small_png_claiming_huge_dimensions_is_refused_without_decoding():
    data = _png_claiming(100_000, 100_000)
    assert len(data) < 200
    started = time.perf_counter()
    with pytest.raises(PhotoRefused, match="像素过大"):
        describe(data, limit_bytes=10 * 1048576, max_pixels=64_000_000)
    assert time.perf_counter() - started < 1.0


def test_a_zip_entry_that_inflates_past_its_declared_size_is_capped_and_named_in_chinese(settings):
    big = 60 * 1048576
    raw = zipped({"油草塘村-0603.jpg": b"\xff\xd8\xff" + bytes(big - 3), "ok.jpg": jpeg(1)})
    assert raw.count(struct.pack("<I", big)) == 2  # the local header and the central directory
    bomb = raw.replace(struct.pack("<I", big), struct.pack("<I", 1000))
    first, second = read_zip(bomb, settings)
    assert (first.data, second.name) == (None, "ok.jpg")
    assert CHINESE.search(first.problem) and not re.search(r"[A-Za-z]{4,}", first.problem), first.problem


def test_a_zip_declaring_more_than_the_limit_is_refused_whole():
    settings = Settings(photo_upload_limit_mb=1)
    with pytest.raises(UploadRefused, match="超过上限"):
        read_zip(zipped({f"{n}.jpg": bytes(1048576) for n in range(3)}), settings)
    with pytest.raises(UploadRefused, match="不是有效的 zip"):
        read_zip(b"PK\x03\x04 broken", settings)


def test_gbk_named_entries_from_a_chinese_windows_zip_are_read(settings):
    name = "油草塘村/6月3日/合影.jpg"
    placeholder = "x" * len(name.encode("gbk"))
    raw = zipped({placeholder: jpeg(1)})
    gbk = raw.replace(placeholder.encode("ascii"), name.encode("gbk"))
    assert zipfile.ZipFile(io.BytesIO(gbk)).infolist()[0].flag_bits & 0x800 == 0
    [entry] = read_zip(gbk, settings)
    assert entry.name == name


def test_a_path_traversal_name_never_becomes_a_path(session, settings, ids, tmp_path: Path):  # type: ignore[no-untyped-def]
    entries = {"../../etc/x.jpg": jpeg(11), "/tmp/abs.jpg": jpeg(12), "..\\..\\win.jpg": jpeg(13)}
    plan = _plan(session, settings, entries, OPERATOR)
    assert [i.status for i in plan.items] == ["unmatched"] * 3
    chosen = dict.fromkeys(range(3), ids["理论宣讲进村"])
    attach_plan(
        session=session, actor=OPERATOR, settings=settings, store=open_store(settings), plan=plan, chosen=chosen
    )
    assert sorted(n for _, n in _photos(session)) == ["abs.jpg", "win.jpg", "x.jpg"]
    written = [p for p in settings.data_dir.rglob("*") if p.is_file() and not p.is_relative_to(settings.uploads_dir)]
    assert written and all(p.is_relative_to(settings.photos_dir) for p in written)
    assert all(re.fullmatch(r"[0-9a-f]{64}", p.name) for p in written)
    shas = {i.facts.sha256 for i in plan.items if i.facts}
    assert {p.name for p in written} == shas
    assert not [p for p in tmp_path.rglob("*") if p.name in {"x.jpg", "abs.jpg", "win.jpg"}]


def test_several_files_read_with_a_zip_among_them(settings):
    files = [("C:\\Users\\clerk\\油草塘村-0603.jpg", jpeg(1)), ("more.zip", zipped({"和平村-0603.png": png(2)}))]
    assert [(i.name, i.data is not None) for i in read_files(files, settings)] == [
        ("油草塘村-0603.jpg", True),
        ("和平村-0603.png", True),
    ]
    [big] = read_files([("big.jpg", bytes(10 * 1048576 + 1))], settings)
    assert big.data is None and "超过单张 10 MB" in big.problem


class FakeS3:
    """boto3's put/get/head/delete_object and list_objects_v2 over a dict; a missing key raises as botocore does."""

    class ClientError(Exception):
        def __init__(self, code: str) -> None:
            super().__init__(code)
            self.response = {"Error": {"Code": code}}

    def __init__(self, page_size: int = 1000) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.modified: dict[tuple[str, str], datetime] = {}
        self.puts = 0
        self.down = False
        self.page_size = page_size

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:  # noqa: N803
        self.puts += 1
        self.objects[(Bucket, Key)] = Body
        self.modified[(Bucket, Key)] = datetime.now(UTC)

    def delete_object(self, *, Bucket: str, Key: str) -> dict[str, object]:  # noqa: N803
        if self.down:
            raise self.ClientError("503")
        self.objects.pop((Bucket, Key), None)  # S3 answers a missing key's delete as done
        self.modified.pop((Bucket, Key), None)
        return {}

    def list_objects_v2(self, *, Bucket: str, Prefix: str = "", ContinuationToken: str = "") -> dict[str, object]:  # noqa: N803
        if self.down:
            raise self.ClientError("503")
        keys = sorted(k for b, k in self.objects if b == Bucket and k.startswith(Prefix) and k > ContinuationToken)
        page = keys[: self.page_size]
        contents = [
            {"Key": k, "Size": len(self.objects[(Bucket, k)]), "LastModified": self.modified[(Bucket, k)]} for k in page
        ]
        more = len(keys) > len(page)
        return {"Contents": contents, "IsTruncated": more, **({"NextContinuationToken": page[-1]} if more else {})}

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, object]:  # noqa: N803
        if (Bucket, Key) not in self.objects:
            raise self.ClientError("NoSuchKey")
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def head_object(self, *, Bucket: str, Key: str) -> dict[str, object]:  # noqa: N803
        if self.down:
            raise self.ClientError("503")
        if (Bucket, Key) not in self.objects:
            raise self.ClientError("404")
        return {}


def test_the_object_store_behaves_like_the_folder(session, settings, ids, tmp_path: Path):  # type: ignore[no-untyped-def]
    client = FakeS3()
    stores = [ObjectStore(client, "photos", "/monitor/"), FolderStore(tmp_path / "folder")]
    sha = "ab" * 32
    for store in stores:
        assert not store.has(sha, "original")
        store.put(sha, "original", b"one")
        store.put(sha, "original", b"one")
        assert (store.has(sha, "original"), store.get(sha, "original")) == (True, b"one")
        with pytest.raises(StoreError, match="照片文件缺失"):
            store.get(sha, "thumb")
        for bad in ("../../etc/passwd", "AB" * 32):
            with pytest.raises(ValueError):
                store.put(bad, "original", b"x")
            with pytest.raises(ValueError):
                store.get(bad, "original")
    assert client.puts == 1 and list(client.objects) == [("photos", f"monitor/original/ab/{sha}")]
    client.down = True
    with pytest.raises(StoreError, match="无法访问"):
        stores[0].has(sha, "original")
    client.down = False

    plan = _plan(session, settings, {"油草塘村-0603.jpg": jpeg(3), "和平村-0603.jpg": jpeg(3)}, NJK_CLERK)
    done = attach_plan(session=session, actor=NJK_CLERK, settings=settings, store=stores[0], plan=plan)
    assert (done.stored, client.puts) == (2, 3)  # one original and one thumbnail more
    digest = plan.items[0].facts.sha256 if plan.items[0].facts else ""
    assert stores[0].get(digest, "thumb")[:3] == b"\xff\xd8\xff"


def test_town_staff_cannot_attach_to_another_townships_activity(session, settings, ids):  # type: ignore[no-untyped-def]
    plan = _plan(session, settings, {"合影.jpg": jpeg(1)}, LX_CLERK)
    with pytest.raises(Forbidden):
        attach_plan(
            session=session,
            actor=LX_CLERK,
            settings=settings,
            store=open_store(settings),
            plan=plan,
            chosen={0: ids["理论宣讲进村"]},
        )
    assert _photos(session) == []
    assert not settings.photos_dir.exists()


def test_rolling_back_the_activity_batch_removes_its_photo_links(session, settings, ids):  # type: ignore[no-untyped-def]
    entries = {"油草塘村-0603-1.jpg": jpeg(1), "油草塘村-0603-2.jpg": jpeg(2), "和平村-0603.jpg": jpeg(3)}
    plan = _plan(session, settings, entries, NJK_CLERK)
    attach_plan(session=session, actor=NJK_CLERK, settings=settings, store=open_store(settings), plan=plan)
    assert len(_photos(session)) == 3
    [batch] = session.exec(select(ImportBatch).where(ImportBatch.kind == "activities")).all()
    assert batch.id is not None
    done = rollback_batch(session=session, actor=OPERATOR, settings=settings, batch_id=batch.id, today=TODAY)
    assert (done.removed, done.photos) == (len(ids), 3)
    assert _photos(session) == []
    assert session.exec(select(Activity)).all() == []


def test_hand_match_choices_put_candidates_first_and_stay_in_the_clerks_township(session, settings, ids):  # type: ignore[no-untyped-def]
    entries = {"油草塘村-0605.jpg": jpeg(1), "油草塘村.jpg": jpeg(2), "合影.jpg": jpeg(3), "油草塘村-0603.jpg": jpeg(4)}
    plan = _plan(session, settings, entries, NJK_CLERK)
    assert plan.months == ["2025-06"]
    choices = hand_choices(session=session, actor=NJK_CLERK, plan=plan)
    assert sorted(choices) == [0, 1, 2]
    assert set(list(choices[0])[:2]) == {ids["志愿服务"], ids["文艺演出"]}
    assert set(choices[1]) == {ids["理论宣讲进村"], ids["志愿服务"], ids["文艺演出"]}  # the unit's activities
    assert set(choices[2]) == {ids[t] for t in ("理论宣讲进村", "志愿服务", "文艺演出", "和平村宣讲")}  # the township's
    assert choices[0][ids["文艺演出"]] == "油草塘村 · 2025-06-05 · 文艺演出"

    everyone = activity_choices(session=session, actor=OPERATOR, months=["2025-06"])
    assert everyone[ids["兰溪和平村宣讲"]] == "兰溪镇和平村 · 2025-06-03 · 兰溪和平村宣讲"
    assert activity_choices(session=session, actor=OPERATOR, months=["2025-07"]) == {}
    with pytest.raises(Forbidden):
        activity_choices(session=session, actor=LX_CLERK, town="泥江口镇")

    table = plan_table(session=session, plan=plan)
    assert list(table.columns) == ["文件", "状态", "单位", "活动日期", "活动名称", "说明"]
    assert table.iloc[3][["状态", "单位", "活动日期", "活动名称"]].tolist() == [
        "已匹配",
        "油草塘村",
        "2025-06-03",
        "理论宣讲进村",
    ]
    assert table.iloc[0][["状态", "单位"]].tolist() == ["多个候选", "油草塘村"]
