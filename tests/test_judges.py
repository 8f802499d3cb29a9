import torch

from course_lib import data, pretrained

HELD_OUT_SEED = 10_000  # the judge trained on seed 0


def test_shipped_judge_reads_held_out_faces():
    judge = pretrained.load("face-attributes")
    faces, truth = data.faces(300, seed=HELD_OUT_SEED)
    predicted = judge.predict(faces)
    for name in data.FACE_ATTRIBUTES:
        accuracy = (predicted[name] == truth[name]).float().mean().item()
        assert accuracy > 0.95, f"{name}: {accuracy:.1%}"


def test_predict_uses_eval_mode_and_leaves_the_model_as_it_was():
    judge = pretrained.load("face-attributes").train()
    stats = {k: v.clone() for k, v in judge.state_dict().items() if "running" in k}
    faces, _ = data.faces(8, seed=HELD_OUT_SEED)
    first = judge.predict(faces)
    assert judge.training                          # restored
    for k, v in judge.state_dict().items():
        if k in stats:
            assert torch.equal(v, stats[k]), f"predict changed {k}"
    judge.eval()
    assert all(torch.equal(first[n], judge.predict(faces)[n]) for n in first)
