"""The growth chart's geometry: two lines over 30 days, drawn by the template as SVG."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.stats import DayGrowth

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    joined: str  # polyline points
    left: str
    top_value: int
    ticks: list[tuple[float, str]]  # (x, day label) every week
    baseline: float
    top: float
    x_start: float
    x_end: float


def growth_chart(days: list[DayGrowth]) -> Chart:
    top_value = max([1, *(d.joined for d in days), *(d.left for d in days)])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(days) - 1)

    def points(values: list[int]) -> str:
        return " ".join(
            f"{LEFT + i * step:.1f},{TOP + plot_h - value / top_value * plot_h:.1f}"
            for i, value in enumerate(values)
        )

    ticks = [(LEFT + i * step, f"{d.day:%m-%d}") for i, d in enumerate(days) if i % 7 == 0]
    return Chart(
        WIDTH,
        HEIGHT,
        points([d.joined for d in days]),
        points([d.left for d in days]),
        top_value,
        ticks,
        TOP + plot_h,
        TOP,
        LEFT,
        WIDTH - RIGHT,
    )
