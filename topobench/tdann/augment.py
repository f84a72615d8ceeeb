"""Batched SimCLR augmentations in plain torch, driven by an explicit ``torch.Generator``.

The augmentations of SimCLR (Chen, Kornblith, Norouzi & Hinton 2020, ICML,
"A simple framework for contrastive learning of visual representations",
appendix A) as TDANN (Margalit et al. 2024, Neuron) trains with them through
VISSL, applied to a whole uint8 batch at once:

1. random resized crop to ``size`` x ``size`` px, area fraction ``scale``
   (0.2, 1) here (SimCLR's ImageNet recipe: (0.08, 1); a 64 px input keeps
   more context with 0.2), aspect ratio (3/4, 4/3), bilinear resampling;
2. horizontal flip with p 0.5;
3. colour jitter with p 0.8: brightness, contrast, saturation 0.4, hue 0.1
   (torchvision's ``ColorJitter`` semantics: factors uniform in
   [1 - 0.4, 1 + 0.4], hue shift uniform in [-0.1, 0.1] of a turn, the four
   applied in a random order per image);
4. grayscale with p 0.2 (ITU-R 601 luma, replicated to 3 channels);
5. optional Gaussian blur (SimCLR: p 0.5 at 224 px; off by default at 64 px);
6. ImageNet normalisation (mean 0.485, 0.456, 0.406; std 0.229, 0.224, 0.225).

Randomness is split from computation: :meth:`SimCLRAugment.sample` draws every
random parameter for ``n`` images from a CPU ``torch.Generator`` (always the
same number of draws per image, whatever the images hold), and
:meth:`SimCLRAugment.apply` applies them on any device. Saving the
generator's state therefore resumes the augmentation stream exactly, and the
ranks of a distributed run can draw the parameters of the whole global batch
and each apply its own shard.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_LUMA = (0.299, 0.587, 0.114)
_CROP_ATTEMPTS = 10


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) in [0, 255] -> float32 in [0, 1] (a float input is returned as float32)."""
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    return images.float()


def normalize(images: torch.Tensor) -> torch.Tensor:
    """ImageNet normalisation of float images in [0, 1]."""
    mean = torch.tensor(IMAGENET_MEAN, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    return (images - mean) / std


def center_view(images: torch.Tensor, size: int) -> torch.Tensor:
    """Deterministic view for evaluation: the whole image resized to ``size`` px (bilinear,
    antialiased), ImageNet-normalised."""
    x = to_float(images)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return normalize(x)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 1, H, W) luma."""
    r, g, b = x.unbind(dim=1)
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b).unsqueeze(1)


def rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> HSV, hue in [0, 1) (torchvision's formulas)."""
    r, g, b = x.unbind(dim=1)
    maxc, _ = x.max(dim=1)
    minc, _ = x.min(dim=1)
    equal = maxc == minc
    chroma = maxc - minc
    ones = torch.ones_like(maxc)
    s = chroma / torch.where(equal, ones, maxc)
    divisor = torch.where(equal, ones, chroma)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = torch.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return torch.stack((h, s, maxc), dim=1)


def hsv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_hsv`."""
    h, s, v = x.unbind(dim=1)
    i = torch.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.to(torch.int64) % 6
    p = (v * (1.0 - s)).clamp(0.0, 1.0)
    q = (v * (1.0 - s * f)).clamp(0.0, 1.0)
    t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0)
    mask = i.unsqueeze(1) == torch.arange(6, device=x.device).view(1, -1, 1, 1)
    a1 = torch.stack((v, q, p, p, t, v), dim=1)
    a2 = torch.stack((t, v, v, q, p, p), dim=1)
    a3 = torch.stack((p, p, t, v, v, q), dim=1)
    stacked = torch.stack((a1, a2, a3), dim=1)  # (B, 3, 6, H, W)
    return (stacked * mask.unsqueeze(1).to(x.dtype)).sum(dim=2)


def _blend(x: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (factor.view(-1, 1, 1, 1) * x + (1.0 - factor.view(-1, 1, 1, 1)) * other).clamp_(0.0, 1.0)


def adjust_brightness(x, factor):
    return _blend(x, torch.zeros_like(x), factor)


def adjust_contrast(x, factor):
    mean = grayscale(x).mean(dim=(1, 2, 3), keepdim=True)
    return _blend(x, mean.expand_as(x), factor)


def adjust_saturation(x, factor):
    return _blend(x, grayscale(x).expand_as(x), factor)


def adjust_hue(x, shift):
    hsv = rgb_to_hsv(x)
    hue = torch.remainder(hsv[:, 0] + shift.view(-1, 1, 1), 1.0)
    return hsv_to_rgb(torch.stack((hue, hsv[:, 1], hsv[:, 2]), dim=1))


_JITTER_OPS = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)


def _gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, kernel: int) -> torch.Tensor:
    """Per-image separable Gaussian blur, ``sigma`` (B,) in px, reflect padding."""
    half = kernel // 2
    offsets = torch.arange(-half, half + 1, device=x.device, dtype=x.dtype)
    weights = torch.exp(-0.5 * (offsets.view(1, -1) / sigma.view(-1, 1)) ** 2)
    weights = weights / weights.sum(dim=1, keepdim=True)  # (B, k)
    b, c, h, w = x.shape
    y = F.pad(x, (half, half, half, half), mode="reflect").reshape(1, b * c, h + 2 * half, w + 2 * half)
    kw = weights.repeat_interleave(c, dim=0)
    y = F.conv2d(y, kw.view(b * c, 1, 1, kernel), groups=b * c)
    y = F.conv2d(y, kw.view(b * c, 1, kernel, 1), groups=b * c)
    return y.view(b, c, h, w)


@dataclass
class SimCLRAugment:
    """SimCLR's augmentation pipeline for uint8 batches (see the module docstring).

    ``size``: output side in px; ``scale``: area fraction of the crop;
    ``ratio``: aspect ratio range; ``flip_p``; ``jitter``: (brightness, contrast,
    saturation, hue) strengths; ``jitter_p``; ``gray_p``; ``blur_p`` and
    ``blur_sigma`` (fraction of ``size``, SimCLR: 0.1 to 2.0 px per 224 px, kernel
    10 % of the image); ``normalize``: ImageNet normalisation of the output.
    """

    size: int = 64
    scale: tuple[float, float] = (0.2, 1.0)
    ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0)
    flip_p: float = 0.5
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_p: float = 0.8
    gray_p: float = 0.2
    blur_p: float = 0.0
    blur_sigma: tuple[float, float] = (0.1 / 224, 2.0 / 224)
    normalize: bool = True

    @classmethod
    def supervised(cls, size: int = 64) -> "SimCLRAugment":
        """Light augmentation for the supervised variant: crop (0.35, 1) and flip, no colour."""
        return cls(size=size, scale=(0.35, 1.0), jitter_p=0.0, gray_p=0.0)

    def sample(self, n: int, height: int, width: int, generator: torch.Generator | None) -> dict:
        """Random parameters for ``n`` images of ``height`` x ``width`` px (all on the CPU).

        Always draws the same amount of randomness for a given ``n``.
        """
        g = generator
        u = torch.rand(n, _CROP_ATTEMPTS, 4, generator=g, dtype=torch.float64)
        area = height * width
        target = area * (self.scale[0] + (self.scale[1] - self.scale[0]) * u[..., 0])
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        aspect = torch.exp(log_lo + (log_hi - log_lo) * u[..., 1])
        crop_w = torch.sqrt(target * aspect)
        crop_h = torch.sqrt(target / aspect)
        valid = (crop_w <= width) & (crop_h <= height)
        # first valid attempt (torchvision's rule), else the largest centred crop in the ratio range
        first = torch.where(valid.any(dim=1), valid.to(torch.int64).argmax(dim=1), torch.full((n,), -1))
        pick = first.clamp(min=0)
        rows = torch.arange(n)
        w = crop_w[rows, pick]
        h = crop_h[rows, pick]
        left = u[rows, pick, 2] * (width - w)
        top = u[rows, pick, 3] * (height - h)
        fallback = first < 0
        if fallback.any():
            in_ratio = width / height
            fw, fh = (float(width), float(height))
            if in_ratio < self.ratio[0]:
                fh = width / self.ratio[0]
            elif in_ratio > self.ratio[1]:
                fw = height * self.ratio[1]
            w = torch.where(fallback, torch.full_like(w, fw), w)
            h = torch.where(fallback, torch.full_like(h, fh), h)
            left = torch.where(fallback, torch.full_like(left, (width - fw) / 2), left)
            top = torch.where(fallback, torch.full_like(top, (height - fh) / 2), top)
        flip = torch.rand(n, generator=g) < self.flip_p
        jitter_on = torch.rand(n, generator=g) < self.jitter_p
        f = torch.rand(n, 4, generator=g)
        strengths = torch.tensor(self.jitter, dtype=torch.float32)
        factors = 1.0 + (2.0 * f - 1.0) * strengths  # brightness, contrast, saturation in [1-s, 1+s]
        factors[:, 3] = (2.0 * f[:, 3] - 1.0) * strengths[3]  # hue shift in [-s, s]
        order = torch.argsort(torch.rand(n, 4, generator=g), dim=1)
        gray = torch.rand(n, generator=g) < self.gray_p
        blur_on = torch.rand(n, generator=g) < self.blur_p
        sigma = self.blur_sigma[0] + (self.blur_sigma[1] - self.blur_sigma[0]) * torch.rand(n, generator=g)
        box = torch.stack((left, top, w, h), dim=1).float()  # px of the source image
        return {"box": box, "source": torch.tensor([height, width]), "flip": flip, "jitter_on": jitter_on,
                "factors": factors, "order": order, "gray": gray, "blur_on": blur_on, "sigma": sigma}

    @staticmethod
    def subset(params: dict, index) -> dict:
        """Parameters of the images ``index`` (a slice or index tensor) of a sampled batch."""
        return {k: (v if k == "source" else v[index]) for k, v in params.items()}

    def apply(self, images: torch.Tensor, params: dict) -> torch.Tensor:
        """Augment uint8 (or [0, 1] float) images (B, 3, H, W) with sampled ``params``."""
        x = to_float(images)
        device = x.device
        n, _, height, width = x.shape
        box = params["box"].to(device)
        left, top, w, h = box.unbind(dim=1)
        # affine grid in normalised coordinates (align_corners=False: [-1, 1] spans pixel edges)
        cx = (left + w / 2) / width * 2 - 1
        cy = (top + h / 2) / height * 2 - 1
        sx = w / width * torch.where(params["flip"].to(device), -1.0, 1.0)
        sy = h / height
        theta = torch.zeros(n, 2, 3, device=device, dtype=x.dtype)
        theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = sx, cx, sy, cy
        grid = F.affine_grid(theta, (n, 3, self.size, self.size), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        jitter_on = params["jitter_on"].to(device)
        if bool(jitter_on.any()):
            factors = params["factors"].to(device)
            order = params["order"].to(device)
            for position in range(4):
                for op_index, op in enumerate(_JITTER_OPS):
                    chosen = torch.nonzero(jitter_on & (order[:, position] == op_index)).flatten()
                    if len(chosen):
                        x[chosen] = op(x[chosen], factors[chosen, op_index])
        gray = params["gray"].to(device)
        if bool(gray.any()):
            chosen = torch.nonzero(gray).flatten()
            x[chosen] = grayscale(x[chosen]).expand(-1, 3, -1, -1)
        blur_on = params["blur_on"].to(device)
        if self.blur_p > 0 and bool(blur_on.any()):
            chosen = torch.nonzero(blur_on).flatten()
            kernel = max(3, int(0.1 * self.size) // 2 * 2 + 1)
            x[chosen] = _gaussian_blur(x[chosen], params["sigma"].to(device)[chosen] * self.size, kernel)
        return normalize(x) if self.normalize else x

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample parameters with ``generator`` and apply them: one augmented view per image."""
        params = self.sample(images.shape[0], images.shape[-2], images.shape[-1], generator)
        return self.apply(images, params)
