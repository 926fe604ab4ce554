"""Fitting and describing the clusters (pure numpy/scipy/scikit-learn, no Django).

scikit-learn is imported by the fitting functions only: placing a workflow on a stored fit
(`nearest_centre`, `project` with a `Projection`) needs numpy alone, so the web process does
not load scikit-learn to serve the workflow page.
"""

import os
from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class Projection:
    """A fitted 2-D PCA as plain arrays (what sklearn's PCA.transform uses, without whitening)."""

    mean: np.ndarray
    components: np.ndarray

    def transform(self, dense: np.ndarray) -> np.ndarray:
        return (dense - self.mean) @ self.components.T


# Every start of KMeans run on every sample costs n_init full fits. Past this many samples,
# the n_init starts run on a seeded subsample of this size and the best of them is refined
# by one run on every sample: at 20k workflows (60k samples) that reaches the inertia of
# n_init full fits (within ±0.5%, measured on three seeds), for a fraction of the work.
SUBSAMPLE = 10_000


def fit_kmeans(
    vectors: sparse.csr_matrix,
    n_clusters: int,
    n_init: int,
    *,
    seed: int = 0,
    tolerance: float = 0.0,
    subsample: int = SUBSAMPLE,
):
    """KMeans on the sample vectors (labels and inertia over every row). Fewer distinct
    samples than `n_clusters` (rows closer than `tolerance` counting as one, see
    `distinct_rows`) lowers the number of clusters to what the data can hold, rather than
    failing or splitting one pattern on its noise. Above `subsample` rows the `n_init`
    starts run on a subsample (see SUBSAMPLE). The same `seed` gives the same fit."""
    from sklearn.cluster import KMeans
    from threadpoolctl import ThreadpoolController

    n = vectors.shape[0]
    if n == 0:
        raise ValueError("no samples to cluster")
    k = max(1, min(n_clusters, distinct_rows(vectors, enough=n_clusters, tolerance=tolerance)))
    # Sparse rows: measured against dense ones on this shape (10,000-60,000 × 61, 14% filled),
    # float64 dense was 10-25% slower; float32 dense ~10% faster, not worth a change of precision.
    # One controller for the fit: making one looks up every loaded library (~2 ms).
    one_thread = ThreadpoolController()
    if n <= subsample:
        return _best_start(vectors, k, n_init, seed, one_thread)
    rows = np.sort(np.random.default_rng(seed).choice(n, size=subsample, replace=False))
    best = _best_start(vectors[rows], k, n_init, seed, one_thread)
    with one_thread.limit(limits=1, user_api="openmp"):  # see _best_start
        return KMeans(n_clusters=k, init=best.cluster_centers_, n_init=1).fit(vectors)


def _best_start(vectors: sparse.csr_matrix, k: int, n_init: int, seed: int, controller):
    """What KMeans(n_init=n_init) does, spread differently: the fit of least inertia (the
    first on a tie) of `n_init` single starts seeded `seed`, `seed` + 1, ..., one start per
    thread at a time, each on one OpenMP thread. scikit-learn runs the starts one after the
    other and splits every iteration over the cores: on a busy machine each iteration then
    waits for a core to be free (7× slower measured under load), whole starts do not."""
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.cluster import KMeans

    def start(offset: int):
        with controller.limit(limits=1, user_api="openmp"):
            return KMeans(n_clusters=k, n_init=1, random_state=seed + offset).fit(vectors)

    with ThreadPoolExecutor(max_workers=min(n_init, _cores())) as pool:
        fits = list(pool.map(start, range(n_init)))
    return min(fits, key=lambda fit: fit.inertia_)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def distinct_rows(
    vectors: sparse.csr_matrix, *, enough: int, tolerance: float = 0.0, cells_per_chunk: int = 200_000
) -> int:
    """How many distinct rows `vectors` holds, looking at every row; once at least `enough`
    are found it stops and returns that count (≥ `enough`). With `tolerance` 0 rows are
    distinct when they differ to 12 decimals; above 0, a row is distinct when it is farther
    than `tolerance` (Euclidean) from every distinct row found before it. Rows are compared
    in dense chunks of about `cells_per_chunk` cells, so memory stays bounded (and, a few
    thousand rows holding `enough` patterns as a rule, one chunk is usually all it reads)."""
    rows_per_chunk = max(1, cells_per_chunk // max(1, vectors.shape[1]))
    seen: set[bytes] = set()
    leaders = np.zeros((0, vectors.shape[1]))
    found = 0
    for start in range(0, vectors.shape[0], rows_per_chunk):
        # + 0.0 turns a rounded −0.0 into 0.0, so equal rows have equal bytes.
        chunk = np.unique(vectors[start : start + rows_per_chunk].toarray().round(12) + 0.0, axis=0)
        if tolerance <= 0:
            seen.update(row.tobytes() for row in chunk)
            found = len(seen)
        else:
            leaders = _add_leaders(leaders, chunk, tolerance, enough)
            found = len(leaders)
        if found >= enough:
            break
    return found


def _add_leaders(
    leaders: np.ndarray, rows: np.ndarray, tolerance: float, enough: int, block: int = 1024
) -> np.ndarray:
    """`leaders` plus, in order, each of `rows` farther than `tolerance` from every leader
    so far, until there are `enough`. Rows are compared a block at a time from the last
    leader on: when most rows are new patterns, the next one is in the first block."""
    found = list(leaders)
    start = 0
    while start < len(rows) and len(found) < enough:
        candidates = rows[start : start + block]
        new = np.flatnonzero(_farther_than(candidates, np.array(found), tolerance)) if found else [0]
        if len(new):
            found.append(rows[start + new[0]])
            start += new[0] + 1
        else:
            start += block
    return np.array(found).reshape(-1, rows.shape[1])


def _farther_than(rows: np.ndarray, leaders: np.ndarray, tolerance: float) -> np.ndarray:
    """Which of `rows` are farther than `tolerance` (Euclidean) from every one of `leaders`."""
    # |a − b|² = |a|² + |b|² − 2a·b: one (rows × leaders) product, no 3-D array.
    squared = np.sum(rows**2, axis=1)[:, None] + np.sum(leaders**2, axis=1)[None, :] - 2 * rows @ leaders.T
    return np.min(squared, axis=1) > tolerance**2


def nearest_centre(centres: np.ndarray, vector: sparse.csr_matrix) -> int:
    """The cluster KMeans.predict would give one row: the nearest centre (the first on a tie)."""
    distances = ((centres - vector.toarray()[0]) ** 2).sum(axis=1)
    return int(np.argmin(distances))


def projection_2d(vectors: sparse.csr_matrix) -> tuple[np.ndarray, Projection | None]:
    """A 2-D PCA projection of the rows (n × 2) and the fitted projection, to place later
    samples on the same picture; zeros and None when there is nothing to project."""
    from sklearn.decomposition import PCA

    n = vectors.shape[0]
    points = np.zeros((n, 2))
    if n < 3:
        return points, None
    dense = vectors.toarray()
    if not np.ptp(dense, axis=0).any():
        return points, None
    pca = PCA(n_components=min(2, dense.shape[1])).fit(dense)
    projection = Projection(mean=pca.mean_, components=pca.components_)
    projected = projection.transform(dense)
    points[:, : projected.shape[1]] = projected
    return points, projection


def project(pca, vectors: sparse.csr_matrix) -> np.ndarray:
    """Place rows on a stored projection (n × 2): a Projection, or the PCA of a model file
    written before Projection existed."""
    points = np.zeros((vectors.shape[0], 2))
    if pca is not None:
        projected = pca.transform(vectors.toarray())
        points[:, : projected.shape[1]] = projected
    return points


def top_columns(
    counts: sparse.csr_matrix, labels: np.ndarray, n_clusters: int, n_top: int = 5
) -> list[list[tuple[int, int]]]:
    """Per cluster, the `n_top` columns with the most errors as (column, total), biggest first."""
    membership = sparse.csr_matrix(
        (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(n_clusters, len(labels))
    )
    totals = np.asarray((membership @ counts).todense())
    best = []
    for row in totals:
        order = np.argsort(-row, kind="stable")[:n_top]
        best.append([(int(col), int(row[col])) for col in order if row[col] > 0])
    return best
