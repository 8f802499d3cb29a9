"""A tiny model for testing the training harness: no data worlds needed."""

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from course_lib.recipes import Recipe, TrainSettings


#: both tiny recipes: 6 steps of 8, a sample grid every 3 steps, a checkpoint every 2
SETTINGS = {"course": TrainSettings(steps=6, batch_size=8, sample_every=3, save_every=2, progress=False)}


@dataclasses.dataclass
class TinyConfig:
    image_size: int = 8
    hidden: int = 16
    lr: float = 0.05
    noise: float = 0.0  # > 0 makes every step use torch's RNG (tests exact resume)


class Regressor(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * config.image_size ** 2, config.hidden),
                                 nn.Tanh(), nn.Linear(config.hidden, 1))

    def forward(self, x):
        return self.net(x)[:, 0]


class TinyRecipe(Recipe):
    name = "tiny"
    config_class = TinyConfig
    presets = {"course": TinyConfig()}
    settings = SETTINGS
    accepts = ("folder",)

    def build(self, config):
        return {"model": Regressor(config)}

    def training_step(self, modules, optimizers, batch, step, config):
        x = batch["image"]
        if config.noise:
            x = x + config.noise * torch.randn_like(x)
        loss = F.mse_loss(modules["model"](x), batch["target"])
        optimizers["model"].zero_grad()
        loss.backward()
        optimizers["model"].step()
        return {"loss": loss.detach()}

    def samples(self, modules, config, batch):
        return batch["image"][:4]


class TinyData(Dataset):
    def __init__(self, n=40, size=8):
        g = torch.Generator().manual_seed(1)
        self.x = torch.rand(n, 3, size, size, generator=g) * 2 - 1
        self.y = self.x.mean(dim=(1, 2, 3)) * 3

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"image": self.x[i], "target": self.y[i]}


@dataclasses.dataclass
class TinyGANConfig:
    image_size: int = 8
    nz: int = 4
    lr: float = 2e-3


class TinyGANRecipe(Recipe):
    """A two-player recipe: a generator and a discriminator, each with its own optimiser."""

    name = "tiny-gan"
    config_class = TinyGANConfig
    presets = {"course": TinyGANConfig()}
    settings = SETTINGS
    accepts = ("folder",)
    betas = (0.5, 0.999)
    export_module = "generator"

    def build(self, config):
        s = config.image_size
        return {"generator": nn.Sequential(nn.Linear(config.nz, 3 * s * s), nn.Tanh(),
                                           nn.Unflatten(1, (3, s, s))),
                "discriminator": nn.Sequential(nn.Flatten(), nn.Linear(3 * s * s, 1))}

    def training_step(self, modules, optimizers, batch, step, config):
        G, D = modules["generator"], modules["discriminator"]
        real = batch["image"]
        fake = G(torch.randn(len(real), config.nz))
        ones, zeros = torch.ones(len(real), 1), torch.zeros(len(real), 1)
        d_loss = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        optimizers["discriminator"].zero_grad()
        d_loss.backward()
        optimizers["discriminator"].step()
        g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
        optimizers["generator"].zero_grad()
        g_loss.backward()
        optimizers["generator"].step()
        return {"d": d_loss.detach(), "g": g_loss.detach()}

    def samples(self, modules, config, batch):
        return modules["generator"](torch.randn(16, config.nz, generator=torch.Generator().manual_seed(0)))
