"""Write torchvision_outputs.json: torchvision's logits for fixed weights and a fixed input.

tests/test_models.py fills mlnotes' model with the same weights (``seeded_state_dict``, from the
same numpy generator, key by key) and must return the same logits. Made with torchvision 0.29.1
and torch 2.14.1 in a separate environment (mlnotes' own venv has no torchvision):

    PYTHONPATH=. /path/to/venv-with-torchvision/bin/python tests/data/dump_torchvision_outputs.py
"""

import json
import math
import re
from pathlib import Path

import numpy as np
import torch

# torchvision factory -> its keyword arguments; ten classes keep the file small
MODELS = {
    "alexnet": {},
    "vgg11": {},
    "resnet18": {},
    "resnet50": {},
    "googlenet": {"aux_logits": False, "init_weights": False, "transform_input": True},
}
NUM_CLASSES = 10


def seeded_state_dict(state_dict: dict) -> dict:
    """The same keys and shapes, float entries drawn from one seeded numpy generator in key
    order: weights N(0, 2 / fan_in), batch-norm scales and variances U(0.5, 1.5), biases and
    means N(0, 0.1²); integer entries (``num_batches_tracked``) 0. New tensors on the CPU, so
    that a model built on the meta device can take them with ``load_state_dict(assign=True)``."""
    rng = np.random.default_rng(0)
    out = {}
    for key, value in state_dict.items():
        shape = tuple(value.shape)
        if not value.is_floating_point():
            out[key] = torch.zeros(shape, dtype=value.dtype)
            continue
        if len(shape) > 1:
            a = rng.standard_normal(shape, dtype=np.float32) * math.sqrt(2 / math.prod(shape[1:]))
        elif key.endswith(("weight", "running_var")):
            a = rng.uniform(0.5, 1.5, shape).astype(np.float32)
        else:
            a = 0.1 * rng.standard_normal(shape, dtype=np.float32)
        out[key] = torch.from_numpy(a)
    return out


def seeded_input() -> torch.Tensor:
    """Two 3 × 64 × 64 images, N(0, 1)."""
    return torch.from_numpy(np.random.default_rng(1).standard_normal((2, 3, 64, 64), np.float32))


if __name__ == "__main__":
    import torchvision
    import torchvision.models as models

    out = {"torchvision": torchvision.__version__, "torch": torch.__version__}
    with torch.no_grad():
        for name, kwargs in MODELS.items():
            model = getattr(models, name)(num_classes=NUM_CLASSES, **kwargs).eval()
            model.load_state_dict(seeded_state_dict(model.state_dict()))
            out[name] = model(seeded_input()).tolist()
    # one example's logits per line
    text = json.dumps(out, indent=1)
    text = re.sub(r"\[\s+([^\[\]]*?)\s+\]", lambda m: "[" + re.sub(r",\s+", ", ", m[1]) + "]", text)
    Path(__file__).with_name("torchvision_outputs.json").write_text(text + "\n")
