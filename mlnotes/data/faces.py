"""Cartoon faces (ch. 8): fixed traits per identity (``TRAITS``), nuisances per photograph.

The nuisances (pose, expression, lighting, background, noise: ``NUISANCES``) are strong on
purpose: two photographs of one person differ more, pixel by pixel, than many photographs of two
people, so only a learned embedding verifies faces well. ``load_faces`` splits identities into
disjoint parts, generated or from Labeled Faces in the Wild (needs the internet the first time).

References: Ng, Deep Learning Specialization, course 4 week 4; Huang et al., "Labeled Faces in
the Wild" (2007).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlnotes.core import check_choice, check_scalar

# name -> (low, high) of the uniform draw of each trait of an identity; coordinates are in face
# units: the image spans [-1, 1] left to right and top to bottom, v pointing down
TRAITS = {
    "face_width": (0.50, 0.78),  # half-axes of the head ellipse
    "face_height": (0.66, 0.90),
    "skin": (0.30, 0.85),  # grey level of the skin
    "hair": (0.0, 1.0),  # grey level of the hair
    "hairline": (-0.70, -0.25),  # height of the hair's lower edge
    "eye_spacing": (0.16, 0.38),  # half the distance between the eyes
    "eye_height": (-0.22, 0.05),
    "eye_size": (0.05, 0.14),
    "brow_gap": (0.09, 0.22),  # how far above the eyes the brows sit
    "brow_thickness": (0.02, 0.06),
    "brow_tilt": (-0.35, 0.35),  # slope of the brows (outer end up when positive)
    "nose_length": (0.07, 0.20),
    "nose_width": (0.03, 0.09),
    "mouth_height": (0.34, 0.60),
    "mouth_width": (0.08, 0.32),
}
# per image: (low, high, neutral) of each nuisance; the neutral value is a frontal, evenly lit,
# noiseless photograph with a neutral expression
NUISANCES = {
    "shift_x": (-0.15, 0.15, 0.0),  # of the head's centre (times size / 2 in pixels)
    "shift_y": (-0.15, 0.15, 0.0),
    "scale": (0.87, 1.13, 1.0),
    "rotation": (-0.2, 0.2, 0.0),  # in-plane, radians (about +-11 degrees)
    "turn": (-0.1, 0.1, 0.0),  # sideways slide of eyes, nose and mouth (a turned head)
    "eye_open": (0.5, 1.1, 0.8),
    "mouth_open": (0.4, 1.4, 0.9),
    "brow_raise": (-0.04, 0.06, 0.0),
    "gain": (0.55, 1.35, 1.0),  # lighting: brightness times gain ...
    "gradient": (0.0, 0.9, 0.0),  # ... times 1 + gradient * (position along a random direction)
    "background": (0.0, 1.0, 0.5),
    "noise": (0.01, 0.04, 0.0),  # standard deviation of the pixel noise
}
DATASETS = ("generated", "lfw")


def make_identities(n: int, seed: int = 0) -> np.ndarray:
    """Traits ``ndarray[n, T]`` of ``n`` identities, uniform in the ranges of ``TRAITS``."""
    check_scalar(n, "n", low=0, integer=True)
    rng = np.random.default_rng(seed)
    low, high = np.array(list(TRAITS.values())).T  # each [T]
    return rng.uniform(low, high, (n, len(TRAITS)))


def render_faces(traits: np.ndarray, nuisances: np.ndarray, size: int = 32) -> np.ndarray:
    """Draw one grey face per row of ``traits`` under the matching row of ``nuisances``.

        p = R(rotation) (q - shift) / scale,   image *= gain * (1 + gradient * ((q - shift) . d))

    for pixel position ``q``; every part is a soft ellipse (one-pixel ramp) in face coordinates
    ``p``. ``nuisances [N, U + 1]``: the columns of ``NUISANCES`` plus the light's angle in
    radians; no noise is drawn (``make_faces`` adds it). Returns unclipped ``[N, size, size]``.
    """
    traits, nuisances = np.asarray(traits, float), np.asarray(nuisances, float)
    if traits.ndim != 2 or traits.shape[1] != len(TRAITS):
        raise ValueError(f"traits must have shape (N, {len(TRAITS)}), got {traits.shape}")
    shape = (len(traits), len(NUISANCES) + 1)
    if nuisances.shape != shape:
        raise ValueError(f"nuisances must have shape {shape}, got {nuisances.shape}")
    check_scalar(size, "size", low=8, integer=True)
    t = {name: traits[:, k, None, None] for k, name in enumerate(TRAITS)}  # each [N, 1, 1]
    z = {name: nuisances[:, k, None, None] for k, name in enumerate(NUISANCES)}
    angle = nuisances[:, -1, None, None]  # [N, 1, 1] direction of the light
    shift_x, shift_y = z["shift_x"], z["shift_y"]
    pixel = 2 * (np.arange(size) + 0.5) / size - 1  # [size] pixel centres in [-1, 1]
    qx, qy = pixel[None, None, :] - shift_x, pixel[None, :, None] - shift_y  # [N, 1|S, S|1]
    cos, sin = np.cos(z["rotation"]), np.sin(z["rotation"])
    u = (cos * qx + sin * qy) / z["scale"]  # [N, S, S] face coordinates
    v = (-sin * qx + cos * qy) / z["scale"]
    ramp = 2 * z["scale"] / size  # one pixel, in face units

    def ellipse(cu, cv, au, av, tilt=0.0):
        # soft indicator [N, S, S] of the ellipse centred (cu, cv), half-axes (au, av)
        du, dv = u - cu, v - cv
        if not np.isscalar(tilt):
            du, dv = np.cos(tilt) * du + np.sin(tilt) * dv, -np.sin(tilt) * du + np.cos(tilt) * dv
        r = np.sqrt((du / au) ** 2 + (dv / av) ** 2)  # 1 on the edge
        return np.clip((1 - r) * np.minimum(au, av) / ramp + 0.5, 0, 1)

    image = np.broadcast_to(z["background"], u.shape).copy()  # [N, S, S]
    head = ellipse(0.0, 0.05, t["face_width"], t["face_height"])
    image = image * (1 - head) + t["skin"] * head
    hair = ellipse(0.0, 0.0, t["face_width"] + 0.08, t["face_height"] + 0.06)
    hair = hair * np.clip((t["hairline"] - v) / ramp + 0.5, 0, 1)  # above the hairline
    image = image * (1 - hair) + t["hair"] * hair
    dark = 0.08  # eyes and mouth; brows take the hair's tone, the nose a darker skin
    turn = z["turn"]
    for side in (-1, 1):
        eye_u = side * t["eye_spacing"] + turn
        eye = ellipse(eye_u, t["eye_height"], t["eye_size"], t["eye_size"] * z["eye_open"] * 0.7)
        image = image * (1 - eye) + dark * eye
        brow_v = t["eye_height"] - t["brow_gap"] - z["brow_raise"]
        brow_u = 1.3 * t["eye_size"] + 0.02
        brow = ellipse(eye_u, brow_v, brow_u, t["brow_thickness"], tilt=-side * t["brow_tilt"])
        image = image * (1 - brow) + (0.6 * t["hair"]) * brow
    nose_v = t["eye_height"] + 0.12 + t["nose_length"]
    nose = ellipse(1.3 * turn, nose_v, t["nose_width"], t["nose_length"])
    image = image * (1 - nose) + (0.6 * t["skin"]) * nose
    mouth_height = 0.02 + 0.04 * z["mouth_open"]
    mouth = ellipse(1.1 * turn, t["mouth_height"], t["mouth_width"], mouth_height)
    image = image * (1 - mouth) + dark * mouth
    light = z["gain"] * (1 + z["gradient"] * (np.cos(angle) * qx + np.sin(angle) * qy))
    return image * light


def make_faces(
    n_identities: int,
    images_per_identity: int = 8,
    size: int = 32,
    seed: int = 0,
    first_label: int = 0,
    nuisance: float = 1.0,
):
    """Generate ``images_per_identity`` photographs of each of ``n_identities`` identities.

        x = clip(render(traits of the identity, nuisances of the image) + noise * N(0, 1), 0, 1)

    The traits are uniform in the ranges of ``TRAITS``; each nuisance is uniform in its range of
    ``NUISANCES`` and then moved towards its neutral value, ``neutral + nuisance * (draw -
    neutral)`` (0: every photograph of a person is the same frontal, evenly lit, noiseless
    picture; 1: the full ranges). Labels start at ``first_label``.

    Returns ``x [N, 1, size, size]`` float32 in [0, 1], grouped by identity, int64 ``labels [N]``
    and the identities' ``traits [n_identities, T]``.
    """
    check_scalar(n_identities, "n_identities", low=0, integer=True)
    check_scalar(images_per_identity, "images_per_identity", low=1, integer=True)
    check_scalar(size, "size", low=8, integer=True)
    check_scalar(first_label, "first_label", low=0, integer=True)
    check_scalar(nuisance, "nuisance", low=0, high=1)
    rng = np.random.default_rng(seed)
    traits = make_identities(n_identities, seed=int(rng.integers(2**32)))
    n = n_identities * images_per_identity
    low, high, neutral = np.array(list(NUISANCES.values())).T  # each [U]
    draws = rng.uniform(low, high, (n, len(NUISANCES)))  # [n, U]
    draws = neutral + nuisance * (draws - neutral)
    angle = rng.uniform(0, 2 * np.pi, (n, 1))  # [n, 1] the light's direction
    per_image = np.repeat(traits, images_per_identity, axis=0)  # [n, T]
    x = np.empty((n, 1, size, size), dtype=np.float32)
    for start in range(0, n, 512):  # in chunks: a chunk's temporaries stay small
        stop = min(start + 512, n)
        nuisances = np.concatenate([draws[start:stop], angle[start:stop]], axis=1)
        x[start:stop, 0] = render_faces(per_image[start:stop], nuisances, size)
    noise = draws[:, list(NUISANCES).index("noise"), None, None, None]  # [n, 1, 1, 1]
    x += (noise * rng.standard_normal(x.shape)).astype(np.float32)
    np.clip(x, 0, 1, out=x)
    labels = np.repeat(np.arange(n_identities) + first_label, images_per_identity)
    return x, labels.astype(np.int64), traits


@dataclass
class FaceSplit:
    """Images ``[N, 1, H, W]`` in [0, 1] and int64 labels of three disjoint sets of people:
    ``train`` learns the embedding, ``val`` chooses the threshold, ``test`` measures it."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_faces(
    dataset: str = "generated",
    n_train: int = 300,
    n_val: int = 50,
    n_test: int = 100,
    images_per_identity: int = 8,
    size: int = 32,
    seed: int = 0,
    min_faces_per_person: int = 10,
) -> FaceSplit:
    """Faces of disjoint train, validation and test identities, as a ``FaceSplit``.

    ``"generated"``: ``make_faces`` with ``n_train + n_val + n_test`` identities, in that order.
    ``"lfw"``: scikit-learn's ``fetch_lfw_people`` (grey), the people with at least
    ``min_faces_per_person`` photographs, at most ``images_per_identity`` each (>= 2: a pair needs
    two), resized to ``size x size``, shuffled with ``seed`` and dealt to the parts in the
    proportions ``n_train : n_val : n_test``.
    """
    check_choice(dataset, "dataset", DATASETS)
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        check_scalar(value, name, low=1, integer=True)
    check_scalar(images_per_identity, "images_per_identity", low=2, integer=True)
    check_scalar(size, "size", low=8, integer=True)
    if dataset == "lfw":
        return _load_lfw(
            n_train, n_val, n_test, images_per_identity, size, seed, min_faces_per_person
        )
    x, y, _ = make_faces(n_train + n_val + n_test, images_per_identity, size, seed)
    parts = np.cumsum([n_train, n_val]) * images_per_identity  # identities are grouped
    x_train, x_val, x_test = np.split(x, parts)
    y_train, y_val, y_test = np.split(y, parts)
    return FaceSplit(x_train, y_train, x_val, y_val, x_test, y_test)


def _load_lfw(n_train, n_val, n_test, images_per_identity, size, seed, min_faces_per_person):
    import torch
    from sklearn.datasets import fetch_lfw_people

    lfw = fetch_lfw_people(min_faces_per_person=min_faces_per_person, color=False)
    images = np.asarray(lfw.images, dtype=np.float32)  # [N, h, w]
    if images.ndim != 3:
        raise ValueError(f"expected LFW images of shape (N, h, w), got {images.shape}")
    if images.max() > 1:  # scikit-learn divides by 255, though its docs say 0..255: accept both
        images = images / 255
    people = np.unique(lfw.target)
    if len(people) < 3:
        who = f"LFW with min_faces_per_person={min_faces_per_person}"
        raise ValueError(f"{who} has {len(people)} people; the three parts need at least 3")
    rng = np.random.default_rng(seed)
    people = rng.permutation(people)
    counts = np.array([n_train, n_val, n_test], dtype=float)
    cuts = np.round(np.cumsum(counts)[:2] / counts.sum() * len(people)).astype(int)
    cuts = np.clip(cuts, [1, 2], len(people) - 1)  # every part keeps at least one person
    parts = []
    for group in np.split(people, cuts):
        index = [np.flatnonzero(lfw.target == p)[:images_per_identity] for p in group]
        index = np.concatenate(index)
        x = torch.from_numpy(images[index])[:, None]  # [n, 1, h, w]
        x = torch.nn.functional.interpolate(x, (size, size), mode="bilinear", antialias=True)
        parts += [x.clamp(0, 1).numpy(), np.asarray(lfw.target[index], dtype=np.int64)]
    return FaceSplit(*parts)
