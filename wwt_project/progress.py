"""Progress bars for the management commands, drawn on the terminal under Django's stderr."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


def terminal_stream(stderr):
    """The stream under a command's `self.stderr`. Django's OutputWrapper styles every
    write and ends it with a newline, so tqdm's in-place updates would each become a
    new line; the stream under it does not."""
    return getattr(stderr, "_out", None) or sys.stderr


class PhaseBars:
    """A `progress(phase, done, total)` callback for errors.ingestion that shows one bar per
    phase on the command's terminal stream."""

    def __init__(self, stderr, *, disable: bool = False):
        self.stream = terminal_stream(stderr)
        self.disable = disable
        self.bar: tqdm | None = None
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.bar is None or self.phase != phase:
            self.close()
            self.phase = phase
            self.bar = tqdm(desc=phase, total=total, unit="", file=self.stream, disable=self.disable)
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


@contextmanager
def stage_bar(stderr, stages: int, desc: str, *, disable: bool = False) -> Iterator[Callable[[str], None]]:
    """A bar of `stages` steps on the command's terminal stream; yields `progress(stage)`,
    which names the stage just done and advances the bar by one."""
    with tqdm(total=stages, desc=desc, disable=disable, file=terminal_stream(stderr)) as bar:

        def progress(stage: str) -> None:
            bar.set_postfix_str(stage)
            bar.update(1)

        yield progress
