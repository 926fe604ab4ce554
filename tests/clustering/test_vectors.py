"""Vector construction against hand-computed values (clustering.vectors, no database)."""

import math

import numpy as np
import pytest

from clustering.vectors import Cells, Shell, Vocabulary, radius, workflow_vectors


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
