import pytest
import torch

from course_lib import runtime


def test_steps_full_and_fast(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "0")
    assert runtime.steps(1000) == 1000
    monkeypatch.setenv("COURSE_FAST", "1")
    assert runtime.steps(1000) == 20
    assert runtime.steps(1000, fast=7) == 7
    assert runtime.steps(3) == 2          # never fewer than 2, so "every k steps" paths run
    assert runtime.steps(1) == 1          # never more than full


def test_device_override(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert runtime.device() == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "not-a-device")
    with pytest.raises(ValueError, match="COURSE_DEVICE"):
        runtime.device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(ValueError, match="no CUDA"):
        runtime.device()
    monkeypatch.delenv("COURSE_DEVICE")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert runtime.device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.device() == torch.device("cuda")  # cuda first when there is one


def test_seed_everything_repeats():
    runtime.seed_everything(5)
    a = torch.rand(4)
    g = runtime.seed_everything(5)
    assert torch.equal(a, torch.rand(4))
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=torch.Generator().manual_seed(5)))
