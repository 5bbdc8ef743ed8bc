"""Plotly figures of the overview and unit screens, with a CJK font stack."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

FONT = "Microsoft YaHei, PingFang SC, Noto Sans CJK SC, Noto Sans SC, sans-serif"
STATUS_COLORS = {"达标": "#2e7d32", "未达标": "#f9a825", "未开展": "#c62828"}
RED, GREY = "#c0272d", "#9e9e9e"


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        title=title,
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.15},
        plot_bgcolor="white",
    )
    fig.update_xaxes(gridcolor="#eeeeee")
    fig.update_yaxes(gridcolor="#eeeeee")
    return fig


def monthly(by_month: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(
        x=by_month["month"],
        y=by_month["held"],
        name="开展活动",
        marker_color=RED,
        hovertemplate="%{x}<br>开展 %{y} 场<extra></extra>",
    )
    fig.add_scatter(
        x=by_month["month"],
        y=by_month["required"],
        name="任务数",
        mode="lines+markers",
        line={"color": GREY, "dash": "dash"},
        hovertemplate="%{x}<br>任务 %{y} 场<extra></extra>",
    )
    fig.update_xaxes(type="category")
    return _layout(fig, "每月开展活动与任务数（场次）")


TOWNS_CHARTED = 40  # a province's 2,000 townships would make a chart 50,000 pixels tall


def by_town(frame: pd.DataFrame) -> go.Figure:
    """Townships by completion, the lowest at the top where the eye starts; of many, the lowest
    TOWNS_CHARTED (the table of 单位明细 and the 通报 list them all)."""
    total = len(frame)
    frame = frame.sort_values("completion_rate", ascending=True, na_position="first").head(TOWNS_CHARTED)
    frame = frame.iloc[::-1]
    title = "各乡镇（街道）完成率"
    if total > TOWNS_CHARTED:
        title = f"完成率最低的 {len(frame)} 个乡镇（街道）（共 {total} 个）"
    rates = frame["completion_rate"].astype(float) * 100
    colors = [RED if r < 100 else "#2e7d32" for r in rates.fillna(0)]
    fig = go.Figure(
        go.Bar(
            x=rates,
            y=frame["town"],
            orientation="h",
            marker_color=colors,
            text=[f"{r:.2f}%" for r in rates],
            textposition="outside",
            hovertemplate="%{y}<br>完成率 %{x:.2f}%<extra></extra>",
        )
    )
    # The label sits above the plot area, clear of the top bar's own figure.
    fig.add_vline(
        x=100,
        line_dash="dash",
        line_color=GREY,
        annotation_text="100%",
        annotation_position="top",
        annotation_yanchor="bottom",
    )
    fig.update_xaxes(ticksuffix="%", range=[0, max(110.0, float(rates.max() or 0)) * 1.15])
    return _layout(fig, title, height=max(360, 26 * len(frame) + 80))


def distribution(frame: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for status, color in STATUS_COLORS.items():
        part = frame[frame["status_label"] == status]
        fig.add_bar(
            x=part["type_label"],
            y=part["unit_months"],
            name=status,
            marker_color=color,
            hovertemplate="%{x}·" + status + " %{y} 个单位月<extra></extra>",
        )
    fig.update_layout(barmode="stack")
    return _layout(fig, "单位月度达标分布（按类型）")


def unit_history(history: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    # Bars take the grid's colours: met, below, none (a month outside the active range stays grey).
    colours = {"met": STATUS_COLORS["达标"], "below": STATUS_COLORS["未达标"], "none": STATUS_COLORS["未开展"]}
    fig.add_bar(
        x=history["month"],
        y=history["held"],
        name="开展活动",
        marker_color=[colours.get(status, GREY) for status in history["status"]],
        hovertemplate="%{x} 开展 %{y} 场<extra></extra>",
    )
    fig.add_scatter(
        x=history["month"],
        y=history["quota_month"],
        name="月度任务",
        mode="lines+markers",
        line={"color": GREY, "dash": "dash"},
    )
    fig.update_xaxes(type="category")
    return _layout(fig, "月度开展情况", height=300)
