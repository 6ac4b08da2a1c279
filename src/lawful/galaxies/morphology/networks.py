"""Morphology CNNs (torch): the lecture's small CNN and a deeper one; both take the extra features too.

* ``lecture`` — two stages of 5×5 conv (16, 32 channels) + ReLU + 2×2 max-pool on the 52×52 input, the flattened
  maps concatenated with the extra features, three linear layers (128, 64, 3);
* ``deep`` — four stages of two 3×3 convs with batch norm (32, 64, 128, 128 channels), global average pooling,
  the extra features concatenated, two linear layers with dropout; trained with random 90° rotations and flips.
"""

from __future__ import annotations

import torch
import torch.nn as nn


class LectureCNN(nn.Module):
    """The lecture's CNN: (n, C, 52, 52) images and (n, F) extra features → (n, 3) logits."""

    def __init__(self, channels: int = 3, n_extra: int = 5, size: int = 52, classes: int = 3):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(channels, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2))
        flat = 32 * (size // 4) ** 2
        self.head = nn.Sequential(nn.Linear(flat + n_extra, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                                  nn.Linear(64, classes))

    def forward(self, images: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.conv(images).flatten(1), extra], dim=1))


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))


class DeepCNN(nn.Module):
    """A deeper CNN with global pooling: (n, C, H, W) and (n, F) → (n, 3) logits; any H = W ≥ 16."""

    def __init__(self, channels: int = 3, n_extra: int = 5, size: int = 52, classes: int = 3):
        super().__init__()
        self.conv = nn.Sequential(_block(channels, 32), _block(32, 64), _block(64, 128), _block(128, 128),
                                  nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(nn.Linear(128 + n_extra, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, classes))

    def forward(self, images: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.conv(images).flatten(1), extra], dim=1))


ARCHITECTURES = {"lecture": LectureCNN, "deep": DeepCNN}


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random 90° rotation and horizontal flip per batch (the physics has no preferred orientation)."""
    k = int(torch.randint(0, 4, (1,), generator=generator))
    out = torch.rot90(images, k, dims=(2, 3))
    if bool(torch.randint(0, 2, (1,), generator=generator)):
        out = torch.flip(out, dims=(3,))
    return out
