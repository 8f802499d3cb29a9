"""A tiny model for testing the training harness: no data worlds needed."""

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from course_lib.trainer import Recipe, TrainSettings


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
    settings = {"course": TrainSettings(steps=6, batch_size=8, sample_every=3, save_every=2,
                                        progress=False)}
    accepts = ("folder",)

    def build(self, config):
        return {"model": Regressor(config)}

    def optimizers(self, modules, config):
        return {"model": torch.optim.Adam(modules["model"].parameters(), lr=config.lr)}

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
