"""Bad inputs get a ValueError that names what was expected: one case a row."""

import numpy as np
import pytest
import torch

from course_lib import images as I
from course_lib import runtime
from course_lib.checks import check_image, check_labels, check_mask

good = torch.zeros(2, 3, 8, 8)

BAD_INPUTS = [
    # (call, words the message must contain)
    (lambda: check_image(np.zeros((2, 3, 8, 8))), "torch.Tensor"),
    (lambda: check_image(torch.zeros(3, 8, 8)), "x[None]"),
    (lambda: check_image(torch.zeros(2, 1, 8, 8)), "N×3×H×W"),
    (lambda: check_image(torch.zeros(2, 8, 8, 3)), "N×3×H×W"),
    (lambda: check_image(torch.zeros(2, 3, 8, 8, dtype=torch.uint8)), "integer"),
    (lambda: check_image(torch.ones(2, 3, 8, 8) * 255), "[-1, 1]"),
    (lambda: check_image(torch.full((1, 3, 4, 4), float("nan"))), "NaN"),
    (lambda: check_image(torch.zeros(0, 3, 8, 8)), "empty"),
    (lambda: check_mask(torch.zeros(2, 3, 8, 8)), "N×1×H×W"),
    (lambda: check_mask(torch.zeros(2, 1, 8, 8, dtype=torch.bool)), "mask.float()"),
    (lambda: check_mask(torch.full((2, 1, 8, 8), 2.0)), "[0, 1]"),
    (lambda: check_mask(torch.zeros(2, 1, 4, 4), like=good), "match the image"),
    (lambda: check_mask(torch.zeros(3, 1, 8, 8), like=good), "match the image"),
    (lambda: check_labels(torch.zeros(2, 1, 8, 8, dtype=torch.int64)), "y[:, 0]"),
    (lambda: check_labels(torch.zeros(2, 8, 8, dtype=torch.int32)), "labels.long()"),
    (lambda: check_labels(torch.full((2, 8, 8), -1, dtype=torch.int64)), "class indices"),
    (lambda: check_labels(torch.full((2, 8, 8), 9, dtype=torch.int64), num_classes=8), "[0, 8)"),
    (lambda: I.from_numpy([[1, 2, 3]]), "numpy array"),
    (lambda: I.from_numpy(np.zeros((2, 2, 8, 8, 3), dtype=np.uint8)), "channels last"),
    (lambda: I.from_numpy(np.full((8, 8, 3), 2.0)), "[0, 1]"),
    (lambda: I.from_numpy(np.zeros((8, 8, 3), dtype=np.complex64)), "dtype"),
    (lambda: I.to_numpy(torch.zeros(3, 8, 8)), "N×3×H×W"),
    (lambda: I.from_pil(np.zeros((8, 8, 3))), "PIL.Image"),
    (lambda: I.load_image("/no/such/file.png"), "no such file"),
    (lambda: I.resize(good, 0), "positive int"),
    (lambda: I.rect_mask(1, 16, 10, 10, 8, 8), "does not fit"),
    (lambda: I.rect_mask(0, 16, 0, 0, 4, 4), "positive int"),
    (lambda: I.colorize_labels(torch.zeros(1, 4, 4, dtype=torch.int64), [[1, 2]]), "RGB triples"),
    (lambda: I.colorize_labels(torch.full((1, 4, 4), 3, dtype=torch.int64), [[0, 0, 0]] * 2),
     "[0, 2)"),
    (lambda: I.grid(good, titles=["just one"]), "titles"),
    (lambda: I.grid([]), "at least one image"),
    (lambda: I.tile(good, nrow=0), "positive int"),
    (lambda: runtime.steps(0), "positive int"),
    (lambda: runtime.steps(10, fast=-1), "positive int"),
    (lambda: runtime.seed_everything(-3), "non-negative int"),
    (lambda: runtime.steps(2.5), "positive int"),
    (lambda: I.grid([torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 16, 16)]), "different sizes"),
    (lambda: I.center_crop(torch.zeros(3, 8, 8)), "N×C×H×W"),
    (lambda: I.rect_mask(1, 16, 2.5, 0, 4, 4), "an int"),
    (lambda: check_mask(torch.full((1, 1, 4, 4), float("nan"))), "NaN"),
    (lambda: check_mask(torch.zeros(1, 1, 4, 4), like=torch.zeros(4, 4)), "N×C×H×W"),
    (lambda: I.crop_resize(good, 8, mode="bicubic"), "mode"),
]


@pytest.mark.parametrize("call,words", BAD_INPUTS, ids=[f"bad{i:02d}-{w}" for i, (_, w) in
                                                         enumerate(BAD_INPUTS)])
def test_bad_input_gets_a_clear_value_error(call, words):
    with pytest.raises(ValueError) as err:
        call()
    assert words in str(err.value), str(err.value)


def test_eval_mode_restores_training_flags_and_gradients_even_on_error():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    net.train()
    with pytest.raises(RuntimeError):
        with runtime.eval_mode(net, frozen=True) as inside:
            assert inside is net and not net.training
            assert not any(p.requires_grad for p in net.parameters())
            raise RuntimeError("boom")
    assert net.training and all(p.requires_grad for p in net.parameters())
    net.eval()
    with runtime.eval_mode(net):
        pass
    assert not net.training, "a module that was in eval mode stays in eval mode"


def test_good_inputs_pass_unchanged():
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    assert check_image(x) is x
    m = torch.zeros(2, 1, 8, 8)
    assert check_mask(m, like=x) is m
    one = torch.zeros(1, 1, 8, 8)
    assert check_mask(one, like=x) is one  # one mask for the whole batch is accepted as it is
    y = torch.zeros(2, 8, 8, dtype=torch.int64)
    assert check_labels(y, num_classes=1) is y
    assert runtime.steps(np.int64(5)) in (2, 5)  # NumPy integers are integers too


def test_checking_a_tensor_that_needs_grad_gives_no_warning():
    import warnings

    x = (torch.rand(2, 3, 8, 8) * 2 - 1).requires_grad_()
    m = torch.zeros(2, 1, 8, 8, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # e.g. "Converting a tensor with requires_grad=True"
        x2, m2 = x * 1, m * 1
        assert check_image(x2) is x2 and check_mask(m2) is m2
