"""Prints every benchmark's line again as one summary table at the end of `make bench`."""

from .targets import LINES


def pytest_terminal_summary(terminalreporter):
    if not LINES:
        return
    terminalreporter.write_sep("=", "benchmark summary: medians, targets and floors")
    for line in sorted(LINES, key=lambda line: (line.measure, line.size)):
        terminalreporter.write_line(line.render())
