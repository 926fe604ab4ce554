"""Fitting and describing the clusters (pure numpy/scipy/scikit-learn, no Django).

scikit-learn is imported by the fitting functions only: placing a workflow on a stored fit
(`nearest_centre`, `project` with a `Projection`) needs numpy alone, so the web process does
not load scikit-learn to serve the workflow page.
"""

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
# n_init full fits (within ±0.5%), with a fraction of the work (issue #16).
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
    starts run on a subsample (see SUBSAMPLE); the same `seed` gives the same fit."""
    from sklearn.cluster import KMeans

    n = vectors.shape[0]
    if n == 0:
        raise ValueError("no samples to cluster")
    k = max(1, min(n_clusters, distinct_rows(vectors, enough=n_clusters, tolerance=tolerance)))
    # Sparse rows: measured against dense ones on this shape (10,000-60,000 × 61, 14% filled),
    # float64 dense was 10-25% slower; float32 dense ~10% faster, not worth a change of precision.
    if n <= subsample:
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(vectors)
    rows = np.sort(np.random.default_rng(seed).choice(n, size=subsample, replace=False))
    starts = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(vectors[rows])
    return KMeans(n_clusters=k, init=starts.cluster_centers_, n_init=1, random_state=seed).fit(vectors)


def distinct_rows(
    vectors: sparse.csr_matrix, *, enough: int, tolerance: float = 0.0, cells_per_chunk: int = 2_000_000
) -> int:
    """How many distinct rows `vectors` holds, looking at every row; once at least `enough`
    are found it stops and returns that count (≥ `enough`). With `tolerance` 0 rows are
    distinct when they differ to 12 decimals; above 0, a row is distinct when it is farther
    than `tolerance` (Euclidean) from every distinct row found before it. Rows are compared
    in dense chunks of about `cells_per_chunk` cells, so memory stays bounded."""
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


def _add_leaders(leaders: np.ndarray, rows: np.ndarray, tolerance: float, enough: int) -> np.ndarray:
    """`leaders` plus each of `rows` farther than `tolerance` from every leader so far."""
    while len(rows) and len(leaders) < enough:
        if len(leaders):
            # |a − b|² = |a|² + |b|² − 2a·b: one (rows × leaders) product, no 3-D array.
            squared = (
                np.sum(rows**2, axis=1)[:, None] + np.sum(leaders**2, axis=1)[None, :] - 2 * rows @ leaders.T
            )
            rows = rows[np.min(squared, axis=1) > tolerance**2]
            if not len(rows):
                break
        leaders = np.vstack([leaders, rows[:1]])
        rows = rows[1:]
    return leaders


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
