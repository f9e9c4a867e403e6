"""Progressive growing (Karras et al. 2017): G and D start at a quarter of the image size and grow twice.

For 28x28 images the stages are 7x7 -> 14x14 -> 28x28 (S/4, S/2, S for any size S divisible by 4).
Each new stage fades in: its output is blended with the upsampled output of the stage before,
`(1 - alpha) * old + alpha * new`, alpha rising from 0 to 1, so the new layers start from what the
smaller network already learned instead of from noise. The discriminator grows the same way, from
its input side: an average-pooled copy of its input goes through the old stage's input layer and is
blended with the new stage's path, and its input is blended the same way (the real images too, as in
the paper), so real and fake images are seen at the same resolution throughout.

How it fits the trainer unchanged: G always returns full-size images (each stage's output upsampled,
nearest neighbour, to S x S) and D always takes S x S images and average-pools them to its stage, so
data, losses, penalties, snapshots and checkpoints see the usual shapes. The schedule is inside the
models: the trainer calls `set_progress(fraction)` on G, D and the EMA copy before every step
(fraction = how far through its budget the run is: gan_core.train.loop.run_fraction), and `grow_schedule`
turns that into a stage and alpha. The stage and alpha are saved with the weights (a `growth` buffer), so a
checkpoint stopped mid-growth reloads at the same resolution.

Simplified from the paper: pixel normalisation in G and LeakyReLU everywhere, but each stage is one
4x4 transposed convolution in G and one strided 4x4 convolution in D (DCGAN's layers, about a third
of the cost of upsampling or pooling around a 3x3 convolution at the higher resolution, which matters
on a CPU), no equalised learning rate, and no minibatch-standard-deviation layer (the trainer scores
real and fake images in one D batch, and a statistic over that batch would mix the two). The
conditional version concatenates a label embedding to z in G and uses a projection discriminator
(Miyato & Koyama 2018), like cgan-dcgan.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.nn.projection import projection_logits

NUM_STAGES = 3  # S/4, S/2, S
# (phase length as a share of the run, stage, fading in?): stabilise, fade in, stabilise, fade in, stabilise
PHASES = ((0.15, 0, False), (0.15, 1, True), (0.15, 1, False), (0.15, 2, True), (0.40, 2, False))
DEFAULT_GROW_STEPS = 6000  # a run with no budget grows over this many steps (gan_core.train.loop.run_fraction)
CHANNELS = (64, 32, 16)  # feature channels at S/4, S/2, S


def grow_schedule(fraction: float) -> tuple[int, float]:
    """(stage, alpha) at `fraction` (0..1) of a run: 15% at S/4, 15% fading in S/2, 15% at S/2,
    15% fading in S, the last 40% at S. alpha is 1 whenever no stage is fading in."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    start = 0.0
    for length, stage, fading in PHASES:
        if fraction < start + length:
            return stage, (fraction - start) / length if fading else 1.0
        start += length
    return NUM_STAGES - 1, 1.0


def _lrelu() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=True)


class PixelNorm(nn.Module):
    """Each pixel's feature vector scaled to unit mean square (Karras et al. 2017, section 4.2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(1, keepdim=True) + 1e-8)


def _up(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    return F.interpolate(x, scale_factor=factor, mode="nearest") if factor > 1 else x


class Growing(nn.Module):
    """The stage and fade-in alpha of a growing network: Python numbers for the forward pass (no device
    sync per step), mirrored into a `growth` buffer only when the state is saved and read back on load."""

    grows = True

    def __init__(self) -> None:
        super().__init__()
        self.stage, self.alpha = NUM_STAGES - 1, 1.0  # a freshly built model is fully grown
        self.register_buffer("growth", torch.tensor([float(self.stage), self.alpha]))
        self.register_state_dict_pre_hook(lambda module, *_: module.growth.copy_(
            torch.tensor([float(module.stage), module.alpha])))
        self.register_load_state_dict_post_hook(lambda module, _keys: module._read_growth())

    def _read_growth(self) -> None:
        stage, alpha = self.growth.tolist()
        self.set_stage(round(stage), alpha)

    def set_stage(self, stage: int, alpha: float = 1.0) -> None:
        if not 0 <= stage < NUM_STAGES or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"stage must be in 0..{NUM_STAGES - 1} and alpha in [0, 1], got {stage}, {alpha}")
        self.stage, self.alpha = int(stage), float(alpha)

    def set_progress(self, fraction: float) -> None:
        """Stage and alpha for `fraction` (0..1) of the run (grow_schedule)."""
        self.set_stage(*grow_schedule(fraction))

    @property
    def fading(self) -> bool:
        return self.stage > 0 and self.alpha < 1.0

    def resolution(self, size: int) -> int:
        return size >> (NUM_STAGES - 1 - self.stage)

    def growth_metrics(self, size: int) -> dict[str, float]:
        """What the history records each step: the stage's resolution (7, 14, 28) and the fade-in alpha."""
        return {"resolution": self.resolution(size), "fade_alpha": self.alpha}


class ProGenerator(Growing):
    """z (+ label embedding) -> S/4 x S/4 -> transposed conv -> S/2 -> transposed conv -> S, an RGB head per stage."""

    def __init__(self, z_dim: int, image_shape: tuple[int, int, int], num_classes: int | None = None,
                 channels: tuple[int, int, int] = CHANNELS) -> None:
        super().__init__()
        self.z_dim, self.image_shape, self.num_classes = z_dim, tuple(image_shape), num_classes
        out_channels, size = image_shape[0], image_shape[1]
        if size % 4:
            raise ValueError(f"progressive growing needs an image size divisible by 4, got {size}")
        self.size, self.base, self.channels = size, size // 4, channels
        self.embed = nn.Embedding(num_classes, 32) if num_classes else None
        in_dim = z_dim + (32 if num_classes else 0)
        self.project = nn.Linear(in_dim, channels[0] * self.base ** 2)
        self.blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(channels[0], channels[0], 3, padding=1), _lrelu(),
                                                   PixelNorm())])
        self.blocks.extend(nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), _lrelu(), PixelNorm())
                           for c_in, c_out in zip(channels[:-1], channels[1:], strict=True))
        self.to_rgb = nn.ModuleList(nn.Conv2d(c, out_channels, 1) for c in channels)
        self.norm = PixelNorm()

    def _input(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if self.embed is not None:
            if y is None:
                raise ValueError("this model is conditional: pass class labels y")
            z = torch.cat([z, self.embed(y)], 1)
        h = F.leaky_relu(self.project(self.norm(z[:, :, None, None]).flatten(1)), 0.2)
        return self.norm(h.view(-1, self.channels[0], self.base, self.base))

    def native(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Images at the current stage's own resolution (S/4, S/2 or S), in [-1, 1]."""
        h = self.blocks[0](self._input(z, y))
        image = torch.tanh(self.to_rgb[0](h))
        for stage in range(1, self.stage + 1):
            h = self.blocks[stage](h)
            new = torch.tanh(self.to_rgb[stage](h))
            image = torch.lerp(_up(image), new, self.alpha) if stage == self.stage and self.fading else new
        return image

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        image = self.native(z, y)
        return _up(image, self.size // image.shape[-1])


class ProDiscriminator(Growing):
    """S x S input average-pooled to the stage's resolution -> a strided conv per stage -> S/4 -> score.

    Conditional: a projection discriminator, score = psi(h) + <embed(y), h>.
    """

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int | None = None,
                 channels: tuple[int, int, int] = CHANNELS) -> None:
        super().__init__()
        in_channels, size = image_shape[0], image_shape[1]
        if size % 4:
            raise ValueError(f"progressive growing needs an image size divisible by 4, got {size}")
        self.size, self.num_classes = size, num_classes
        self.from_rgb = nn.ModuleList(nn.Sequential(nn.Conv2d(in_channels, c, 1), _lrelu()) for c in channels)
        self.blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(channels[0], channels[0], 3, padding=1), _lrelu(),
                                                   nn.Flatten())])
        self.blocks.extend(nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1), _lrelu())
                           for c_in, c_out in zip(channels[1:], channels[:-1], strict=True))
        feat = channels[0] * (size // 4) ** 2
        self.score = nn.Linear(feat, 1)
        self.embed = nn.Embedding(num_classes, feat) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        factor = self.size // self.resolution(self.size)
        x = F.avg_pool2d(x, factor) if factor > 1 else x
        if self.fading:  # the input fades like G's output: blurred (pooled, upsampled) -> sharp
            lower = F.avg_pool2d(x, 2)
            x = torch.lerp(_up(lower), x, self.alpha)
        h = self.blocks[self.stage](self.from_rgb[self.stage](x))
        if self.fading:
            h = torch.lerp(self.from_rgb[self.stage - 1](lower), h, self.alpha)
        for stage in range(self.stage - 1, -1, -1):
            h = self.blocks[stage](h)
        return projection_logits(self.score, self.embed, h, y)
