from io import StringIO

from django.core.management import call_command

from reporting import exports
from reporting.charts import grouped_bars, nice_ceiling


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (0, 1, 7, 10, 11, 180, 332, 2001)] == [
        1, 1, 10, 10, 20, 200, 500, 2500]


def test_bars_fit_the_plot_and_scale_with_values():
    chart = grouped_bars(categories=["Jan", "Feb"], series=[
        ("2024", "bar-before", [50, 0]), ("2025", "bar-current", [100, 25])])
    assert len(chart.bars) == 4 and len(chart.groups) == 2
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.value == 100 and tallest.y == chart.top
    assert all(bar.y + bar.height <= chart.bottom + 0.1 for bar in chart.bars)
    assert [bar.value for bar in chart.bars] == [50, 100, 0, 25]
    assert chart.ticks[-1]["label"] == "100"


def test_empty_chart_does_not_divide_by_zero():
    chart = grouped_bars(categories=["Jan"], series=[("2025", "bar-current", [0])])
    assert chart.bars[0].height == 0


def test_tdi_format_is_described_from_the_code():
    out = StringIO()
    call_command("tdi_export", "--describe", stdout=out)
    text = out.getvalue()
    for column in exports.TDI_COLUMNS:
        assert f"| `{column}` |" in text
    assert "11 Heroin" in text and "99 Not known" in text
