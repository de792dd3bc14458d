"""mlnotes.data.faces: the generated identities are seeded, grouped, in range and disjoint across
the split; without nuisances every photograph of a person is the same; the LFW path runs on a
small array that stands in for scikit-learn's download."""

import numpy as np
import pytest
import sklearn.datasets
from sklearn.utils import Bunch

from mlnotes.data import load_faces, make_faces
from mlnotes.data.faces import NUISANCES, TRAITS, make_identities, render_faces


def test_make_faces_shapes_range_and_labels():
    x, labels, traits = make_faces(5, images_per_identity=3, size=24, seed=0, first_label=10)
    assert x.shape == (15, 1, 24, 24) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 1
    assert (
        labels.dtype == np.int64
        and labels.tolist() == [10] * 3 + [11] * 3 + [12] * 3 + [13] * 3 + [14] * 3
    )
    assert traits.shape == (5, len(TRAITS))
    low, high = np.array(list(TRAITS.values())).T
    assert (traits >= low).all() and (traits <= high).all()


def test_make_faces_is_deterministic_and_seeded():
    a = make_faces(4, 2, seed=3)[0]
    np.testing.assert_array_equal(a, make_faces(4, 2, seed=3)[0])
    assert not np.array_equal(a, make_faces(4, 2, seed=4)[0])


def test_without_nuisances_every_photograph_of_a_person_is_the_same():
    x, labels, _ = make_faces(4, images_per_identity=3, seed=0, nuisance=0.0)
    for person in range(4):
        photos = x[labels == person]
        np.testing.assert_array_equal(photos[0], photos[1])
        np.testing.assert_array_equal(photos[0], photos[2])
    assert not np.array_equal(x[0], x[3])  # but two people differ
    y, _, _ = make_faces(4, images_per_identity=3, seed=0, nuisance=1.0)
    assert not np.array_equal(y[0], y[1])


def test_nuisances_make_raw_pixels_of_one_person_differ_more_than_without():
    # the mean distance between two photographs of one person grows with the nuisance
    def mean_same_distance(strength):
        x, _, _ = make_faces(30, images_per_identity=2, seed=1, nuisance=strength)
        flat = x.reshape(30, 2, -1).astype(np.float64)
        return float(((flat[:, 0] - flat[:, 1]) ** 2).sum(1).mean())

    assert mean_same_distance(0.0) == 0.0
    assert mean_same_distance(0.5) < mean_same_distance(1.0)


def test_render_faces_draws_the_head_in_the_skin_tone():
    traits = make_identities(1, seed=0)
    neutral = np.array([v[2] for v in NUISANCES.values()] + [0.0])[None]  # [1, U + 1]
    image = render_faces(traits, neutral, size=32)[0]
    skin = traits[0, list(TRAITS).index("skin")]
    # the cheek (left of the nose, below the eyes) is skin, the corner background (0.5)
    assert image[22, 9] == pytest.approx(skin)
    assert image[0, 0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="nuisances must have shape"):
        render_faces(traits, neutral[:, :-1])


def test_load_faces_generated_parts_are_disjoint_people():
    s = load_faces(n_train=6, n_val=2, n_test=3, images_per_identity=4, size=16, seed=0)
    assert s.x_train.shape == (24, 1, 16, 16) and s.x_val.shape == (8, 1, 16, 16)
    assert s.x_test.shape == (12, 1, 16, 16)
    parts = [set(s.y_train.tolist()), set(s.y_val.tolist()), set(s.y_test.tolist())]
    assert [len(p) for p in parts] == [6, 2, 3]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    # and the people are different people, not relabelled copies: traits differ
    x, _, traits = make_faces(11, 4, size=16, seed=0)
    np.testing.assert_array_equal(x, np.concatenate([s.x_train, s.x_val, s.x_test]))
    gaps = np.abs(traits[:, None] - traits[None]).sum(2) + np.eye(11)  # [11, 11]
    assert gaps.min() > 0.1


def test_load_faces_bad_arguments():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_faces(dataset="celeba")
    with pytest.raises(ValueError, match="images_per_identity"):
        load_faces(images_per_identity=1)
    with pytest.raises(ValueError, match="n_val"):
        load_faces(n_val=0)
    with pytest.raises(ValueError, match="nuisance"):
        make_faces(2, nuisance=1.5)


def fake_lfw(people=9, per_person=12, h=50, w=37):
    """A stand-in for fetch_lfw_people's answer: grey images in 0..1 and integer targets."""
    rng = np.random.default_rng(0)
    target = np.repeat(np.arange(people), per_person)
    images = rng.random((people * per_person, h, w)).astype(np.float32)
    images += target[:, None, None] / people  # each person a brightness, to trace them
    return Bunch(images=images / images.max(), target=target, target_names=np.arange(people))


def test_load_faces_lfw_path_with_a_monkeypatched_fetch(monkeypatch):
    calls = []

    def fetch(**kwargs):
        calls.append(kwargs)
        return fake_lfw()

    monkeypatch.setattr(sklearn.datasets, "fetch_lfw_people", fetch)
    s = load_faces("lfw", n_train=6, n_val=1, n_test=2, images_per_identity=5, size=16, seed=0)
    assert calls == [{"min_faces_per_person": 10, "color": False}]
    assert s.x_train.shape == (30, 1, 16, 16) and s.x_val.shape == (5, 1, 16, 16)
    assert s.x_test.shape == (10, 1, 16, 16) and s.x_test.dtype == np.float32
    parts = [set(s.y_train.tolist()), set(s.y_val.tolist()), set(s.y_test.tolist())]
    assert sorted(set().union(*parts)) == list(range(9)) and sum(len(p) for p in parts) == 9
    assert s.x_train.min() >= 0 and s.x_train.max() <= 1
    # a resized image keeps its mean brightness (antialiased bilinear resize)
    first = fake_lfw().images[fake_lfw().target == s.y_train[0]][0]
    assert s.x_train[0].mean() == pytest.approx(first.mean(), abs=0.02)


def test_load_faces_lfw_rescales_0_255_and_needs_three_people(monkeypatch):
    def fetch_255(**kwargs):
        bunch = fake_lfw(people=4, per_person=3)
        bunch.images = bunch.images * 255
        return bunch

    monkeypatch.setattr(sklearn.datasets, "fetch_lfw_people", fetch_255)
    s = load_faces("lfw", n_train=2, n_val=1, n_test=1, images_per_identity=3, size=8)
    assert s.x_train.max() <= 1 and s.x_train.max() > 0.5
    monkeypatch.setattr(sklearn.datasets, "fetch_lfw_people", lambda **kw: fake_lfw(people=2))
    with pytest.raises(ValueError, match="has 2 people"):
        load_faces("lfw")
