"""Plain-Python references for the detection tests: written from the definition, no NumPy."""


def iou_pair(a, b):
    """IoU of two xyxy boxes given as sequences of Python floats; 0 when the union is empty."""
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
