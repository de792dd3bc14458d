"""Object detection (chapter 7): bounding boxes, intersection over union, non-maximum suppression.

Boxes are ``(N, 4)`` rows ``(x1, y1, x2, y2)`` (PyTorch's and torchvision's convention), as NumPy
arrays or torch tensors; each function answers in the kind it was given.

    iou = box_iou(boxes1, boxes2)          # [N, M]
    keep = nms(boxes, scores, iou_threshold=0.5)
"""

from mlnotes.detection.boxes import batched_nms, box_area, box_convert, box_iou, nms

__all__ = ["batched_nms", "box_area", "box_convert", "box_iou", "nms"]
