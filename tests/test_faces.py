"""mlnotes.faces: distances against scipy/torch and a double loop, the triplet loss against a hand
computation, torch's TripletMarginLoss and numerical gradients, mining against brute-force loops,
ROC/AUC against scikit-learn and a pair count, the pair features by hand, bad input."""

import itertools

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from sklearn.metrics import roc_auc_score, roc_curve

from mlnotes.core import numerical_gradient, rel_error
from mlnotes.faces import (
    FaceEmbedder,
    PairClassifier,
    identify,
    make_pairs,
    mine_triplets,
    one_shot_accuracy,
    pair_features,
    pairwise_distances,
    pk_batches,
    train_triplets,
    triplet_loss,
    verification_accuracy,
    verification_metrics,
)

SEEDS = range(4)


def batch(seed, people=4, shots=3, dim=5):
    """Random float64 embeddings of ``people`` x ``shots`` images and their labels."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(rng.permutation(10)[:people], shots)
    return rng.standard_normal((people * shots, dim)), labels


# --- pairwise_distances ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_pairwise_distances_match_scipy_torch_and_a_loop(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((6, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(pairwise_distances(a, b), cdist(a, b, "sqeuclidean"), atol=1e-12)
    np.testing.assert_allclose(
        pairwise_distances(a, b, squared=False), cdist(a, b, "euclidean"), atol=1e-7
    )
    loop = [[sum((x - y) ** 2 for x, y in zip(r, s, strict=True)) for s in b] for r in a]
    np.testing.assert_allclose(pairwise_distances(a, b), loop, atol=1e-12)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    out = pairwise_distances(ta, tb, squared=False)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), torch.cdist(ta, tb).numpy(), atol=1e-7)


def test_pairwise_distances_of_equal_rows_are_zero_not_negative():
    a = np.array([[0.1, 0.2, 0.3]] * 3) * 1e3
    d = pairwise_distances(a, a)
    assert (d >= 0).all() and np.abs(d).max() < 1e-6


def test_pairwise_distances_bad_input():
    with pytest.raises(ValueError, match="emb1.*emb2.*dimension D, got 3 and 2"):
        pairwise_distances(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="2-D"):
        pairwise_distances(np.zeros(3), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="emb1, emb2.*all torch tensors or all NumPy"):
        pairwise_distances(torch.zeros(2, 3), np.zeros((2, 3)))


# --- triplet_loss ------------------------------------------------------------------------------


def test_triplet_loss_hand_computation():
    a = np.array([[0.0, 0.0], [1.0, 0.0]])
    p = np.array([[0.3, 0.4], [1.0, 0.0]])
    n = np.array([[0.6, 0.0], [3.0, 0.0]])
    # row 1: ||a-p||^2 = 0.09 + 0.16 = 0.25, ||a-n||^2 = 0.36: 0.25 - 0.36 + 0.2 = 0.09
    # row 2: 0 - 4 + 0.2 < 0: 0
    np.testing.assert_allclose(triplet_loss(a, p, n, reduction="none"), [0.09, 0.0], atol=1e-12)
    assert triplet_loss(a, p, n) == pytest.approx(0.09)
    assert triplet_loss(a, p, n, reduction="mean") == pytest.approx(0.045)
    assert triplet_loss(a, p, n, margin=0.0) == pytest.approx(0.0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("margin", [0.05, 0.2, 1.0])
def test_triplet_loss_matches_torch_with_squared_distances(seed, margin):
    g = torch.Generator().manual_seed(seed)
    a, p, n = (torch.randn(7, 4, generator=g, dtype=torch.float64) for _ in range(3))
    # TripletMarginLoss(p=2) is max(||a-p|| - ||a-n|| + margin, 0) with plain distances and an
    # eps inside them; ours squares the distances. Built by hand with eps = 0 they agree:
    d_ap = torch.nn.functional.pairwise_distance(a, p, p=2, eps=0) ** 2
    d_an = torch.nn.functional.pairwise_distance(a, n, p=2, eps=0) ** 2
    expected = torch.relu(d_ap - d_an + margin)
    got = triplet_loss(a, p, n, margin=margin, reduction="none")
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    # torch's module with the squared distance as its distance function: the same loss
    squared = torch.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda x, y: ((x - y) ** 2).sum(1), margin=margin, reduction="sum"
    )
    torch.testing.assert_close(
        triplet_loss(a, p, n, margin), squared(a, p, n), rtol=1e-12, atol=1e-12
    )
    # and with the plain distances torch's module is the same formula
    plain = torch.nn.TripletMarginLoss(margin=margin, p=2, eps=0, reduction="sum")(a, p, n)
    hand = torch.relu(d_ap.sqrt() - d_an.sqrt() + margin).sum()
    torch.testing.assert_close(plain, hand, rtol=1e-12, atol=1e-12)


def test_triplet_loss_is_zero_once_the_margin_is_met_and_not_before():
    a = np.zeros((1, 2))
    p = np.array([[0.1, 0.0]])  # d(A, P) = 0.01
    for gap, loss in [(0.2 + 1e-9, 0.0), (0.2, 0.0), (0.1, 0.1)]:
        n = np.array([[0.0, np.sqrt(0.01 + gap)]])  # d(A, N) = d(A, P) + gap
        assert triplet_loss(a, p, n, margin=0.2) == pytest.approx(loss, abs=1e-12)
    # without a margin, mapping everything to one point costs nothing: the collapse
    same = np.ones((3, 4))
    assert triplet_loss(same, same, same, margin=0.0) == 0
    assert triplet_loss(same, same, same, margin=0.2) == pytest.approx(3 * 0.2)


@pytest.mark.parametrize("seed", SEEDS)
def test_triplet_loss_gradients_match_finite_differences(seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((5, 3)) for _ in range(3)]
    tensors = [torch.tensor(x, requires_grad=True) for x in arrays]
    triplet_loss(*tensors, margin=0.5).backward()
    for k in range(3):

        def f(x, k=k):
            parts = list(arrays)
            parts[k] = x
            return float(triplet_loss(*parts, margin=0.5))

        numeric = numerical_gradient(f, arrays[k].copy())
        assert rel_error(tensors[k].grad.numpy(), numeric) < 1e-6


def test_triplet_loss_bad_input():
    a = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"same shape.*\(3, 2\), \(2, 2\)"):
        triplet_loss(a, np.zeros((2, 2)), a)
    with pytest.raises(ValueError, match="margin"):
        triplet_loss(a, a, a, margin=-0.1)
    with pytest.raises(ValueError, match="reduction"):
        triplet_loss(a, a, a, reduction="max")
    with pytest.raises(ValueError, match="at least one triplet"):
        triplet_loss(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 2)), reduction="mean")
    with pytest.raises(TypeError, match="anchor, positive, negative.*all torch tensors"):
        triplet_loss(torch.zeros(3, 2), a, a)


# --- mine_triplets -----------------------------------------------------------------------------


def mining_loop(emb, labels, strategy):
    """Brute force: for each ordered (a, p), the negative of the strategy by a plain search."""
    d = [[float(np.sum((x - y) ** 2)) for y in emb] for x in emb]
    triplets = []
    for a, p in itertools.permutations(range(len(labels)), 2):
        if labels[a] != labels[p]:
            continue
        negatives = [n for n in range(len(labels)) if labels[n] != labels[a]]
        if strategy == "hard":
            n = min(negatives, key=lambda n: (d[a][n], n))
        else:
            farther = [n for n in negatives if d[a][n] > d[a][p]]
            if farther:
                n = min(farther, key=lambda n: (d[a][n], n))
            else:
                n = max(negatives, key=lambda n: (d[a][n], -n))
        triplets.append((a, p, n))
    return sorted(triplets)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("strategy", ["random", "semi_hard", "hard"])
def test_mined_triplets_are_valid_and_cover_every_positive_pair(seed, strategy):
    emb, labels = batch(seed, people=3 + seed, shots=2 + seed % 3)
    a, p, n = mine_triplets(emb, labels, strategy, seed=seed)
    assert a.dtype == p.dtype == n.dtype == np.int64
    assert (labels[a] == labels[p]).all() and (a != p).all()
    assert (labels[a] != labels[n]).all()
    pairs = {
        (i, j) for i, j in itertools.permutations(range(len(labels)), 2) if labels[i] == labels[j]
    }
    assert set(zip(a.tolist(), p.tolist(), strict=True)) == pairs and len(a) == len(pairs)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("strategy", ["semi_hard", "hard"])
def test_hard_and_semi_hard_negatives_match_brute_force(seed, strategy):
    emb, labels = batch(seed, people=4, shots=3)
    a, p, n = mine_triplets(torch.from_numpy(emb), torch.from_numpy(labels), strategy)
    got = sorted(zip(a.tolist(), p.tolist(), n.tolist(), strict=True))
    assert got == mining_loop(emb, labels, strategy)


def test_semi_hard_falls_back_to_the_farthest_negative():
    # one dimension: anchor 0 at 0, its positive 1 at 10; negatives at 1 and 3 (both closer)
    emb = np.array([[0.0], [10.0], [1.0], [3.0]])
    labels = np.array([0, 0, 1, 1])
    a, p, n = mine_triplets(emb, labels, "semi_hard")
    # from 0: d(A, P) = 100, the negatives at 1 and 9, none beyond: the farthest, image 3
    assert n[(a == 0)].tolist() == [3]
    # from 10: d(A, P) = 100, the negatives at 81 and 49: the farthest, image 2
    assert n[(a == 1)].tolist() == [2]
    # with the positive moved in to 2 (d = 64 from 10), image 2 (81) is the closest beyond it
    emb[0] = 2.0
    a, p, n = mine_triplets(emb, labels, "semi_hard")
    assert n[(a == 1)].tolist() == [2]


def test_random_negatives_are_uniform_and_seeded():
    emb, labels = batch(0, people=3, shots=2)
    draws = np.concatenate([mine_triplets(emb, labels, "random", seed=s)[2] for s in range(300)])
    counts = np.bincount(draws, minlength=len(labels))
    # each of the 6 images is a negative for the 4 pairs of the other two people: 4 * 300 / 4
    assert counts.min() > 0.8 * 300 and counts.max() < 1.2 * 300
    first = mine_triplets(emb, labels, "random", seed=5)[2]
    np.testing.assert_array_equal(first, mine_triplets(emb, labels, "random", seed=5)[2])


def test_mining_bad_input():
    emb = np.zeros((4, 2))
    with pytest.raises(ValueError, match="single identity"):
        mine_triplets(emb, np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="two images"):
        mine_triplets(emb, np.arange(4))
    with pytest.raises(ValueError, match="embeddings has 4, labels has 3"):
        mine_triplets(emb, np.array([0, 0, 1]))
    with pytest.raises(ValueError, match="embeddings.*2-D"):
        mine_triplets(np.zeros(4), np.array([0, 0, 1, 1]))
    with pytest.raises(ValueError, match="strategy"):
        mine_triplets(emb, np.array([0, 0, 1, 1]), "easy")


# --- verification metrics ----------------------------------------------------------------------


def auc_by_counting(d, same):
    """P(d_diff > d_same) + P(d_diff = d_same) / 2, over every (same, different) pair."""
    wins = 0.0
    for ds in d[same]:
        for dd in d[~same]:
            wins += 1.0 if dd > ds else 0.5 if dd == ds else 0.0
    return wins / (same.sum() * (~same).sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_auc_matches_pair_count_and_sklearn(seed):
    rng = np.random.default_rng(seed)
    same = rng.random(60) < 0.4
    d = np.round(rng.random(60) + 0.3 * ~same, 1)  # rounded: many ties
    m = verification_metrics(d, same)
    assert m.auc == pytest.approx(auc_by_counting(d, same), abs=1e-12)
    assert m.auc == pytest.approx(roc_auc_score(same, -d), abs=1e-12)
    fpr, tpr, _ = roc_curve(same, -d, drop_intermediate=False)
    np.testing.assert_allclose(m.fpr, fpr, atol=1e-12)
    np.testing.assert_allclose(m.tpr, tpr, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_best_threshold_is_the_most_accurate_by_brute_force(seed):
    rng = np.random.default_rng(seed)
    same = rng.random(40) < 0.5
    d = rng.random(40) + 0.4 * ~same
    m = verification_metrics(d, same)
    accuracies = {
        t: np.mean([(x <= t) == s for x, s in zip(d, same, strict=True)]) for t in [-np.inf, *d]
    }
    best = max(accuracies.values())
    assert m.accuracy == pytest.approx(best)
    assert m.best_threshold == min(t for t, acc in accuracies.items() if acc == best)
    assert verification_accuracy(d, same, m.best_threshold) == pytest.approx(best)


def test_verification_hand_case():
    d = np.array([0.1, 0.4, 0.35, 0.8])
    same = np.array([1, 1, 0, 0])
    m = verification_metrics(d, same)
    # sorted: 0.1 same, 0.35 diff, 0.4 same, 0.8 diff -> one inversion of 4 orderings
    assert m.auc == pytest.approx(0.75)
    assert m.thresholds.tolist() == [-np.inf, 0.1, 0.35, 0.4, 0.8]
    assert m.best_threshold == 0.1 and m.accuracy == 0.75
    assert verification_accuracy(d, same, 0.5) == 0.75  # 0.35 wrongly called "same"


def test_metrics_bad_input():
    with pytest.raises(ValueError, match="both kinds of pairs, got 2 same and 0"):
        verification_metrics([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="distances has 3, same has 2"):
        verification_metrics([0.1, 0.2, 0.3], [1, 0])
    with pytest.raises(ValueError, match="distances has 1, same has 2"):
        verification_accuracy([0.1], [1, 0], 0.5)
    with pytest.raises(ValueError, match="gallery has 2, gallery_labels has 1"):
        identify(np.zeros((1, 2)), np.zeros((2, 2)), [0])
    with pytest.raises(ValueError, match="embeddings has 2, labels has 3"):
        one_shot_accuracy(np.zeros((2, 2)), [0, 0, 1], k=2)
    with pytest.raises(ValueError, match="only 0 and 1"):
        verification_metrics([0.1, 0.2], [1, 2])


# --- pairs, identification ---------------------------------------------------------------------


def test_make_pairs_are_balanced_and_labelled_right():
    labels = np.repeat(np.arange(20), 4)
    i, j, same = make_pairs(labels, n_pairs=100, seed=1)
    assert len(i) == 100 and same.sum() == 50
    np.testing.assert_array_equal(labels[i] == labels[j], same)
    assert (i != j).all()
    assert len(set(zip(i[same].tolist(), j[same].tolist(), strict=True))) == 50
    with pytest.raises(ValueError, match="single identity"):
        make_pairs(np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="two images"):
        make_pairs(np.arange(5))


def test_identify_matches_a_loop():
    rng = np.random.default_rng(0)
    gallery, queries = rng.standard_normal((6, 3)), rng.standard_normal((10, 3))
    labels = np.array([5, 3, 8, 1, 0, 2])
    loop = [labels[min(range(6), key=lambda g: np.sum((q - gallery[g]) ** 2))] for q in queries]
    np.testing.assert_array_equal(identify(queries, gallery, labels), loop)


def test_one_shot_accuracy_perfect_and_chance():
    labels = np.repeat(np.arange(12), 3)
    one_hot = np.eye(12)[labels]
    assert one_shot_accuracy(one_hot, labels, k=5, trials=50) == 1.0
    constant = np.zeros((len(labels), 4))  # every distance 0: the first enrolled person wins
    assert one_shot_accuracy(constant, labels, k=4, trials=2000) == pytest.approx(0.25, abs=0.04)
    with pytest.raises(ValueError, match="k=20 needs 20 identities"):
        one_shot_accuracy(one_hot, labels, k=20)


# --- networks ----------------------------------------------------------------------------------


def test_pair_features_by_hand():
    e1 = torch.tensor([[0.5, 0.0, 0.25]], dtype=torch.float64)
    e2 = torch.tensor([[0.25, 0.0, 0.75]], dtype=torch.float64)
    l1 = pair_features(e1, e2, "l1")
    torch.testing.assert_close(l1, torch.tensor([[0.25, 0.0, 0.5]], dtype=torch.float64))
    chi2 = pair_features(e1, e2, "chi2", eps=1e-12)
    # 0.25^2 / 0.75 = 1/12; 0 / 0 -> 0; 0.5^2 / 1 = 0.25
    torch.testing.assert_close(chi2, torch.tensor([[1 / 12, 0.0, 0.25]], dtype=torch.float64))
    with pytest.raises(ValueError, match="non-negative"):
        pair_features(-e1, e2, "chi2")
    with pytest.raises(ValueError, match="same shape"):
        pair_features(e1, e2[:, :2])
    with pytest.raises(ValueError, match="kind"):
        pair_features(e1, e2, "cosine")


@pytest.mark.parametrize("kind", ["l1", "chi2"])
def test_pair_classifier_logit_is_a_weighted_feature_sum(kind):
    torch.manual_seed(0)
    model = PairClassifier(3, kind).double().requires_grad_(False)
    pairs = torch.rand(4, 2, 3, dtype=torch.float64)
    w, b = model.linear.weight[0], model.linear.bias[0]
    for k in range(4):
        x, y = pairs[k, 0].tolist(), pairs[k, 1].tolist()
        feats = [
            abs(u - v) if kind == "l1" else (u - v) ** 2 / (u + v + 1e-8)
            for u, v in zip(x, y, strict=True)
        ]
        hand = sum(float(w[c]) * feats[c] for c in range(3)) + float(b)
        assert float(model(pairs)[k]) == pytest.approx(hand, rel=1e-10)
    with pytest.raises(ValueError, match=r"\(N, 2, D\)"):
        model(pairs[:, 0])


def test_face_embedder_unit_norm_and_shared_weights():
    torch.manual_seed(0)
    model = FaceEmbedder(in_channels=1, embedding_dim=16, width=4).eval()
    x = torch.rand(5, 1, 32, 32)
    emb = model(x)
    assert emb.shape == (5, 16)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(5))
    # a pair through the one encoder: the same image gives the same embedding, distance 0
    with torch.no_grad():
        d = pairwise_distances(model(x[:1]), model(x[:1]))
    assert d.item() < 1e-10
    with pytest.raises(ValueError, match=r"\[N, 1, H, W\]"):
        model(torch.rand(5, 3, 32, 32))


# --- training ----------------------------------------------------------------------------------


def test_pk_batches_hold_p_people_k_times():
    labels = np.repeat(np.arange(10), 5)
    for index in pk_batches(labels, people=4, shots=3, steps=5, seed=0):
        ids, counts = np.unique(labels[index], return_counts=True)
        assert len(ids) == 4 and (counts == 3).all() and len(set(index.tolist())) == 12
    with pytest.raises(ValueError, match="needs 11 identities"):
        next(pk_batches(labels, people=11, shots=2, steps=1))


def test_train_triplets_separates_two_easy_identities():
    # two people: dark and bright images with noise; a few steps pull them apart
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 6)
    x = 0.2 + 0.2 * labels[:, None, None, None] + 0.05 * rng.standard_normal((24, 1, 16, 16))
    torch.manual_seed(0)
    model = FaceEmbedder(embedding_dim=8, width=4)
    history = train_triplets(
        model,
        x.astype(np.float32),
        labels,
        "semi_hard",
        steps=30,
        people=4,
        shots=3,
        lr=0.01,
        progress=False,
    )
    assert len(history["loss"]) == 30
    assert np.mean(history["loss"][-5:]) < np.mean(history["loss"][:5])


def test_train_triplets_evaluates_on_schedule_and_is_reproducible():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), 4)
    x = 0.3 + 0.1 * labels[:, None, None, None] + 0.05 * rng.standard_normal((16, 1, 8, 8))
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = FaceEmbedder(embedding_dim=4, width=2)
        calls = []
        history = train_triplets(
            model,
            x.astype(np.float32),
            labels,
            "random",
            steps=7,
            people=2,
            shots=2,
            progress=False,
            eval_every=3,
            evaluate=lambda m, calls=calls: calls.append(m.training) or len(calls),
        )
        assert history["eval_step"] == [0, 3, 6, 7] and history["eval"] == [1, 2, 3, 4]
        assert calls == [False] * 4 and model.training  # evaluated in eval mode, then back
        runs.append(history["loss"])
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="strategy"):
        train_triplets(model, x, labels, "easiest", steps=1)
    with pytest.raises(ValueError, match="margin"):
        train_triplets(model, x, labels, margin=-0.1, steps=1)
    with pytest.raises(ValueError, match="eval_every"):
        train_triplets(model, x, labels, eval_every=0, steps=1)
