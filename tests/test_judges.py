import pytest
import torch

from course_lib import data, pretrained

HELD_OUT_SEED = data.HELD_OUT_SEED  # never used for training (seed 0)


def test_shipped_judge_reads_held_out_faces():
    judge = pretrained.load("faces-attributes")
    faces, truth = data.faces(300, seed=HELD_OUT_SEED)
    predicted = judge.predict(faces)
    for name in data.FACE_ATTRIBUTES:
        accuracy = (predicted[name] == truth[name]).float().mean().item()
        assert accuracy > 0.95, f"{name}: {accuracy:.1%}"


def test_predict_uses_eval_mode_and_leaves_the_model_as_it_was():
    judge = pretrained.load("faces-attributes").train()
    stats = {k: v.clone() for k, v in judge.state_dict().items() if "running" in k}
    faces, _ = data.faces(8, seed=HELD_OUT_SEED)
    first = judge.predict(faces)
    assert judge.training                          # restored
    for k, v in judge.state_dict().items():
        if k in stats:
            assert torch.equal(v, stats[k]), f"predict changed {k}"
    judge.eval()
    assert all(torch.equal(first[n], judge.predict(faces)[n]) for n in first)


def test_frechet_distance_matches_the_closed_form():
    import numpy as np
    from scipy import linalg

    from course_lib.metrics import frechet_distance

    g = torch.Generator().manual_seed(0)
    a = torch.randn(400, 6, generator=g)
    b = torch.randn(300, 6, generator=g) @ torch.diag(torch.tensor([1.0, 2, 1, 0.5, 1, 1])) + 0.4
    A, B = a.double().numpy(), b.double().numpy()
    s_a, s_b = np.cov(A, rowvar=False), np.cov(B, rowvar=False)
    expected = ((A.mean(0) - B.mean(0)) ** 2).sum() + np.trace(s_a + s_b - 2 * linalg.sqrtm(s_a @ s_b).real)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)
    with pytest.raises(ValueError, match="same D"):
        frechet_distance(a, b[:, :5])
    with pytest.raises(ValueError, match="N >= 2"):
        frechet_distance(a[:1], b[:1])


def test_attribute_rates_and_features_on_real_faces():
    from course_lib.judges import attribute_rates, judge_features

    judge = pretrained.load("faces-attributes")
    faces, truth = data.faces(200, seed=10_001)
    rates = attribute_rates(judge, faces)
    for name, r in rates.items():
        assert r.shape == (judge.heads[name].out_features,) and float(r.sum()) == pytest.approx(1.0)
        true_rate = torch.bincount(truth[name], minlength=len(r)).float() / 200
        assert (r - true_rate).abs().max() < 0.03, name
    features = judge_features(judge.train(), faces[:10], batch_size=4)
    assert features.shape == (10, judge.config.feature_dim) and judge.training
