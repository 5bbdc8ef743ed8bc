"""Import results, batch records and the kept original files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlmodel import Session

from monitor.core.issues import Issue, issues_frame, issues_table
from monitor.core.models import ImportBatch
from monitor.core.permissions import Actor, may_touch

KEPT_EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "xls": "xls", "ods": "ods", "docx": "docx"}


@dataclass
class ImportResult:
    """What one import did (or, on a dry run, would do)."""

    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    file_error: Issue | None = None
    batch_id: int | None = None
    sha256: str = ""
    rejected_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    created: int = 0
    updated: int = 0
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)  # roster: before → after per unit and field
    reading: dict[str, object] | None = None  # 识别结果: how the file was read (readers.Reading.to_json)

    @property
    def exit_code(self) -> int:
        if self.file_error is not None:
            return 2
        return 1 if self.errors else 0

    def issues_frame(self) -> pd.DataFrame:
        return issues_frame(([self.file_error] if self.file_error else []) + self.errors)

    def issues_table(self) -> pd.DataFrame:
        """issues_frame under Chinese headings, for the preview on screen."""
        return issues_table(([self.file_error] if self.file_error else []) + self.errors)

    def to_json(self) -> dict[str, object]:
        errors = ([self.file_error] if self.file_error else []) + self.errors
        doc: dict[str, object] = {
            "rows": self.rows,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": [e.to_json() for e in errors],
            "warnings": [w.to_json() for w in self.warnings],
            "batch_id": self.batch_id,
            "sha256": self.sha256,
        }
        if self.file_error is not None:
            doc["file_error"] = self.file_error.code
        if self.reading is not None:
            doc["reading"] = self.reading
        return doc


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def keep_original(data: bytes, *, uploads_dir: Path, digest: str, fmt: str | None) -> Path:
    """Store the uploaded bytes under their hash; the uploaded name never becomes a path."""
    uploads_dir.mkdir(parents=True, exist_ok=True)
    path = uploads_dir / f"{digest}.{KEPT_EXTENSIONS.get(fmt or '', 'bin')}"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def kept_path(batch: ImportBatch, *, uploads_dir: Path) -> Path | None:
    for ext in (*KEPT_EXTENSIONS.values(), "bin"):
        path = uploads_dir / f"{batch.sha256}.{ext}"
        if path.exists():
            return path
    return None


def original_file(*, session: Session, actor: Actor, batch_id: int, uploads_dir: Path) -> tuple[str, bytes] | None:
    """The file an import was made from, as (download name, bytes), for whoever may see the batch:
    town staff only their own township's. None when the file is not kept here."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        return None
    may_touch(actor, "view", batch.town)
    path = kept_path(batch, uploads_dir=uploads_dir)
    return None if path is None else (f"{batch.id}_{batch.file_name}", path.read_bytes())


def new_batch(*, kind: str, user: str, file_name: str, digest: str, size: int) -> ImportBatch:
    return ImportBatch(
        kind=kind,
        user=user,
        created_at=datetime.now(UTC),
        file_name=Path(file_name.replace("\\", "/")).name[:255] or "unnamed",
        sha256=digest,
        size=size,
        status="pending",
    )


def rejected_rows(
    frame: pd.DataFrame,
    headers: dict[str, str],
    errors: list[Issue],
    locate: Callable[[int], tuple[str, int]] | None = None,
) -> pd.DataFrame:
    """The refused rows as the user wrote them, with a 问题说明 column to fix and re-upload.

    The errors still carry row ids (see readers.Table.locate); the table shows the sheet and the
    row number as Excel shows them.
    """
    by_row: dict[int, list[str]] = {}
    for error in errors:
        if error.row is not None:
            by_row.setdefault(error.row, []).append(error.message)
    rows = frame.index[frame.index.isin(list(by_row))].tolist()  # in sheet order; a million rows walked in C
    shown = [c for c in frame.columns if not str(c).startswith("_")]
    out = frame.loc[rows, shown].rename(columns=headers)
    places = [locate(r) if locate else ("", r) for r in rows]
    out.insert(0, "行号", [row for _, row in places])
    if any(sheet for sheet, _ in places):
        out.insert(0, "工作表", [sheet for sheet, _ in places])
    out["问题说明"] = ["；".join(by_row[r]) for r in rows]
    return out.reset_index(drop=True)
