"""The training command, end to end on a small world: train, resume, export, publish, load."""

import pytest
import torch

from course_lib import pretrained, train

ARGS = ["faces-attributes", "--data", "faces", "--data-size", "64", "--batch-size", "8",
        "--no-progress"]


def test_train_resume_publish_and_load(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", "0")
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path / "weights")
    out = str(tmp_path / "run")
    assert train.main(ARGS + ["--out", out, "--steps", "3"]) == 0
    assert train.main(ARGS + ["--out", out, "--steps", "5", "--resume", "--publish", "judge-test"]) == 0
    printed = capsys.readouterr().out
    assert "resumed from" in printed and "at step 3" in printed
    entry = pretrained.info("judge-test")
    assert entry["steps"] == 5 and entry["data"] == "faces"
    # the recorded command reproduces the weights; it neither resumes nor overwrites shipped ones
    assert entry["command"] == ("python -m course_lib.train " + " ".join(ARGS) +
                                f" --out {out} --steps 5")
    with pytest.raises(ValueError, match="already shipped; pass --force"):
        train.main(ARGS + ["--out", str(tmp_path / "run2"), "--steps", "2", "--publish", "judge-test"])
    assert not (tmp_path / "run2").exists()  # refused before training
    with pytest.raises(SystemExit, match="not empty"):
        train.main(ARGS + ["--out", out, "--steps", "2"])
    with pytest.raises(ValueError, match="checkpoint names"):
        train.main(ARGS + ["--out", str(tmp_path / "run3"), "--publish", "../escape"])
    model = pretrained.load("judge-test")
    logits = model(torch.zeros(2, 3, 64, 64))
    assert set(logits) >= {"glasses", "smile", "hat"}


def test_cli_errors(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown model 'nope'; available: (.*, )?faces-attributes"):
        train.main(["nope", "--data", "faces", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="presets"):
        train.main(["faces-attributes", "--data", "faces", "--config", "huge", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="trains on faces, not 'landscapes'"):
        train.main(["faces-attributes", "--data", "landscapes", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="has no --data-size"):
        train.main(["perceptual", "--data", "worlds", "--data-size", "8", "--out", str(tmp_path)])
    assert train.main(["faces-attributes"]) == 2
    assert train.main(["--list"]) == 0
    assert "faces-attributes" in capsys.readouterr().out


def test_torchrun_two_processes(tmp_path):
    """The command as a multi-GPU user starts it: torchrun, 2 CPU processes, gloo."""
    import os
    import subprocess
    import sys

    out = tmp_path / "run"
    env = dict(os.environ, COURSE_FAST="0", OMP_NUM_THREADS="1", COURSE_DEVICE="cpu")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "course_lib.train", *ARGS, "--steps", "3", "--out", str(out)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "model.safetensors").is_file()
    assert result.stdout.count("exported") == 1  # rank 0 alone writes
    import json

    meta = json.loads((out / "model.json").read_text())
    assert meta["hardware"].startswith("2 × ") and meta["steps"] == 3
    assert meta["command"].startswith("torchrun --nproc_per_node 2 -m course_lib.train faces-attributes")


def test_time_limit_stops_saves_and_records_the_steps_reached(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "0")
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path / "weights")
    out = str(tmp_path / "run")
    assert train.main(ARGS + ["--out", out, "--steps", "100000", "--time-limit", "1e-9",
                              "--publish", "judge-timed"]) == 0
    entry = pretrained.info("judge-timed")
    assert entry["steps"] == 1  # stopped after the first step, which ran past the limit
    assert entry["command"] == ("python -m course_lib.train " + " ".join(ARGS) +
                                f" --out {out} --steps 1")
    ckpt = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert ckpt["step"] == 1  # a checkpoint to resume from
    with pytest.raises(ValueError, match="positive"):
        train.main(ARGS + ["--out", str(tmp_path / "run2"), "--time-limit", "0"])


def test_keep_every_exports_snapshots_that_their_command_reproduces(tmp_path, monkeypatch):
    import json

    from safetensors.torch import load_file

    monkeypatch.setenv("COURSE_FAST", "0")
    out = tmp_path / "run"
    assert train.main(ARGS + ["--out", str(out), "--steps", "4", "--keep-every", "2"]) == 0
    kept = sorted(p.name for p in (out / "snapshots").glob("*.safetensors"))
    assert kept == ["step_000002.safetensors", "step_000004.safetensors"]
    meta = json.loads((out / "snapshots" / "step_000002.json").read_text())
    assert meta["steps"] == 2 and meta["command"].endswith(f"--out {out} --keep-every 2 --steps 2")
    # the last snapshot is the exported model; the step-2 one is what a 2-step run exports
    final = load_file(out / "model.safetensors")
    snap4 = load_file(out / "snapshots" / "step_000004.safetensors")
    assert all(torch.equal(final[k], snap4[k]) for k in final)
    short = tmp_path / "short"
    assert train.main(ARGS + ["--out", str(short), "--steps", "2"]) == 0
    again = load_file(short / "model.safetensors")
    snap2 = load_file(out / "snapshots" / "step_000002.safetensors")
    assert all(torch.equal(again[k], snap2[k]) for k in again)
    assert not all(torch.equal(final[k], snap2[k]) for k in final)
    with pytest.raises(SystemExit, match="--lr-decay START END needs"):
        train.main(ARGS + ["--out", str(tmp_path / "bad"), "--lr-decay", "4", "2"])
    with pytest.raises(SystemExit, match="--keep-every must be 0 or a positive"):
        train.main(ARGS + ["--out", str(tmp_path / "bad"), "--keep-every", "-1"])


def test_average_from_ships_the_mean_of_the_kept_snapshots(tmp_path, monkeypatch):
    import json

    from safetensors.torch import load_file

    monkeypatch.setenv("COURSE_FAST", "0")
    out = tmp_path / "run"
    args = ARGS + ["--out", str(out), "--steps", "6", "--keep-every", "2", "--average-from", "4"]
    assert train.main(args) == 0
    snaps = [load_file(out / "snapshots" / f"step_{s:06d}.safetensors") for s in (4, 6)]
    shipped, meta = load_file(out / "model.safetensors"), json.loads((out / "model.json").read_text())
    assert meta["averaged_steps"] == [4, 6] and meta["steps"] == 6
    assert meta["command"].endswith("--steps 6 --keep-every 2 --average-from 4")
    snap_meta = json.loads((out / "snapshots" / "step_000004.json").read_text())
    assert "--average-from" not in snap_meta["command"]  # a snapshot is one step's weights
    floats = [k for k in shipped if shipped[k].is_floating_point()]
    assert floats
    for k in floats:
        mean = ((snaps[0][k].float() + snaps[1][k].float()) / 2).half()
        assert torch.equal(shipped[k], mean), k
    assert any(not torch.equal(shipped[k], snaps[1][k]) for k in floats)  # not just the last one
    with pytest.raises(SystemExit, match="--average-from STEP needs --keep-every"):
        train.main(ARGS + ["--out", str(tmp_path / "b1"), "--steps", "4", "--average-from", "2"])
    with pytest.raises(SystemExit, match="--average-from STEP needs --keep-every"):
        train.main(ARGS + ["--out", str(tmp_path / "b2"), "--steps", "4", "--keep-every", "2",
                           "--average-from", "9"])
    assert not (tmp_path / "b1").exists() and not (tmp_path / "b2").exists()  # refused before training


def test_average_states_checks_its_inputs():
    from course_lib.checkpoints import average_states

    a = {"w": torch.ones(2), "n": torch.tensor(3)}
    b = {"w": torch.zeros(2), "n": torch.tensor(5)}
    mean = average_states([a, b])
    assert torch.equal(mean["w"], torch.full((2,), 0.5)) and int(mean["n"]) == 5
    with pytest.raises(ValueError, match="no snapshots"):
        average_states([])
    with pytest.raises(ValueError, match="different weights"):
        average_states([a, {"w": torch.ones(2)}])


def test_ship_exports_and_publishes_another_module(tmp_path, monkeypatch):
    """``--ship discriminator``: the checkpoint holds the DCGAN's discriminator, the manifest says
    so, the recorded command keeps the flag, and ``pretrained.load`` builds a Discriminator with
    exactly the trained weights."""
    from safetensors.torch import load_file

    from course_lib.dcgan import Discriminator, Generator

    monkeypatch.setenv("COURSE_FAST", "0")
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path / "weights")
    out = tmp_path / "run"
    args = ["dcgan", "--data", "faces", "--data-size", "32", "--batch-size", "8", "--no-progress",
            "--steps", "2", "--out", str(out)]
    assert train.main(args + ["--ship", "discriminator", "--publish", "d-test"]) == 0
    entry = pretrained.info("d-test")
    assert entry["module"] == "discriminator" and "--ship discriminator" in entry["command"]
    D = pretrained.load("d-test")
    assert isinstance(D, Discriminator)
    trained = torch.load(out / "last.pt", weights_only=False)["modules"]["discriminator"]
    for k, v in D.state_dict().items():
        assert torch.equal(v.float(), trained[k].half().float()), k
    shipped = load_file(str(out / "model.safetensors"))
    assert set(shipped) == set(D.state_dict())
    assert train.main(args[:-2] + ["--out", str(tmp_path / "run2"), "--publish", "g-test"]) == 0
    assert isinstance(pretrained.load("g-test"), Generator) and "module" not in pretrained.info("g-test")
    with pytest.raises(ValueError, match="has modules .*not 'critic'"):
        train.main(args[:-2] + ["--out", str(tmp_path / "run3"), "--ship", "critic"])
    assert not (tmp_path / "run3" / "last.pt").exists()      # refused before training
