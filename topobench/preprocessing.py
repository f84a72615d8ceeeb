"""Placing an image on a model's visual field (Brain-Score's convention).

An image that spans ``image_degrees`` of visual angle, shown to a model whose
input of ``image_size`` px spans ``visual_degrees``, covers
``image_size * image_degrees / visual_degrees`` px: it is resized to that
(antialiased bilinear) and centred on a mid-grey (128) canvas, or centre-cropped
when it is larger than the field.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

GREY = 128


def place_on_field(path, image_degrees: float, visual_degrees: float, image_size: int) -> np.ndarray:
    """(image_size, image_size, 3) uint8 array of the image as the model sees it."""
    image = Image.open(Path(path)).convert("RGB")
    target = max(1, int(round(image_size * float(image_degrees) / float(visual_degrees))))
    # non-square images: the longer side spans image_degrees
    scale = target / max(image.size)
    size = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
    if size != image.size:
        image = image.resize(size, Image.BILINEAR, reducing_gap=None)
    canvas = Image.new("RGB", (max(image_size, size[0]), max(image_size, size[1])), (GREY, GREY, GREY))
    canvas.paste(image, ((canvas.size[0] - size[0]) // 2, (canvas.size[1] - size[1]) // 2))
    left, top = (canvas.size[0] - image_size) // 2, (canvas.size[1] - image_size) // 2
    canvas = canvas.crop((left, top, left + image_size, top + image_size))
    return np.asarray(canvas, dtype=np.uint8)
