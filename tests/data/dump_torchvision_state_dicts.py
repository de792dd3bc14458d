"""Write torchvision_state_dicts.json: the state_dict keys and shapes of torchvision's models.

The file is the independent oracle of tests/test_models.py (mlnotes.models must match it key for
key, shape for shape, so that torchvision's published weights load with strict=True). It was made
once, by a maintainer, with torchvision 0.29.1's pure-Python model code beside torch 2.13 (no
matching torchvision build exists for it; its compiled operators are not needed to build models):

    pip download torchvision==0.29.1 --no-deps -d /tmp/tv && unzip -q -d /tmp/tv/x /tmp/tv/*.whl
    PYTHONPATH=/tmp/tv/x python tests/data/dump_torchvision_state_dicts.py

That the models also compute what torchvision's do is checked on their logits by
dump_torchvision_outputs.py and its test.
"""

import json
import re
import sys
import types
from pathlib import Path

# torchvision registers shape functions for its C++ operators on import; they are not built here.
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

import torchvision  # noqa: E402
import torchvision.models as models  # noqa: E402

MODELS = {
    "alexnet": {},
    "vgg11": {},
    "vgg16": {},
    "vgg19": {},
    "resnet18": {},
    "resnet34": {},
    "resnet50": {},
    "googlenet": {"aux_logits": False, "init_weights": True},
}

if __name__ == "__main__":
    out = {"torchvision": torchvision.__version__}
    for name, kwargs in MODELS.items():
        state = getattr(models, name)(**kwargs).state_dict()
        out[name] = {key: list(value.shape) for key, value in state.items()}
    # one key per line, so that a change shows up as a readable diff
    text = json.dumps(out, indent=1)
    text = re.sub(r"\[\s+([^\]]*?)\s+\]", lambda m: "[" + re.sub(r",\s+", ", ", m[1]) + "]", text)
    Path(__file__).with_name("torchvision_state_dicts.json").write_text(text + "\n")
