"""The shared core: seeding, device choice, gradient checking and input checks (every chapter).

References: PyTorch's notes on reproducibility,
https://pytorch.org/docs/stable/notes/randomness.html; cs231n ``gradient_check.py`` and
``rel_error``; Nocedal & Wright, *Numerical Optimization*, section 8.1.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from numbers import Integral, Real

import numpy as np

DEVICES = ("auto", "cpu", "cuda")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's random generators with an integer ``seed >= 0``.

    Returns a fresh ``np.random.Generator`` seeded with ``seed``, for code that prefers an
    explicit generator to the global state.
    """
    seed = check_scalar(seed, "seed", low=0, integer=True)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 -- the legacy global state takes 32-bit seeds
    import torch  # imported here so that NumPy-only chapters do not pay for it

    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def pick_device(device: str = "auto"):
    """The ``torch.device`` to compute on: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``
    or ``"cuda"`` (a ValueError on a machine without a CUDA GPU)."""
    check_choice(device, "device", DEVICES)
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for, but torch sees no CUDA GPU on this machine")
    return torch.device(device)


def numerical_gradient(
    f: Callable[[np.ndarray], float | np.ndarray],
    x: np.ndarray,
    eps: float = 1e-6,
    df: np.ndarray | None = None,
) -> np.ndarray:
    """Centred finite-difference gradient of ``sum(f(x) * df)`` with respect to ``x``.

        grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),   error O(eps^2)

    ``x`` is a float64 array, changed in place during the call and restored; ``f(x)`` is a float
    (``df=None``: the gradient of ``f`` itself) or an array (a layer's forward pass), when ``df``
    is the upstream gradient ``dL/df`` and the result is ``dL/dx``, what a backward pass returns.
    ``eps = 1e-6`` balances truncation (eps^2) and rounding (1e-16 / eps) in float64.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            f"x must be a float64 ndarray (finite differences need double precision), "
            f"got {type(x).__name__} of dtype {getattr(x, 'dtype', None)}"
        )
    eps = check_scalar(eps, "eps", low=0, strict=True)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        f_plus = np.array(f(x), dtype=np.float64, copy=True)
        x[i] = old - eps
        f_minus = np.array(f(x), dtype=np.float64, copy=True)
        x[i] = old
        upstream = np.ones_like(f_plus) if df is None else df
        if upstream.shape != f_plus.shape:
            raise ValueError(
                f"df must have the shape of f(x), {f_plus.shape}, got {upstream.shape}"
            )
        grad[i] = np.sum((f_plus - f_minus) * upstream) / (2 * eps)
    return grad


def rel_error(a, b) -> float:
    """Largest elementwise relative error ``max |a - b| / max(1e-8, |a| + |b|)``.

    About 1e-7 or less means two float64 gradients agree; 1e-2 or more means a bug.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def best_times(*functions: Callable[[], object], repeats: int = 5) -> list[float]:
    """Best wall time, in seconds, of ``repeats`` calls of each function, after one warm-up call.

    The calls alternate (f1, f2, f1, f2, ...) so that every function sees the same load on the
    machine; the minimum is the least disturbed measurement. Timings vary between machines and
    runs: print them, never assert on them.
    """
    repeats = check_scalar(repeats, "repeats", low=1, integer=True)
    times: list[list[float]] = []
    for function in functions:
        function()
        times.append([])
    for _ in range(repeats):
        for function, function_times in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            function_times.append(time.perf_counter() - start)
    return [min(t) for t in times]


def to_numpy(x) -> np.ndarray:
    """``x`` as an ndarray: a tensor detached and copied to the CPU (bfloat16, which NumPy lacks,
    as float32), anything else through ``np.asarray``."""
    if not hasattr(x, "detach"):
        return np.asarray(x)
    import torch

    x = x.detach().cpu()
    return (x.float() if x.dtype == torch.bfloat16 else x).numpy()


def as_float_array(x, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``x`` as a finite floating ndarray, or raise an error that names ``name``.

    Integer and boolean input becomes float64; float32 stays float32.
    """
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def as_binary_labels(y, name: str = "y", ndim: int = 1) -> np.ndarray:
    """Return labels in {0, 1} (``ndim``-D: one column per task) as float64, or raise."""
    arr = as_float_array(y, name, ndim=ndim)
    bad = ~np.isin(arr, (0.0, 1.0))
    if bad.any():
        raise ValueError(
            f"{name} must contain only 0 and 1, got {np.unique(arr[bad])[:5].tolist()}"
        )
    return arr.astype(np.float64)


def as_class_labels(y, num_classes: int | None = None, name: str = "y") -> np.ndarray:
    """Return 1-D integer class labels in [0, num_classes) as int64, or raise a clear error.

    ``num_classes=None`` accepts any non-negative labels (the classes are then 0 .. max(y)).
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D integer labels, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        as_float = as_float_array(arr, name)
        if not np.all(as_float == np.round(as_float)):
            raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must hold labels >= 0, got {arr.min()}")
    if num_classes is not None and arr.size and arr.max() >= num_classes:
        raise ValueError(
            f"{name} must hold labels in [0, {num_classes}), got label {arr.max()} "
            f"(num_classes={num_classes})"
        )
    return arr


def check_scalar(
    value,
    name: str,
    *,
    low: float,
    strict: bool = False,
    integer: bool = False,
    high: float | None = None,
):
    """Return ``value`` as a float (or int) after checking it is a number ``>= low`` (``> low``)
    and, with ``high``, ``<= high``. ``True`` is not a number here.

    Used for hyperparameters: ``check_scalar(lr, "lr", low=0, strict=True)``.
    """
    kind, what = (Integral, "an integer") if integer else (Real, "a number")
    sign = ">" if strict else ">="
    valid = isinstance(value, kind) and not isinstance(value, bool)
    if not (valid and (value > low if strict else value >= low)) or (
        high is not None and value > high
    ):
        bound = "" if high is None else f" and <= {high}"
        raise ValueError(f"{name} must be {what} {sign} {low}{bound}, got {value!r}")
    return int(value) if integer else float(value)


def check_choice(value, name: str, choices) -> None:
    """Raise ValueError unless ``value`` is one of ``choices`` (the message lists them)."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def check_per_axis(value, name: str, dims: int = 2, *, low: int = 1, any_length: bool = False):
    """``value`` as a tuple of ``dims`` integers ``>= low``; an int is repeated on every axis.

    For sizes, strides and paddings given as ``3`` or ``(3, 5)``. With ``any_length=True`` a
    tuple of any length is accepted (an int still gives ``dims``).
    """
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = (value,) * dims
    if not isinstance(value, (tuple, list)) or not (any_length or len(value) == dims):
        raise ValueError(f"{name} must be an int or a tuple of {dims} ints, got {value!r}")
    return tuple(check_scalar(v, name, low=low, integer=True) for v in value)


def require_examples(n: int) -> None:
    """Raise ValueError when a mean over examples would have no examples to average."""
    if n == 0:
        raise ValueError("the mean loss needs at least one example, got 0")


def check_float_tensor(x, name: str) -> None:
    """Raise TypeError unless ``x`` is a floating-point ``torch.Tensor`` (the message names it)."""
    import torch

    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        detail = f" of dtype {x.dtype}" if isinstance(x, torch.Tensor) else ""
        raise TypeError(
            f"{name} must be a floating-point torch.Tensor, got {type(x).__name__}{detail}"
        )


def check_same_length(**arrays: np.ndarray) -> None:
    """Raise ValueError unless every array has the same first dimension (examples)."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"arrays must have the same number of examples (rows): {detail}")


def check_images(
    x,
    in_channels: int,
    *,
    height: int | None = None,
    width: int | None = None,
    min_size: int = 1,
) -> None:
    """Raise unless ``x`` is a float ``torch.Tensor`` batch of images ``[N, in_channels, H, W]``.

    ``height``/``width`` demand an exact size; ``min_size`` is the smallest H and W a network's
    downsampling survives. A wrong input then fails with a message that says what was expected
    instead of a matrix-size error deep inside a layer.
    """
    import torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    expected = f"[N, {in_channels}, {height or 'H'}, {width or 'W'}]"
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(f"x must have shape {expected}, got {tuple(x.shape)}")
    if (height is not None and x.shape[2] != height) or (width is not None and x.shape[3] != width):
        raise ValueError(f"x must have shape {expected}, got {tuple(x.shape)}")
    if min(x.shape[2:]) < min_size:
        raise ValueError(
            f"x must be at least {min_size}×{min_size} pixels for this network, "
            f"got {tuple(x.shape[2:])}"
        )
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
