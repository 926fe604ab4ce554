"""Fitting KMeans on the vectors (clustering.kmeans, no database)."""

import numpy as np
import pytest
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


def patterns(n_per_pattern: int, n_patterns: int = 3, seed: int = 0) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows around `n_patterns` corners of the unit cube, a little noise on each, and the
    pattern of each row."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(n_patterns), n_per_pattern)
    rows = np.eye(n_patterns)[truth] + rng.normal(scale=0.05, size=(len(truth), n_patterns))
    return sparse.csr_matrix(rows), truth


def found_the_patterns(labels: np.ndarray, truth: np.ndarray) -> bool:
    pairs = set(zip(truth.tolist(), labels.tolist(), strict=True))
    return len(pairs) == len(set(truth.tolist())) == len({label for _, label in pairs})


def test_above_the_subsample_every_row_is_labelled_and_the_patterns_are_found():
    vectors, truth = patterns(400)
    model = fit_kmeans(vectors, n_clusters=3, n_init=4, subsample=90)
    assert len(model.labels_) == vectors.shape[0]
    assert found_the_patterns(model.labels_, truth)


def test_the_same_seed_gives_the_same_fit():
    vectors, _ = patterns(300, n_patterns=5)
    first, again = (fit_kmeans(vectors, n_clusters=4, n_init=6, seed=7, subsample=200) for _ in range(2))
    np.testing.assert_array_equal(first.labels_, again.labels_)
    np.testing.assert_array_equal(first.cluster_centers_, again.cluster_centers_)


def test_the_fit_is_the_best_of_its_starts():
    from sklearn.cluster import KMeans

    vectors, _ = patterns(50, n_patterns=6)
    model = fit_kmeans(vectors, n_clusters=4, n_init=5, seed=3)
    starts = [KMeans(n_clusters=4, n_init=1, random_state=3 + i).fit(vectors).inertia_ for i in range(5)]
    # To rounding: the starts here split their sums over every core, the fit's do not.
    assert model.inertia_ == pytest.approx(min(starts), rel=1e-12)


def test_starts_on_a_subsample_fit_as_well_as_starts_on_every_row():
    from sklearn.cluster import KMeans

    vectors, _ = patterns(500, n_patterns=8, seed=1)
    every_row = KMeans(n_clusters=6, n_init=10, random_state=0).fit(vectors)
    subsampled = fit_kmeans(vectors, n_clusters=6, n_init=10, subsample=400)
    assert subsampled.inertia_ <= every_row.inertia_ * 1.01
