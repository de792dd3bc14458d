"""Face verification (chapter 8): learn a distance between faces, not a classifier of them.

    emb = FaceEmbedder(embedding_dim=64)(x)                  # [N, D]
    a, p, n = mine_triplets(emb, y, strategy="semi_hard")
    loss = triplet_loss(emb[a], emb[p], emb[n], margin=0.2)
    scores = verification_metrics(distances, same)           # ROC, AUC, threshold, accuracy

Reference: Ng, Deep Learning Specialization, course 4 week 4; Schroff et al., "FaceNet" (2015).
"""

from mlnotes.faces.distances import REDUCTIONS, pairwise_distances, triplet_loss
from mlnotes.faces.metrics import (
    VerificationMetrics,
    identify,
    make_pairs,
    one_shot_accuracy,
    verification_accuracy,
    verification_metrics,
)
from mlnotes.faces.mining import STRATEGIES, mine_triplets
from mlnotes.faces.networks import FEATURES, FaceEmbedder, PairClassifier, pair_features
from mlnotes.faces.training import pk_batches, train_triplets
