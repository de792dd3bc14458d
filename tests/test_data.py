"""mlnotes.data: the breast-cancer split is stratified, standardised on the training part only."""

import numpy as np
import pytest

from mlnotes.data import load_breast_cancer_split, load_digits_split


def test_split_shapes_balance_and_scaling():
    s = load_breast_cancer_split(test_size=0.25, seed=0)
    assert s.X_train.shape == (426, 30) and s.X_test.shape == (143, 30)
    assert len(s.feature_names) == 30
    # 357 benign (1) of 569, kept in both parts by stratification
    assert s.y_train.mean() == pytest.approx(357 / 569, abs=0.01)
    assert s.y_test.mean() == pytest.approx(357 / 569, abs=0.01)
    np.testing.assert_allclose(s.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(s.X_train.std(axis=0), 1, atol=1e-12)
    assert np.abs(s.X_test.mean(axis=0)).max() > 1e-3  # test statistics were not used


def test_feature_selection_and_seed():
    s = load_breast_cancer_split(features=["mean radius", "mean texture"], seed=1)
    assert s.X_train.shape[1] == 2 and s.feature_names == ["mean radius", "mean texture"]
    again = load_breast_cancer_split(features=["mean radius", "mean texture"], seed=1)
    np.testing.assert_array_equal(s.X_test, again.X_test)
    other = load_breast_cancer_split(features=["mean radius", "mean texture"], seed=2)
    assert not np.array_equal(s.X_test, other.X_test)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test_size": 0}, "test_size"),
        ({"features": ["radius"]}, "unknown \\['radius'\\]"),
        ({"features": []}, "non-empty"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_breast_cancer_split(**kwargs)


def test_digits_split_is_scaled_stratified_and_reshapes_to_images():
    s = load_digits_split(test_size=0.25, seed=0)
    assert s.X_train.shape == (1347, 64) and s.X_test.shape == (450, 64)
    assert s.X_train.min() == 0.0 and s.X_train.max() == 1.0  # grey levels 0..16 divided by 16
    np.testing.assert_array_equal(np.unique(s.y_test), np.arange(10))
    counts = np.bincount(s.y_test, minlength=10)
    assert counts.min() >= 43 and counts.max() <= 46  # about 1797 / 10 / 4 = 45 per class
    assert s.feature_names[9] == "pixel_1_1"
    with pytest.raises(ValueError, match="test_size"):
        load_digits_split(test_size=1.0)
