"""The photos of one upload: a zip (folders and all), several files or a folder, read within bounds.

A zip is judged by its directory before anything is inflated: too many entries, or more
declared bytes than the upload limit, refuse it whole; each entry is then read with a cap, so
an entry that lies about its size costs no more than the cap. Names inside the zip are text to
match activities by, never paths on this machine.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from monitor.core.config import Settings
from monitor.core.errors import Refusal

MAX_ENTRIES = 5000
_IGNORED = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif")


class UploadRefused(Refusal, ValueError):
    """The upload as a whole cannot be read (not a zip, too large, too many files)."""

    code = "bad_upload"


class ZipUnreadable(UploadRefused):
    """A zip that cannot be opened at all: the whole upload when it is the upload, that file's
    无法读取 when it is one file among several."""


@dataclass
class Incoming:
    name: str  # the path inside the zip, or the file name, with "/" between folders
    data: bytes | None
    problem: str = ""  # why it was not read (too large)


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Chinese Windows zips write GBK names without the UTF-8 flag; zipfile reads those as cp437."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name.replace("\\", "/")


def _skipped(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return name.endswith("/") or any(part in name for part in _IGNORED) or base.startswith(".")


@dataclass
class Budget:
    """What one upload may take, whatever it holds: several zips and files share one budget. Every
    entry counts, the folders and __MACOSX/ entries a zip carries too."""

    entries: int = 0
    unpacked: int = 0

    def take_entries(self, count: int) -> None:
        self.entries += count
        if self.entries > MAX_ENTRIES:
            raise UploadRefused(f"本次上传的文件过多（{self.entries} 个），每次最多 {MAX_ENTRIES} 个。")

    def take_bytes(self, size: int, settings: Settings) -> None:
        self.unpacked += size
        if self.unpacked > settings.photo_upload_limit_bytes:
            raise UploadRefused(f"本次上传解压后超过上限（{settings.photo_upload_limit_mb} MB），请分几次上传。")


def read_zip(data: bytes, settings: Settings, budget: Budget | None = None) -> list[Incoming]:
    budget = budget if budget is not None else Budget()
    if len(data) > settings.photo_upload_limit_bytes:
        raise UploadRefused(f"压缩包超过 {settings.photo_upload_limit_mb} MB 的上限，请分几次上传。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise ZipUnreadable("不是有效的 zip 压缩包，或压缩包已损坏。") from exc
    budget.take_entries(len(infos))
    entries = [info for info in infos if not _skipped(_zip_name(info))]
    declared = budget.unpacked + sum(info.file_size for info in entries)
    if declared > settings.photo_upload_limit_bytes:
        raise UploadRefused(
            f"压缩包解压后约 {declared / 1048576:.0f} MB，"
            f"超过上限（{settings.photo_upload_limit_mb} MB），请分几次上传。"
        )
    out = []
    for info in entries:
        name = _zip_name(info)
        if info.flag_bits & 0x1:
            out.append(Incoming(name, None, "文件已加密，无法读取。"))
            continue
        if info.file_size > settings.photo_limit_bytes:
            out.append(Incoming(name, None, _too_large(info.file_size, settings)))
            continue
        try:
            with archive.open(info) as member:
                content = member.read(settings.photo_limit_bytes + 1)
        except NotImplementedError:
            out.append(Incoming(name, None, "压缩方式不受支持，请用电脑自带的“压缩”功能重新打包。"))
            continue
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
            out.append(Incoming(name, None, "压缩包中的这个文件已损坏（解压出的内容与记录不符），无法读取。"))
            continue
        if len(content) > settings.photo_limit_bytes:
            out.append(Incoming(name, None, _too_large(len(content), settings)))
            continue
        budget.take_bytes(len(content), settings)
        out.append(Incoming(name, content))
    return out


def _too_large(size: int, settings: Settings) -> str:
    return f"照片大小 {size / 1048576:.1f} MB，超过单张 {settings.photo_limit_mb} MB 的上限。"


def read_files(files: list[tuple[str, bytes]], settings: Settings) -> list[Incoming]:
    """A multi-file upload; a zip among the files is opened in place."""
    if sum(len(data) for _, data in files) > settings.photo_upload_limit_bytes:
        raise UploadRefused(f"本次上传超过 {settings.photo_upload_limit_mb} MB 的上限，请分几次上传。")
    out: list[Incoming] = []
    budget = Budget()
    for name, data in files:
        name = name.replace("\\", "/").rsplit("/", 1)[-1]
        if name.lower().endswith(".zip"):
            try:
                out.extend(read_zip(data, settings, budget))
            except ZipUnreadable as exc:
                if len(files) == 1:
                    raise  # the zip is the upload
                budget.take_entries(1)
                out.append(Incoming(name, None, str(exc)))
            continue
        budget.take_entries(1)
        if len(data) > settings.photo_limit_bytes:
            out.append(Incoming(name, None, _too_large(len(data), settings)))
        else:
            budget.take_bytes(len(data), settings)
            out.append(Incoming(name, data))
    return out


def read_folder(root: Path, settings: Settings) -> list[Incoming]:
    """The files under a folder, named by their path inside it (the subfolders carry unit and date, as
    in a zip), within the same bounds as one upload; a zip among them is opened in place."""
    out: list[Incoming] = []
    budget = Budget()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        name = relative.as_posix()
        if _skipped(name) or any(part.startswith(".") for part in relative.parts):
            continue
        budget.take_entries(1)
        is_zip = name.lower().endswith(".zip")
        cap = settings.photo_upload_limit_bytes if is_zip else settings.photo_limit_bytes
        try:
            with path.open("rb") as handle:
                content = handle.read(cap + 1)
        except OSError:
            out.append(Incoming(name, None, "无法读取这个文件（没有权限或已被占用）。"))
            continue
        if is_zip:
            try:
                inside = read_zip(content, settings, budget)
            except ZipUnreadable as exc:
                out.append(Incoming(name, None, str(exc)))
                continue
            out.extend(Incoming(f"{name[:-4]}/{entry.name}", entry.data, entry.problem) for entry in inside)
            continue
        if len(content) > settings.photo_limit_bytes:
            out.append(Incoming(name, None, _too_large(len(content), settings)))
            continue
        budget.take_bytes(len(content), settings)
        out.append(Incoming(name, content))
    return out
