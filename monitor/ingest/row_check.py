"""A table of activity rows under check: the issues found so far and the rows they refuse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from monitor.core.issues import Issue
from monitor.files.loose import Loose
from monitor.files.readers import Table
from monitor.ingest.sheet_context import RowSheets, SheetContext


@dataclass
class RowCheck:
    """One table under check: its rows, what its sheets say about them, the issues found so far and
    the rows refused for them (`bad`), and the cells read loosely."""

    table: Table
    contexts: list[SheetContext]
    sheets: RowSheets
    warnings: list[Issue]
    bad: pd.Series
    errors: list[Issue] = field(default_factory=list)
    loose: Loose = field(default_factory=Loose)

    @property
    def frame(self) -> pd.DataFrame:
        return self.table.frame

    @property
    def head(self) -> dict[str, str]:
        return self.table.headers

    def report(self, mask: pd.Series, make: Callable[[int, dict[str, str]], Issue]) -> None:
        """An error made by `make(row, cells)` for each row of `mask`; those rows are refused."""
        if mask.any():
            self.bad |= mask
            frame = self.frame
            for row, *values in frame.loc[mask].itertuples():
                self.errors.append(make(row, dict(zip(frame.columns, values, strict=True))))
