"""Vector construction against hand-computed values (clustering.vectors, no database)."""

import math

import numpy as np
import pytest

from clustering.vectors import Cells, Shell, Vocabulary, log_counts, radius, workflow_vectors


def cells(rows):
    """rows: (sample, exit code, site, count)."""
    sample, code, site, count = zip(*rows, strict=True)
    return Cells(np.array(sample), np.array(code), np.array(site), np.array(count))


def test_radius_follows_the_formula():
    shell = Shell(distance=2.0, width=0.5, midpoint=10.0)
    # |v| = 10 lands mid-shell: R = d/√2
    assert radius(np.array([10.0]), shell)[0] == pytest.approx(2 / math.sqrt(2))
    # |v| = 30: R = d/√2 + 2w(30/40 − 0.5) = √2 + 0.25
    assert radius(np.array([30.0]), shell)[0] == pytest.approx(math.sqrt(2) + 0.25)
    # an empty vector sits at the origin
    assert radius(np.array([0.0]), shell)[0] == 0.0


def test_a_workflow_is_placed_along_its_distribution_at_the_shell_radius():
    shell = Shell(distance=1.0, width=0.25, midpoint=10.0)
    # workflow 0: exit code 50660 × 3 at site A, 8028 × 4 at site B → code counts (3, 4), |v| = 5
    table = cells([(0, 50660, "A", 3), (0, 8028, "B", 4)])
    vocabulary = Vocabulary.from_cells(table)
    vector = workflow_vectors(table, 1, vocabulary, shell, shell).toarray()[0]
    r = 1 / math.sqrt(2) + 0.5 * (5 / 15 - 0.5)
    # codes sorted: 8028, 50660; sites sorted: A, B
    np.testing.assert_allclose(vector[:2], [r * 4 / 5, r * 3 / 5])
    np.testing.assert_allclose(vector[2:], [r * 3 / 5, r * 4 / 5])


def test_steps_of_one_workflow_are_summed():
    shell = Shell(distance=1.0, width=0.0, midpoint=10.0)
    table = cells([(0, 84, "A", 2), (0, 84, "A", 3), (0, 85, "A", 5)])
    vector = workflow_vectors(table, 1, Vocabulary.from_cells(table), shell, shell).toarray()[0]
    np.testing.assert_allclose(vector[:2], [1 / 2, 1 / 2])  # equal totals, radius 1/√2


def test_orthogonal_workflows_at_width_zero_are_exactly_d_apart():
    code_shell = Shell(distance=3.0, width=0.0, midpoint=10.0)
    site_shell = Shell(distance=1.0, width=0.0, midpoint=10.0)
    # same site, entirely different codes and very different sizes
    table = cells([(0, 84, "A", 1), (1, 50660, "A", 900), (1, 8028, "A", 7)])
    vectors = workflow_vectors(table, 2, Vocabulary.from_cells(table), code_shell, site_shell).toarray()
    assert np.linalg.norm(vectors[0] - vectors[1]) == pytest.approx(3.0)


def test_distance_is_the_sum_in_quadrature_of_both_shells():
    code_shell = Shell(distance=3.0, width=0.0, midpoint=10.0)
    site_shell = Shell(distance=4.0, width=0.0, midpoint=10.0)
    table = cells([(0, 84, "A", 1), (1, 85, "B", 1)])
    vectors = workflow_vectors(table, 2, Vocabulary.from_cells(table), code_shell, site_shell).toarray()
    assert np.linalg.norm(vectors[0] - vectors[1]) == pytest.approx(5.0)


def test_a_workflow_without_errors_sits_at_the_origin():
    shell = Shell()
    table = cells([(0, 84, "A", 4)])
    vectors = workflow_vectors(table, 2, Vocabulary.from_cells(table), shell, shell).toarray()
    assert not vectors[1].any()
    assert vectors[0].any()


def test_codes_unknown_to_the_vocabulary_are_ignored():
    shell = Shell(width=0.0)
    vocabulary = Vocabulary(exit_codes=np.array([84]), sites=np.array(["A"]))
    table = cells([(0, 84, "A", 4), (0, 99999, "Z", 4)])
    vector = workflow_vectors(table, 1, vocabulary, shell, shell).toarray()[0]
    np.testing.assert_allclose(vector, [1 / math.sqrt(2), 1 / math.sqrt(2)])


def test_an_empty_shell_sits_at_its_origin_while_the_other_keeps_its_radius():
    code_shell = Shell(distance=2.0, width=0.5, midpoint=10.0)
    site_shell = Shell(distance=3.0, width=0.25, midpoint=4.0)
    # The fit knew codes 84, 85 and site A only: sample 0 failed at site Z (site shell
    # empty), sample 1 with code 99999 (code shell empty).
    vocabulary = Vocabulary(exit_codes=np.array([84, 85]), sites=np.array(["A"]))
    table = cells([(0, 84, "Z", 3), (0, 85, "Z", 4), (1, 99999, "A", 12)])
    vectors = workflow_vectors(table, 2, vocabulary, code_shell, site_shell).toarray()
    # sample 0, code counts (3, 4), |v| = 5: R = 2/√2 + 2·0.5·(5/15 − 0.5)
    code_radius = 2 / math.sqrt(2) + 2 * 0.5 * (5 / 15 - 0.5)
    np.testing.assert_allclose(vectors[0, :2], [code_radius * 3 / 5, code_radius * 4 / 5])
    assert vectors[0, 2] == 0.0
    # sample 1, site count 12: R = 3/√2 + 2·0.25·(12/16 − 0.5)
    assert vectors[1, 0] == 0.0 and vectors[1, 1] == 0.0
    assert vectors[1, 2] == pytest.approx(3 / math.sqrt(2) + 2 * 0.25 * (12 / 16 - 0.5))


def test_log_counts_keep_which_code_failed_at_which_site():
    # sample 0: 84 at A, 85 at B; sample 1: 84 at B, 85 at A — the same per code and per site.
    table = cells([(0, 84, "A", 3), (0, 85, "B", 3), (1, 84, "B", 3), (1, 85, "A", 3), (2, 84, "A", 1)])
    vocabulary = Vocabulary.from_cells(table).with_pairs(table, max_pairs=10)
    features = log_counts(table, 3, vocabulary).toarray()
    # columns: codes 84, 85 | sites A, B | pairs (84, A), (84, B), (85, A), (85, B)
    # (84, B), (85, A) and (85, B) appear in one sample each, so only (84, A) is kept.
    assert features.shape == (3, 2 + 2 + 1)
    np.testing.assert_allclose(features[0], np.log1p([3, 3, 3, 3, 3]))
    np.testing.assert_allclose(features[1], np.log1p([3, 3, 3, 3, 0]))
    np.testing.assert_allclose(features[2], np.log1p([1, 0, 1, 0, 1]))


def test_the_pair_vocabulary_keeps_the_most_widespread_pairs_only():
    rows = [(sample, 84, "A", 1) for sample in range(5)]
    rows += [(sample, 85, "B", 1) for sample in range(3)]
    rows += [(sample, 84, "B", 1) for sample in range(2)]
    table = cells(rows)
    vocabulary = Vocabulary.from_cells(table).with_pairs(table, max_pairs=2)
    sites = len(vocabulary.sites)
    kept = {
        (int(vocabulary.exit_codes[k // sites]), str(vocabulary.sites[k % sites])) for k in vocabulary.pairs
    }
    assert kept == {(84, "A"), (85, "B")}


def test_pairs_unknown_to_the_vocabulary_are_ignored():
    training = cells([(0, 84, "A", 2), (1, 84, "A", 2), (0, 85, "B", 2), (1, 85, "B", 2)])
    vocabulary = Vocabulary.from_cells(training).with_pairs(training, max_pairs=10)
    # 84 at B: both known on their own, never seen together; 99999 at Z: nothing known.
    later = cells([(0, 84, "B", 4), (0, 99999, "Z", 4)])
    features = log_counts(later, 1, vocabulary).toarray()[0]
    np.testing.assert_allclose(features, np.log1p([4, 0, 0, 4, 0, 0]))


def test_numbered_sites_give_the_same_vectors_and_features():
    table = cells([(0, 84, "B", 2), (0, 85, "A", 3), (1, 85, "C", 5), (1, 84, "B", 1)])
    names = np.array(["A", "B", "C"])
    numbered = Cells(
        table.sample, table.exit_code, table.site, table.count, site_names=names,
        site_index=np.searchsorted(names, table.site),
    )  # fmt: skip
    # A vocabulary without site C: cells at an unknown site are dropped either way.
    vocabulary = Vocabulary(exit_codes=np.array([84, 85]), sites=np.array(["A", "B"]))
    assert Vocabulary.from_cells(numbered).sites.tolist() == Vocabulary.from_cells(table).sites.tolist()
    shell = Shell(distance=1.0, width=0.25, midpoint=10.0)
    np.testing.assert_array_equal(
        workflow_vectors(numbered, 2, vocabulary, shell, shell).toarray(),
        workflow_vectors(table, 2, vocabulary, shell, shell).toarray(),
    )
    with_pairs = vocabulary.with_pairs(table, max_pairs=10, min_samples=1)
    np.testing.assert_array_equal(
        log_counts(numbered, 2, with_pairs).toarray(), log_counts(table, 2, with_pairs).toarray()
    )
