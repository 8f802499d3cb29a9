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
    if not torch.cuda.is_available():
        monkeypatch.setenv("COURSE_DEVICE", "cuda")
        with pytest.raises(ValueError, match="no CUDA"):
            runtime.device()
    monkeypatch.delenv("COURSE_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert runtime.device().type == expected


def test_seed_everything_repeats():
    runtime.seed_everything(5)
    a = torch.rand(4)
    g = runtime.seed_everything(5)
    assert torch.equal(a, torch.rand(4))
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=torch.Generator().manual_seed(5)))
