"""Server-drawn SVG bar charts: no JavaScript, no CDN, printable, and within the strict
Content-Security-Policy (colours come from CSS classes in static/css/app.css)."""

import math
from dataclasses import dataclass, field


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    css: str
    title: str


@dataclass
class Chart:
    width: int
    height: int
    left: int
    bottom: int
    top: int
    ticks: list[dict] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    legend: list[dict] = field(default_factory=list)


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return int(math.ceil(step * power))
    return int(10 * power)  # pragma: no cover - the loop always returns


def grouped_bars(*, categories: list[str], series: list[tuple[str, str, list[int]]],
                 width: int = 720, height: int = 260) -> Chart:
    """Bars grouped by category: ``series`` is ``[(label, css class, values), ...]``, one
    value per category."""
    left, right, top, bottom = 52, 8, 12, 28
    plot_width, plot_height = width - left - right, height - top - bottom
    highest = nice_ceiling(max((v for _, _, values in series for v in values), default=0))
    chart = Chart(width=width, height=height, left=left, bottom=height - bottom, top=top)
    for i in range(5):
        value = highest * i / 4
        chart.ticks.append({"y": round(top + plot_height - plot_height * i / 4, 1),
                            "label": f"{value:g}"})
    slot = plot_width / max(len(categories), 1)
    bar_width = slot * 0.8 / max(len(series), 1)
    for index, category in enumerate(categories):
        x0 = left + slot * index + slot * 0.1
        chart.groups.append({"x": round(left + slot * (index + 0.5), 1), "label": category})
        for position, (label, css, values) in enumerate(series):
            value = values[index]
            bar_height = plot_height * value / highest
            chart.bars.append(Bar(
                x=round(x0 + bar_width * position, 1),
                y=round(top + plot_height - bar_height, 1),
                width=round(bar_width, 1), height=round(bar_height, 1), value=value, css=css,
                title=f"{category} {label}: {value}"))
    chart.legend = [{"label": label, "css": css, "y": top + 14 * i}
                    for i, (label, css, _) in enumerate(series)]
    return chart
