"""Training an embedding with the triplet loss on batches of P people x K photographs (ch. 8).

Why not ``mlnotes.train.fit``: triplet training needs batches of whole identities (so that every
anchor has positives) and triplets mined from the batch's *current* embeddings between the
forward pass and the loss. PK batches: Hermans et al. (2017), section 2 (see ``faces.mining``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from mlnotes.core import as_class_labels, check_choice, check_same_length, check_scalar, to_numpy
from mlnotes.faces.distances import triplet_hinge
from mlnotes.faces.mining import STRATEGIES, triplets_of
from mlnotes.train import tqdm


def pk_batches(labels, people: int, shots: int, steps: int, seed: int = 0):
    """Yield ``steps`` index arrays ``[P * K]`` into ``labels``: ``people`` distinct identities
    (among those with at least ``shots`` photographs) x ``shots`` distinct photographs, grouped,
    uniformly."""
    labels = as_class_labels(labels, name="labels")
    people = check_scalar(people, "people", low=2, integer=True)
    shots = check_scalar(shots, "shots", low=2, integer=True)
    steps = check_scalar(steps, "steps", low=0, integer=True)
    ids, counts = np.unique(labels, return_counts=True)
    ids = ids[counts >= shots]
    if len(ids) < people:
        raise ValueError(
            f"a batch of {people} people x {shots} photographs needs {people} identities with "
            f"{shots} photographs, got {len(ids)}"
        )
    members = {p: np.flatnonzero(labels == p) for p in ids}
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        chosen = rng.choice(ids, size=people, replace=False)
        yield np.concatenate([rng.choice(members[p], size=shots, replace=False) for p in chosen])


def train_triplets(
    model: torch.nn.Module,
    x,
    labels,
    strategy: str = "semi_hard",
    steps: int = 300,
    people: int = 16,
    shots: int = 4,
    margin: float = 0.2,
    lr: float = 1e-3,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = True,
    evaluate: Callable[[torch.nn.Module], float] | None = None,
    eval_every: int = 50,
) -> dict[str, list[float]]:
    """Adam, with a cosine learning-rate decay, on the mean triplet loss of each P x K batch.

    Triplets are mined (``strategy``) on the detached embeddings. ``evaluate`` (``model ->
    float``, e.g. a validation AUC) runs in ``eval()`` mode before the first step, every
    ``eval_every`` steps and after the last. Returns per step ``"loss"`` and ``"active"`` (the
    fraction of triplets with a positive loss); with ``evaluate``, ``"eval_step"`` and ``"eval"``.
    """
    check_choice(strategy, "strategy", STRATEGIES)
    images = torch.as_tensor(np.asarray(x, dtype=np.float32))
    labels = as_class_labels(labels, name="labels")
    check_same_length(x=images, labels=labels)
    margin = check_scalar(margin, "margin", low=0)
    check_scalar(eval_every, "eval_every", low=1, integer=True)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # the learning rate falls from lr to 0 along half a cosine: large steps first, fine ones last
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    history: dict[str, list[float]] = {"loss": [], "active": []}

    def record(step):
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                history.setdefault("eval_step", []).append(step)
                history.setdefault("eval", []).append(float(evaluate(model)))
            model.train()

    record(0)
    batches = pk_batches(labels, people, shots, steps, seed)
    for step, index in enumerate(tqdm(batches, total=steps, disable=not progress)):
        emb = model(images[index].to(device))  # [P K, D]
        detached = to_numpy(emb).astype(np.float64)
        a, p, n = triplets_of(detached, labels[index], strategy, seed=seed * 100_003 + step)
        losses = triplet_hinge(emb[a], emb[p], emb[n], margin)  # [T]
        loss = losses.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        history["loss"].append(loss.item())
        history["active"].append((losses > 0).float().mean().item())
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            record(step + 1)
    return history
