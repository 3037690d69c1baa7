"""The report's two pictures, drawn with Altair (Vega-Lite) and rendered to static SVG by vl-convert:
the SVG goes inline into the page, so opening it needs no script and no network."""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

STATUS_COLORS = {
    "active": "#2e7d32", "suspended": "#ef6c00", "invited": "#1565c0", "invite_expired": "#9e9e9e", "invite_withdrawn": "#bdbdbd",
    "removed": "#c62828",
}
CHANGE_COLORS = {
    "access granted": "#2e7d32", "access revoked": "#c62828", "role changed": "#6a1b9a",
    "suspended": "#ef6c00", "reinstated": "#00838f", "archived": "#5d4037", "unarchived": "#8d6e63",
}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _svg(chart: Any, prefix: str, label: str) -> str:
    import vl_convert as vlc

    spec = chart.configure(font=FONT).configure_view(stroke=None).to_dict()
    svg = vlc.vegalite_to_svg(spec)
    # two inline SVGs share one document: keep their ids (clip paths, gradients) apart
    svg = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return re.sub(r"^<svg ", f'<svg role="img" aria-label="{label}" ', svg, count=1)


def _dt(d: datetime) -> Any:
    import altair as alt

    return alt.DateTime(year=d.year, month=d.month, date=d.day, hours=d.hour, minutes=d.minute, utc=True)


def accounts_chart(columns: list[str], rows: list[tuple]) -> str | None:
    """A horizontal stacked bar per system: accounts by status."""
    import altair as alt

    if not rows:
        return None
    data = [dict(zip(columns, r)) for r in rows]
    statuses = [s for s in STATUS_COLORS if any(d["status"] == s for d in data)]
    statuses += sorted({d["status"] for d in data} - set(statuses))
    chart = alt.Chart(alt.Data(values=data)).mark_bar().encode(
        y=alt.Y("system:N", title=None, sort="ascending"),
        x=alt.X("sum(accounts):Q", title="accounts"),
        color=alt.Color("status:N", title="status",
                        scale=alt.Scale(domain=statuses, range=[STATUS_COLORS.get(s, "#607d8b") for s in statuses]),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("status_order:Q"),
    ).transform_calculate(
        status_order=f"indexof({statuses!r}, datum.status)"
    ).properties(width=620, height=alt.Step(30))
    return _svg(chart, "accounts-chart", "Accounts per system, stacked by status")


def timeline_chart(columns: list[str], rows: list[tuple], since: datetime, until: datetime) -> str | None:
    """Changes per day over the review period, stacked by kind of change."""
    import altair as alt

    if not rows:
        return None
    at, kind = columns.index("changed_at"), columns.index("change")
    per_day = Counter((r[at].strftime("%Y-%m-%dT00:00:00Z"), r[kind]) for r in rows)
    data = [{"day": d, "change": k, "changes": n} for (d, k), n in sorted(per_day.items())]
    kinds = [k for k in CHANGE_COLORS if any(d["change"] == k for d in data)]
    chart = alt.Chart(alt.Data(values=data)).mark_bar(width={"band": 0.9}).encode(
        x=alt.X("utcyearmonthdate(day):T", title=None,
                scale=alt.Scale(domain=[_dt(since), _dt(until)]), axis=alt.Axis(format="%d %b", labelAngle=0)),
        y=alt.Y("sum(changes):Q", title="changes"),
        color=alt.Color("change:N", title=None, scale=alt.Scale(domain=kinds, range=[CHANGE_COLORS[k] for k in kinds]),
                        legend=alt.Legend(orient="bottom")),
    ).properties(width=620, height=160)
    return _svg(chart, "timeline-chart", "Changes per day in the review period, stacked by kind")
