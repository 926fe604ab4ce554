"""One line per measure for `make bench`: the median, the issue's target and, where the issue
names one, the floor measured in the same run, with their ratios.

Benchmarks call `report(...)` for every size in `SIZES` (1k, 5k and 20k by default;
`BENCH_SIZES=1000,5000 make bench` narrows it) and the summary is printed at the end of the run
by the `pytest_terminal_summary` hook in tests/benchmarks/conftest.py.
"""

import os
import statistics
from dataclasses import dataclass

SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "1000,5000,20000").split(",") if size]


@dataclass
class Line:
    measure: str
    size: int
    median: float
    unit: str
    target: float | None = None
    floor: float | None = None
    floor_name: str = ""
    floor_target_ratio: float | None = None
    higher_is_better: bool = False

    def render(self) -> str:
        parts = [f"{self.measure:<44} n={self.size:>6}  median {self.median:>10.3f} {self.unit:<5}"]
        if self.target is not None:
            met = self.median >= self.target if self.higher_is_better else self.median <= self.target
            sign = ">=" if self.higher_is_better else "<="
            parts.append(f"target {sign} {self.target:g} {self.unit} [{'met' if met else 'MISSED'}]")
        if self.floor is not None and self.floor > 0:
            ratio = self.median / self.floor
            text = f"floor ({self.floor_name}) {self.floor:.3f} {self.unit}, ratio {ratio:.2f}x"
            if self.floor_target_ratio is not None:
                good = ratio >= self.floor_target_ratio if self.higher_is_better else ratio <= self.floor_target_ratio
                sign = ">=" if self.higher_is_better else "<="
                text += f" (target {sign} {self.floor_target_ratio:g}x [{'met' if good else 'MISSED'}])"
            parts.append(text)
        return "  ".join(parts)


LINES: list[Line] = []


def median(values) -> float:
    return statistics.median(values)


def report(measure: str, size: int, median: float, unit: str = "s", **extra) -> Line:
    """Record (and print at once) one measure at one size; see Line for the optional fields."""
    line = Line(measure, size, median, unit, **extra)
    LINES.append(line)
    print("\n[bench] " + line.render())
    return line
