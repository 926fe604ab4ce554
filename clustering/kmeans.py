"""Fitting and describing the clusters (pure numpy/scipy/scikit-learn, no Django)."""

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA


def fit_kmeans(vectors: sparse.csr_matrix, n_clusters: int, n_init: int, *, seed: int = 0) -> KMeans:
    """KMeans on the sample vectors. Fewer distinct samples than `n_clusters` lowers the
    number of clusters to what the data can hold, rather than failing."""
    if vectors.shape[0] == 0:
        raise ValueError("no samples to cluster")
    distinct = _distinct_rows(vectors)
    k = max(1, min(n_clusters, distinct))
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(vectors)


def _distinct_rows(vectors: sparse.csr_matrix, limit: int = 10_000) -> int:
    # Only needs to know whether there are at least n_clusters distinct rows; a sample
    # of rows keeps this cheap on large inputs.
    rows = vectors[:limit].toarray()
    return len(np.unique(rows.round(12), axis=0))


def projection_2d(vectors: sparse.csr_matrix) -> tuple[np.ndarray, PCA | None]:
    """A 2-D PCA projection of the rows (n × 2) and the fitted PCA, to place later
    samples on the same picture; zeros and None when there is nothing to project."""
    n = vectors.shape[0]
    points = np.zeros((n, 2))
    if n < 3:
        return points, None
    dense = vectors.toarray()
    if not np.ptp(dense, axis=0).any():
        return points, None
    pca = PCA(n_components=min(2, dense.shape[1])).fit(dense)
    projected = pca.transform(dense)
    points[:, : projected.shape[1]] = projected
    return points, pca


def project(pca: PCA | None, vectors: sparse.csr_matrix) -> np.ndarray:
    """Place rows on a stored projection (n × 2)."""
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
