"""Object detection (chapter 7): boxes ``[N, 4]`` rows ``(x1, y1, x2, y2)``, IoU, NMS, YOLO,
region proposals, RoI pooling and the mAP metric."""

from mlnotes.detection.boxes import batched_nms, box_area, box_convert, box_iou, nms
from mlnotes.detection.detector import TinyYolo, anchor_shapes, candidate_boxes, detect
from mlnotes.detection.draw import plot_boxes
from mlnotes.detection.metrics import (
    COCO_IOU_THRESHOLDS,
    MeanAveragePrecision,
    PrecisionRecall,
    average_precision,
    mean_average_precision,
    precision_recall,
)
from mlnotes.detection.roi import roi_pool
from mlnotes.detection.rpn import (
    TinyRPN,
    anchor_grid,
    decode_deltas,
    encode_deltas,
    proposal_recall,
    propose,
    rpn_loss,
    rpn_targets,
)
from mlnotes.detection.windows import crop_windows, fc_to_conv, sliding_windows
from mlnotes.detection.yolo import (
    assign_anchors,
    filter_boxes,
    yolo_decode,
    yolo_encode,
    yolo_loss,
)
