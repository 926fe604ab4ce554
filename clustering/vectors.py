"""Workflow vectors on two hypersphere shells (pure numpy/scipy, no Django).

Each sample (a workflow now, or a workflow in one history bucket) has a vector of
error counts over exit codes and one over sites. On each shell the direction is the
normalised distribution of the counts and the distance from the origin is

    R = d/√2 + 2w · (|v|/(|v| + m) − 0.5)

(d `distance`, w `width`, m `midpoint`, |v| the Euclidean norm of the counts), so at
width 0 two samples with no code in common are exactly d apart; a sample with no
counts on a shell sits at its origin. The two shells are concatenated.
"""

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class Shell:
    """The parameters of one shell, as in config.yml `clustering.errorcode` / `sitename`."""

    distance: float = 1.0
    width: float = 0.25
    midpoint: float = 10.0

    @classmethod
    def from_config(cls, section: dict) -> "Shell":
        return cls(
            distance=float(section["distance"]),
            width=float(section["width"]),
            midpoint=float(section["midpoint"]),
        )


@dataclass(frozen=True)
class Cells:
    """Error cells as parallel arrays: sample index, exit code, site (text), count. A loader that
    numbered the sites also gives `site_names` (distinct, sorted) and each cell's
    `site_index` into them, so a site's column is looked up once per site, not per cell."""

    sample: np.ndarray
    exit_code: np.ndarray
    site: np.ndarray
    count: np.ndarray
    site_names: np.ndarray | None = None
    site_index: np.ndarray | None = None

    def distinct_sites(self) -> set[str]:
        return set((self.site if self.site_names is None else self.site_names).tolist())

    def site_columns(self, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column of each cell's site on `axes` (sorted), and a mask of the cells whose site is on it."""
        if self.site_names is None:
            return _axis_index(self.site, axes)
        column, known = _axis_index(self.site_names, axes)
        return column[self.site_index], known[self.site_index]


@dataclass(frozen=True)
class Vocabulary:
    """The axes of the two shells: the exit codes and the sites, sorted; for the classifier
    also the (exit code, site) pairs it knows, as sorted keys (see `pair_keys`)."""

    exit_codes: np.ndarray
    sites: np.ndarray
    pairs: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))

    @classmethod
    def from_cells(cls, *cells: Cells) -> "Vocabulary":
        codes = np.unique(np.concatenate([c.exit_code for c in cells])) if cells else np.array([], int)
        # A set of the few distinct sites: np.unique would sort every cell's site text.
        sites = np.array(sorted(set().union(*(c.distinct_sites() for c in cells))), dtype=str)
        return cls(exit_codes=codes.astype(np.int64), sites=sites)

    def with_pairs(self, *cells: Cells, max_pairs: int, min_samples: int = 2) -> "Vocabulary":
        """This vocabulary plus the (exit code, site) pairs found in at least `min_samples`
        samples of `cells`, the `max_pairs` most widespread, so the columns stay bounded."""
        found = []
        for table in cells:
            keys, known = pair_keys(table, self)
            # One entry per (sample, pair): a pair counts once per sample it appears in.
            per_sample = np.unique(np.stack([table.sample[known].astype(np.int64), keys[known]]), axis=1)
            found.append(per_sample[1])
        keys, samples = np.unique(np.concatenate(found or [np.array([], np.int64)]), return_counts=True)
        keep = samples >= min_samples
        keys, samples = keys[keep], samples[keep]
        widest = np.argsort(-samples, kind="stable")[:max_pairs]
        return replace(self, pairs=np.sort(keys[widest]).astype(np.int64))

    @property
    def size(self) -> int:
        return len(self.exit_codes) + len(self.sites) + len(self.pairs)


def radius(norm: np.ndarray, shell: Shell) -> np.ndarray:
    """The shell radius for count vectors of Euclidean norm `norm` (0 for an empty vector)."""
    norm = np.asarray(norm, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.where(norm > 0, norm / (norm + shell.midpoint), 0.0)
    r = shell.distance / np.sqrt(2) + 2 * shell.width * (fill - 0.5)
    return np.where(norm > 0, r, 0.0)


def _axis_index(values: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column of each value on `axes` (sorted), and a mask of the values that are on it."""
    if len(axes) == 0:
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    position = np.searchsorted(axes, values)
    position = np.minimum(position, len(axes) - 1)
    return position, axes[position] == values


def pair_keys(cells: Cells, vocabulary: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, the key of its (exit code, site) pair on `vocabulary`'s axes
    (code column × number of sites + site column), and a mask of the cells whose code
    and site are both on the axes (the keys of the others mean nothing)."""
    code, code_known = _axis_index(cells.exit_code, vocabulary.exit_codes)
    site, site_known = cells.site_columns(vocabulary.sites)
    return code.astype(np.int64) * len(vocabulary.sites) + site, code_known & site_known


def count_matrix(samples: np.ndarray, values: np.ndarray, counts: np.ndarray, axes: np.ndarray, n: int):
    """A CSR matrix (n × len(axes)) summing `counts` per (sample, axis value).
    Values not on `axes` are dropped (a code unseen when the model was fitted)."""
    column, known = _axis_index(values, axes)
    return _summed(samples, column, known, counts, n, len(axes))


def site_count_matrix(cells: Cells, axes: np.ndarray, n: int) -> sparse.csr_matrix:
    """`count_matrix` of the cells' sites on `axes`."""
    column, known = cells.site_columns(axes)
    return _summed(cells.sample, column, known, cells.count, n, len(axes))


def _summed(samples, column, known, counts, n: int, width: int) -> sparse.csr_matrix:
    matrix = sparse.coo_matrix(
        (counts[known].astype(np.float64), (samples[known], column[known])), shape=(n, width)
    )
    return matrix.tocsr()  # duplicates (several steps of one workflow) are summed here


def shell_positions(counts: sparse.csr_matrix, shell: Shell) -> sparse.csr_matrix:
    """Place each row of `counts` on the shell: direction v/|v|, distance R(|v|)."""
    norm = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(norm > 0, radius(norm, shell) / norm, 0.0)
    return sparse.diags(scale).dot(counts).tocsr()


def workflow_vectors(
    cells: Cells, n: int, vocabulary: Vocabulary, errorcode: Shell, sitename: Shell
) -> sparse.csr_matrix:
    """The concatenated shell positions of `n` samples (rows) from their error cells."""
    codes = count_matrix(cells.sample, cells.exit_code, cells.count, vocabulary.exit_codes, n)
    sites = site_count_matrix(cells, vocabulary.sites, n)
    return sparse.hstack([shell_positions(codes, errorcode), shell_positions(sites, sitename)], format="csr")


def log_counts(cells: Cells, n: int, vocabulary: Vocabulary) -> sparse.csr_matrix:
    """The classifier's features, n × vocabulary.size: log(1 + count) per exit code, per
    site and per known (exit code, site) pair, so which code failed where is kept.
    Codes, sites and pairs not in `vocabulary` are dropped."""
    codes = count_matrix(cells.sample, cells.exit_code, cells.count, vocabulary.exit_codes, n)
    sites = site_count_matrix(cells, vocabulary.sites, n)
    keys, known = pair_keys(cells, vocabulary)
    pairs = count_matrix(cells.sample[known], keys[known], cells.count[known], vocabulary.pairs, n)
    matrix = sparse.hstack([codes, sites, pairs], format="csr")
    matrix.data = np.log1p(matrix.data)
    return matrix


def distances_to(vectors: sparse.csr_matrix, row: int) -> np.ndarray:
    """The Euclidean distance of every row of `vectors` to row `row`."""
    squared_norms = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()
    dots = np.asarray((vectors @ vectors[row].T).todense()).ravel()
    return np.sqrt(np.maximum(squared_norms + squared_norms[row] - 2 * dots, 0.0))


def totals_and_top_codes(cells: Cells, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: its total count, and the exit code with the most errors (the lowest code
    on a tie; -2 for a sample without cells)."""
    totals = np.bincount(cells.sample, weights=cells.count, minlength=n).astype(np.int64)
    codes = np.unique(cells.exit_code)
    top = np.full(n, -2, dtype=np.int64)
    if len(codes):
        per_code = count_matrix(cells.sample, cells.exit_code, cells.count, codes, n)
        top = np.where(totals > 0, codes[np.asarray(per_code.argmax(axis=1)).ravel()], -2)
    return totals, top
