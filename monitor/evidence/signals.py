"""疑点 (SPEC §8): hints that tell a reviewer where to look, never verdicts; nothing is excluded by one.

Each signal belongs to an activity of the period (activity_id set) or to a unit-month (activity_id
empty). The data is read in three set-based queries (the units, the activities of the period and
the months before it, every stored photo: monitor.evidence.signal_data) and the signals are computed
on arrays: those of the photos in monitor.evidence.photo_signals, those of titles and dates in
monitor.evidence.ledger_signals, the matching of photos and count_outlier here.

Definitions, with the thresholds from Settings:
- resubmitted: an activity stored after an activity 不予认定 (Review decision 'rejected') of the
  same unit and date, or carrying a photo attached after a photo of one (the same SHA-256, or a
  perceptual hash within photo_near_distance bits, as photo_reused reads them), whatever its unit,
  date or month: what was turned down, back under another title or on another activity. "After" is
  the order rows were stored in, so the original a rejected copy was made from does not carry it.
  An activity that is itself 不予认定 does not either: it has been decided already.
- photo_reused: one of the activity's photos has the same SHA-256, or a perceptual hash within
  photo_near_distance bits, as a photo stored on an activity of another unit or another date, in
  any township and any month (a picture reused from last year counts). Near hashes are found by
  bands, not by comparing all pairs (near_pairs).
- no_photo: an activity without a photo, from the first month in which any activity of the
  district has one (earlier months were reported before photos were attached; with no photo
  stored at all it is never raised).
- photo_date: a photo whose EXIF date is more than photo_date_days days from the activity's date
  (photo_date_days itself is not flagged: a camera's clock and a late evening shift a day or two),
  or before the earliest year (Settings.earliest_year, 2000), which no camera of an activity shows:
  such a time (0001-01-01, a clock never set) is named not credible.
- copied_title: one title (title_key) at copied_title_units or more stations of the district on one
  day; stations only, counted in every township whichever one is asked for, so an activity's signal
  does not depend on the filter.
- month_end_bunching: a unit-month with at least 3 activities of which a share of at least
  bunching_share is dated in the month's last bunching_days calendar days, or with at least 2
  activities all on one day.
- count_outlier: see outlier_scores.
- repeated_title: a unit used the same title in each of repeated_title_months or more consecutive
  months; raised at every month of the period that ends such a run (a title used January to April
  is raised in March and in April), on that month's first activity with the title.

Activities 不予认定 are counted like any other: what was reported is the evidence.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sqlmodel import Session

from monitor.core.calendar import month_range, parse_month_arg, shift_month
from monitor.core.config import Settings
from monitor.core.errors import Refusal
from monitor.core.query import Query
from monitor.evidence import ledger_signals, photo_signals
from monitor.evidence.signal_data import SignalData, iso_days, part, read_activities, read_photos, read_rejected
from monitor.figures.metrics import active_grid, quota_grid
from monitor.roster.units import units_frame

HISTORY_MONTHS = 12  # the months before a month that count_outlier looks at

SIGNALS: dict[str, str] = {
    "resubmitted": "不予认定后重报",
    "photo_reused": "照片重复使用",
    "no_photo": "无照片",
    "photo_date": "拍摄日期不符",
    "copied_title": "多站同题",
    "month_end_bunching": "月底集中",
    "count_outlier": "数量异常",
    "repeated_title": "标题雷同",
}
_RULES = Settings()  # the thresholds as the explanations state them
EXPLANATIONS: dict[str, str] = {
    "resubmitted": "活动与一项已不予认定的活动同单位、同日期，或使用了已不予认定活动的照片（相同或几乎相同），"
    "可能是被退回的活动换个标题（如加上“补充材料”）重新上报。请对照原活动的认定理由核实。",
    "photo_reused": "活动照片与其他单位或其他日期活动的照片相同或几乎相同，可能是同一张照片重复上报。"
    "请对照两处活动的照片核实。",
    "no_photo": "活动没有上传照片，无法核实是否开展。只在区里开始上传照片以后的月份提示。",
    "photo_date": f"照片记录的拍摄时间与活动日期相差超过 {_RULES.photo_date_days} 天，照片可能不是本次活动拍摄的；"
    f"手机或相机时间设置错误也会这样。拍摄时间早于 {_RULES.earliest_year} 年的照片提示为时间不可信。",
    "copied_title": f"同一天有 {_RULES.copied_title_units} 个以上的站使用完全相同的活动名称，可能是统一安排的活动，"
    "也可能是照抄台账。请抽查各站是否实际开展。",
    "month_end_bunching": f"该单位当月的活动大多（{_RULES.bunching_share:.0%} 以上）集中在月底最后 "
    f"{_RULES.bunching_days} 天，或全部在同一天，可能是为完成任务集中补报。",
    "count_outlier": f"该单位当月活动数远高于它此前 {HISTORY_MONTHS} 个月的一贯水平（修正 z 值超过 "
    f"{_RULES.outlier_z:g}），请核实是否如实开展。",
    "repeated_title": f"该单位连续 {_RULES.repeated_title_months} 个月以上使用相同的活动名称，可能是重复上报同一活动。",
}
COLUMNS = ["code", "unit_code", "unit_name", "town", "month", "activity_id", "message"]
EXTRA_COLUMNS = ["date", "title", "unit_id", "type"]  # date 'YYYY-MM-DD' and title of the activity, or None
RANKING_COLUMNS = ["unit_code", "unit_name", "town", "signals", "codes"]

_PHOTO_CODES = {"resubmitted", "photo_reused", "no_photo", "photo_date"}


class UnknownSignal(Refusal, ValueError):
    """A signal code that is not one of SIGNALS."""

    code = "bad_argument"


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; sorting is much faster than np.unique's hashing for wide integers."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


# --- photo_reused ---------------------------------------------------------------------------------


def _bands(distance: int) -> list[tuple[int, int]]:
    """(shift, mask) of distance + 1 bands that share the 64 bits as evenly as they can."""
    count = min(distance + 1, 64)
    widths = [64 // count + (1 if b < 64 % count else 0) for b in range(count)]
    shifts = np.cumsum([0, *widths[:-1]])
    return [(int(s), (1 << w) - 1) for s, w in zip(shifts, widths, strict=True)]


def near_pairs(values: np.ndarray, query: np.ndarray, distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i from `query`, with hamming(values[i], values[j]) <= distance, i == j included.

    `values` are 64-bit perceptual hashes (uint64). Split into distance + 1 bands, two hashes at most
    `distance` bits apart agree on at least one whole band (pigeonhole), so only hashes that share a
    band's value are compared: bucket by each band (a sort), pair within buckets, then count the bits.
    Meaningful for 0 <= distance < 64.
    """
    values = np.asarray(values, dtype=np.uint64)
    query = _unique(np.asarray(query, dtype="int64"))
    if distance < 0 or not len(query):
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    found_i, found_j = [], []
    for shift, mask in _bands(distance):
        keys = (values >> np.uint64(shift)) & np.uint64(mask)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        # Each query's bucket is a run of the sorted keys; expand every (query, member) pair.
        low = np.searchsorted(ordered, keys[query], side="left")
        sizes = np.searchsorted(ordered, keys[query], side="right") - low
        starts = np.repeat(low - (np.cumsum(sizes) - sizes), sizes)
        i = np.repeat(query, sizes)
        j = order[starts + np.arange(len(i))]
        close = np.bitwise_count(values[i] ^ values[j]) <= distance
        found_i.append(i[close])
        found_j.append(j[close])
    code = _unique(np.concatenate(found_i) * len(values) + np.concatenate(found_j))
    return code // len(values), code % len(values)


def _matching_photos(photos: pd.DataFrame, mine: np.ndarray, theirs: np.ndarray, distance: int) -> pd.DataFrame:
    """Pairs of photos (row positions in `photos`), one of `mine` and one of `theirs`: the same file (near
    False; a photo is paired with itself when it is on both sides) or another file whose perceptual hash is
    within `distance` bits (near True)."""
    rows = np.arange(len(photos))
    sha = photos["sha256"].to_numpy()
    left = pd.DataFrame({"mine": rows[mine], "sha256": sha[mine]})
    right = pd.DataFrame({"theirs": rows[theirs], "sha256": sha[theirs]})
    same = left.merge(right, on="sha256")[["mine", "theirs"]]
    values, valid = photos["hash"].to_numpy(), photos["hashed"].to_numpy()
    inverse, distinct = pd.factorize(values[valid])
    index = np.full(len(photos), -1, dtype="int64")
    index[valid] = inverse
    i, j = near_pairs(distinct, index[mine & valid], distance)
    near = (
        pd.DataFrame({"mine": rows[mine], "i": index[mine]})
        .merge(pd.DataFrame({"i": i, "j": j}), on="i")
        .merge(pd.DataFrame({"theirs": rows[theirs], "j": index[theirs]}), on="j")
    )
    near = near[sha[near["mine"].to_numpy()] != sha[near["theirs"].to_numpy()]]
    return pd.concat([same.assign(near=False), near[["mine", "theirs"]].assign(near=True)], ignore_index=True)


def _photo_reused(data: SignalData, settings: Settings) -> pd.DataFrame:
    photos = data.photos
    assert photos is not None
    mine = photos["activity_id"].isin(data.period["id"]).to_numpy()
    if not mine.any():
        return part("photo_reused", [], [], [], [])
    pairs = _matching_photos(photos, mine, np.ones(len(photos), dtype=bool), settings.photo_near_distance)
    return photo_signals.photo_reused(data, pairs)


def _resubmitted(data: SignalData, settings: Settings) -> pd.DataFrame:
    rejected, photos = data.rejected, data.photos
    assert rejected is not None and photos is not None
    period = data.period[~data.period["id"].isin(rejected["id"])]  # those 不予认定 are decided already
    if rejected.empty or period.empty:
        return part("resubmitted", [], [], [], [])
    # Only what came after the rejected one: the activity stored later (a later row), the photo attached
    # later. The original a rejected copy was made from is photo_reused's, not this signal's.
    links = photo_signals.same_day_links(period, rejected)
    mine = photos["activity_id"].isin(period["id"]).to_numpy()
    theirs = photos["activity_id"].isin(rejected["id"]).to_numpy()
    if mine.any() and theirs.any():
        pairs = _matching_photos(photos, mine, theirs, settings.photo_near_distance)
        links.update(photo_signals.later_photo_links(photos, pairs))
    return photo_signals.resubmitted(data, period, links)


# --- count_outlier --------------------------------------------------------------------------------


def outlier_scores(counts: np.ndarray, history: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Modified z-scores of `counts` (one per unit) against each unit's history, and the months of history.

    z = 0.6745 × (x − median) / MAD over the history months that are `active` (rows: units, columns:
    months). Counts are whole numbers, so a steady unit (2, 2, 2, 3, 2, 2) has MAD 0 and any rise
    would be infinitely far: MAD is floored at 1, which makes z > 3.5 mean at least 6 above the
    median. Units without history get NaN.

    count_outlier: x is the number of activities stored for the unit-month (不予认定 included); the
    history is the unit's counts in those of the 12 months before it in which it was active (quota > 0)
    and the district had recorded any activity; at least outlier_history such months are needed.
    """
    masked = np.where(active, history, np.nan).astype("float64")
    months = active.sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # units with no history month: all-NaN rows
        median = np.nanmedian(masked, axis=1)
        mad = np.nanmedian(np.abs(masked - median[:, None]), axis=1)
    return 0.6745 * (counts - median) / np.maximum(mad, 1.0), months


def _count_outlier(data: SignalData, settings: Settings, session: Session) -> pd.DataFrame:
    units, window = data.scope, data.window
    shape = (len(units), len(window))
    counts = np.zeros(shape, dtype="int64")
    frame = data.activities
    row = pd.Index(units["id"]).get_indexer(frame["unit_id"])
    column = pd.Index(window).get_indexer(frame["month"])
    keep = (row >= 0) & (column >= 0)
    np.add.at(counts, (row[keep], column[keep]), 1)
    active = active_grid(units, window) & (quota_grid(session=session, units=units, months=window) > 0)
    # Months before the district's first recorded activity hold no data, not zeros.
    recorded = pd.Index(window).isin(frame["month"].unique())
    active &= np.cumsum(recorded) > 0
    found: list[tuple[int, str, float, int, float]] = []
    for month in data.months:
        at = window.index(month)
        history = slice(max(at - HISTORY_MONTHS, 0), at)
        z, months = outlier_scores(counts[:, at], counts[:, history], active[:, history])
        with np.errstate(invalid="ignore"):
            flagged = (months >= settings.outlier_history) & (z > settings.outlier_z)
        median = np.nanmedian(np.where(active[:, history], counts[:, history], np.nan)[flagged], axis=1)
        for n, m, score, med in zip(np.flatnonzero(flagged), months[flagged], z[flagged], median, strict=True):
            found.append((int(n), month, float(score), int(m), float(med)))
    messages = [
        f"本月 {counts[n, window.index(month)]} 次，前 {m} 个有任务月份的中位数为 {med:g} 次（修正 z 值 {score:.1f}）"
        for n, month, score, m, med in found
    ]
    ids = units["id"].to_numpy()[[n for n, *_ in found]] if found else []
    return part("count_outlier", ids, [f[1] for f in found], [np.nan] * len(found), messages)


# --- the table ------------------------------------------------------------------------------------


def signals(*, session: Session, query: Query, code: str | None = None) -> pd.DataFrame:
    """All signals of activities/unit-months in the query's months, for the units of its township and
    type (the whole district for a reviewer's query without them), optionally only one code; columns
    COLUMNS + EXTRA_COLUMNS, activity_id as nullable Int64; sorted by town, unit_code, month, code (in
    SIGNALS order), date, activity_id."""
    query = query.allowed("review")
    settings = query.settings
    if code is not None and code not in SIGNALS:
        raise UnknownSignal(f"没有“{code}”这种疑点，可选：{'、'.join(f'{c}（{n}）' for c, n in SIGNALS.items())}。")
    months = query.months
    lookback = max(HISTORY_MONTHS, settings.repeated_title_months - 1)
    window = month_range(shift_month(months[0], -lookback), months[-1])
    units = units_frame(session=session)
    chosen = units[units["town"] == query.town] if query.town else units
    if query.unit_type:
        chosen = chosen[chosen["type"] == query.unit_type]
    wanted = [code] if code else list(SIGNALS)
    data = SignalData(
        months=months,
        window=window,
        units=units.set_index("id"),
        scope=chosen.reset_index(drop=True),
        activities=read_activities(session, window[0], window[-1]),
        photos=read_photos(session) if _PHOTO_CODES & set(wanted) else None,
        rejected=read_rejected(session) if "resubmitted" in wanted else None,
    )
    builders = {
        "resubmitted": lambda: _resubmitted(data, settings),
        "photo_reused": lambda: _photo_reused(data, settings),
        "no_photo": lambda: photo_signals.no_photo(data),
        "photo_date": lambda: photo_signals.photo_date(data, settings),
        "copied_title": lambda: ledger_signals.copied_title(data, settings),
        "month_end_bunching": lambda: ledger_signals.month_end_bunching(data, settings),
        "count_outlier": lambda: _count_outlier(data, settings, session),
        "repeated_title": lambda: ledger_signals.repeated_title(data, settings),
    }
    found = pd.concat([builders[c]() for c in wanted], ignore_index=True)
    return _table(found, data)


def _table(found: pd.DataFrame, data: SignalData) -> pd.DataFrame:
    units = data.units
    where = units.index.get_indexer(found["unit_id"])
    acts = data.activities.set_index("id")
    flagged = found["activity_id"].notna().to_numpy()
    at = np.full(len(found), -1, dtype="int64")
    at[flagged] = acts.index.get_indexer(found["activity_id"][flagged].astype("int64"))
    days = np.full(len(found), None, dtype=object)
    titles = np.full(len(found), None, dtype=object)
    days[at >= 0] = iso_days(acts["day"].to_numpy()[at[at >= 0]])
    titles[at >= 0] = acts["title"].to_numpy(dtype=object)[at[at >= 0]]
    table = pd.DataFrame(
        {
            "code": found["code"].to_numpy(dtype=object),
            "unit_code": units["code"].to_numpy(dtype=object)[where],
            "unit_name": units["name"].to_numpy(dtype=object)[where],
            "town": units["town"].to_numpy(dtype=object)[where],
            "month": found["month"].to_numpy(dtype=object),
            "activity_id": found["activity_id"].astype("Int64").to_numpy(),
            "message": found["message"].to_numpy(dtype=object),
            "date": pd.Series(days, dtype=object),
            "title": pd.Series(titles, dtype=object),
            "unit_id": found["unit_id"].to_numpy(dtype="int64"),
            "type": units["type"].to_numpy(dtype=object)[where],
        }
    )
    table["activity_id"] = table["activity_id"].astype("Int64")
    rank = table["code"].map({c: n for n, c in enumerate(SIGNALS)})
    order = table.assign(rank=rank, day=table["date"].fillna(""), aid=table["activity_id"].fillna(0)).sort_values(
        ["town", "unit_code", "month", "rank", "day", "aid"], kind="stable"
    )
    return table.loc[order.index].reset_index(drop=True)


def ranking(frame: pd.DataFrame) -> pd.DataFrame:
    """Units ranked by their signals: one row per unit with unit_code, unit_name, town, signals (count), codes
    (distinct codes joined by '、' as Chinese names, in SIGNALS order), most first, then by town and unit code."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "signals" else object) for c in RANKING_COLUMNS})
    rank = {c: n for n, c in enumerate(SIGNALS)}
    grouped = frame.groupby("unit_code", sort=False)
    out = pd.DataFrame(
        {
            "unit_name": grouped["unit_name"].first(),
            "town": grouped["town"].first(),
            "signals": grouped.size().astype("int64"),
            "codes": grouped["code"].agg(lambda s: "、".join(SIGNALS[c] for c in sorted(set(s), key=rank.__getitem__))),
        }
    ).reset_index()
    out = out.sort_values(["signals", "town", "unit_code"], ascending=[False, True, True], kind="stable")
    return out[RANKING_COLUMNS].reset_index(drop=True)


def to_json(frame: pd.DataFrame, *, start: str, end: str) -> dict:
    """{"start","end","signals":[{"code","unit_code","unit_name","town","month","activity_id","message"}]}"""
    rows = [
        {
            "code": str(code),
            "unit_code": str(unit_code),
            "unit_name": str(unit_name),
            "town": str(town),
            "month": str(month),
            "activity_id": None if pd.isna(activity_id) else int(activity_id),
            "message": str(message),
        }
        for code, unit_code, unit_name, town, month, activity_id, message in zip(
            *(frame[c] for c in COLUMNS), strict=True
        )
    ]
    return {"start": parse_month_arg(start), "end": parse_month_arg(end), "signals": rows}
