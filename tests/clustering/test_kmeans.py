"""Fitting KMeans on the vectors (clustering.kmeans, no database)."""

import numpy as np
from scipy import sparse

from clustering.kmeans import distinct_rows, fit_kmeans


def many_alike_then_two_apart(n_alike: int = 12_000) -> sparse.csr_matrix:
    """`n_alike` identical rows (the current workflows come first), then two different ones."""
    rows = np.vstack([np.tile([1.0, 0.0, 0.0], (n_alike, 1)), [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])
    return sparse.csr_matrix(rows)


def test_distinct_rows_are_counted_over_every_row_not_the_first_ones():
    vectors = many_alike_then_two_apart()
    assert distinct_rows(vectors, enough=10) == 3
    assert distinct_rows(vectors, enough=10, cells_per_chunk=30) == 3  # ten rows per chunk


def test_distinct_rows_stop_once_enough_are_found():
    vectors = sparse.csr_matrix(np.eye(50))
    assert distinct_rows(vectors, enough=5, cells_per_chunk=500) == 10  # the first chunk of ten rows


def test_rows_equal_to_twelve_decimals_count_once():
    vectors = sparse.csr_matrix([[0.5, 0.5], [0.5 + 1e-15, 0.5], [0.5, 0.25]])
    assert distinct_rows(vectors, enough=10) == 2


def test_kmeans_keeps_the_clusters_asked_for_when_late_rows_differ():
    model = fit_kmeans(many_alike_then_two_apart(), n_clusters=3, n_init=1)
    assert model.n_clusters == 3
    assert len(set(model.labels_[-2:].tolist()) | {model.labels_[0]}) == 3


def test_kmeans_lowers_the_clusters_to_the_distinct_rows():
    vectors = sparse.csr_matrix(np.tile([1.0, 0.0], (20, 1)))
    assert fit_kmeans(vectors, n_clusters=4, n_init=1).n_clusters == 1


def test_rows_closer_than_the_tolerance_count_as_one_pattern():
    vectors = sparse.csr_matrix([[1.0, 0.0], [0.95, 0.05], [0.0, 1.0], [0.05, 0.95], [0.7, 0.7]])
    assert distinct_rows(vectors, enough=10) == 5
    assert distinct_rows(vectors, enough=10, tolerance=0.1) == 3
    assert distinct_rows(vectors, enough=10, tolerance=0.1, cells_per_chunk=2) == 3  # one row per chunk
    assert fit_kmeans(vectors, n_clusters=4, n_init=1, tolerance=0.1).n_clusters == 3
