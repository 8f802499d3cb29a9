import dataclasses
import os

import pytest
import torch
import torch.multiprocessing as mp

from course_lib import trainer as T
from tiny_recipe import TinyConfig, TinyData, TinyRecipe


def make(out, config=None, **settings):
    recipe = TinyRecipe()
    s = dataclasses.replace(recipe.settings["course"], **settings)
    return T.Trainer(recipe, config or TinyConfig(), TinyData(), s, out=out)


def params(trainer):
    return torch.cat([p.detach().flatten() for p in trainer.modules["model"].parameters()])


def test_training_lowers_the_loss(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_FAST", "0")
    t = make(tmp_path, steps=60)
    history = t.fit()
    assert len(history) == 60
    first = sum(h["loss"] for h in history[:5]) / 5
    last = sum(h["loss"] for h in history[-5:]) / 5
    assert last < 0.5 * first
    assert (tmp_path / "last.pt").is_file()
    assert sorted(p.name for p in (tmp_path / "samples").iterdir())[0] == "step_000003.png"


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_resume_matches_an_uninterrupted_run(monkeypatch, tmp_path, noise):
    monkeypatch.setenv("COURSE_FAST", "0")
    config = TinyConfig(noise=noise)
    straight = make(tmp_path / "a", config)
    straight.fit()
    paused = make(tmp_path / "b", config)
    paused.fit(stop_after=3)          # "crash" after step 3, with a checkpoint at step 3
    resumed = make(tmp_path / "b", config)
    assert resumed.resume() and resumed.step == 3
    resumed.fit()
    assert resumed.step == straight.step == 6
    assert torch.equal(params(resumed), params(straight))
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in straight.history]


def test_lr_decay_falls_linearly_to_zero_and_then_freezes_the_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_FAST", "0")
    t = make(tmp_path, steps=8, lr_decay=(2, 6))
    seen = []
    step = TinyRecipe.training_step

    def spy(self, modules, optimizers, batch, i, config):
        seen.append(optimizers["model"].param_groups[0]["lr"])
        return step(self, modules, optimizers, batch, i, config)

    monkeypatch.setattr(TinyRecipe, "training_step", spy)
    t.fit(stop_after=6)
    before = params(t)
    t.fit()
    lr = TinyConfig().lr
    assert seen == pytest.approx([lr, lr, lr, 0.75 * lr, 0.5 * lr, 0.25 * lr, 0.0, 0.0])
    assert torch.equal(params(t), before)           # steps 7 and 8 ran at rate 0
    # a resumed run follows the same schedule: the configured rates, not the saved decayed ones
    resumed = make(tmp_path, steps=8, lr_decay=(2, 6))
    assert resumed.resume() and resumed.base_lrs == {"model": [lr]}
    for bad in [(6, 2), (3, 3), (-1, 4), (1, 2, 3), (1.5, 4)]:
        with pytest.raises(ValueError, match="lr_decay must be"):
            make(tmp_path, lr_decay=bad)
    # a recipe that sets its own rates in its step would overwrite the schedule: refused
    monkeypatch.setattr(TinyRecipe, "schedules_lr", True)
    with pytest.raises(ValueError, match="sets its own learning rates"):
        make(tmp_path, lr_decay=(2, 6))
    assert make(tmp_path).settings.lr_decay is None     # without a decay it trains as before


def test_resume_refuses_another_config(tmp_path):
    make(tmp_path).fit(stop_after=2)
    other = make(tmp_path, TinyConfig(hidden=4))
    with pytest.raises(ValueError, match="another config"):
        other.resume()


def test_resume_refuses_other_settings(tmp_path):
    make(tmp_path).fit(stop_after=2)
    with pytest.raises(ValueError, match="batch size"):
        make(tmp_path, batch_size=4).resume()
    with pytest.raises(ValueError, match="seed"):
        make(tmp_path, seed=9).resume()
    assert make(tmp_path, steps=50).resume()  # a longer run may continue the same one


def test_fast_mode_shrinks_the_loop(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_FAST", "1")
    t = make(tmp_path, steps=500)
    assert t.total_steps == 10
    assert len(t.fit()) == 10


def test_atomic_save_survives_a_crash_mid_save(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    T.atomic_save({"w": torch.ones(3)}, path)
    good = path.read_bytes()

    def exploding_save(obj, f):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(T.torch, "save", exploding_save)
    with pytest.raises(KeyboardInterrupt):
        T.atomic_save({"w": torch.zeros(3)}, path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left
    monkeypatch.undo()
    assert torch.equal(T.load_checkpoint(path)["w"], torch.ones(3))


def test_checkpoints_are_loaded_without_unpickling_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(Exception, match="(?i)weights.only|unpickl|unsupported"):
        T.load_checkpoint(path)


def test_export_writes_fp16_safetensors_and_meta(tmp_path):
    from safetensors.torch import load_file

    t = make(tmp_path)
    t.fit()
    path = t.export()
    state = load_file(str(path))
    assert all(v.dtype == torch.float16 for v in state.values())
    import json

    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["steps"] == t.step and meta["recipe"] == "tiny"


def test_bad_trainer_inputs(tmp_path):
    recipe = TinyRecipe()
    with pytest.raises(ValueError, match="Recipe"):
        T.Trainer(object(), TinyConfig(), TinyData(), recipe.settings["course"])
    with pytest.raises(ValueError, match="dataclass"):
        T.Trainer(recipe, {"hidden": 3}, TinyData(), recipe.settings["course"])
    with pytest.raises(ValueError, match="empty"):
        T.Trainer(recipe, TinyConfig(), TinyData(n=0), recipe.settings["course"])


# ----------------------------------------------------------------------------- distributed

def _ddp_worker(rank, world, init_file, out_file, run_dir):
    import torch.distributed as dist

    os.environ["COURSE_FAST"] = "0"
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        first = make(run_dir)
        assert len(first.batch_for(0)["image"]) == 4  # each rank trains on half the global batch
        first.fit(stop_after=3)                        # pause, as a preempted job would
        dist.barrier()
        t = make(run_dir)
        assert t.resume() and t.step == 3
        t.fit()
        if rank == 0:
            torch.save(params(t), out_file)
        dist.barrier()  # nobody tears the group down while a peer still uses it
    finally:
        dist.destroy_process_group()


def test_two_gloo_processes_paused_and_resumed_match_one(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_FAST", "0")
    single = make(None)
    single.fit()
    out = tmp_path / "ddp.pt"
    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "init"), str(out), str(tmp_path / "run")),
             nprocs=2, join=True)
    both = torch.load(out, weights_only=True)
    assert torch.allclose(both, params(single), atol=1e-5), (both - params(single)).abs().max()
    assert not torch.equal(params(single), params(make(None)))  # training did move the weights


def test_a_gan_trains_resumes_exactly_and_writes_sample_grids(monkeypatch, tmp_path):
    from tiny_recipe import TinyGANRecipe

    monkeypatch.setenv("COURSE_FAST", "0")
    recipe = TinyGANRecipe()

    def gan(out):
        return T.Trainer(recipe, recipe.presets["course"], TinyData(), recipe.settings["course"],
                         out=out)

    def weights(t):
        return torch.cat([p.detach().flatten() for m in t.modules.values() for p in m.parameters()])

    shown = []
    straight = gan(tmp_path / "a")
    straight.on_samples = lambda step, images: shown.append((step, images.shape))
    straight.fit()
    assert shown == [(3, (16, 3, 8, 8)), (6, (16, 3, 8, 8))]
    assert sorted(p.name for p in (tmp_path / "a" / "samples").iterdir()) == [
        "step_000003.png", "step_000006.png"]
    paused = gan(tmp_path / "b")
    paused.fit(stop_after=4)
    resumed = gan(tmp_path / "b")
    assert resumed.resume() and resumed.step == 4
    resumed.fit()
    assert torch.equal(weights(resumed), weights(straight))  # both players and both optimisers
    assert set(straight.history[-1]) == {"d", "g"}
    assert resumed.export().name == "model.safetensors"


def test_default_optimizers_are_one_adam_per_module_with_the_recipes_betas():
    from tiny_recipe import TinyGANConfig, TinyGANRecipe

    for recipe, config, betas in ((TinyRecipe(), TinyConfig(), (0.9, 0.999)),
                                   (TinyGANRecipe(), TinyGANConfig(), (0.5, 0.999))):
        modules = recipe.build(config)
        opts = recipe.optimizers(modules, config)
        assert set(opts) == set(modules)
        for name, opt in opts.items():
            assert isinstance(opt, torch.optim.Adam)
            assert opt.defaults["lr"] == config.lr and opt.defaults["betas"] == betas
            assert opt.param_groups[0]["params"] == list(modules[name].parameters())


def test_every_recipe_that_sets_its_own_learning_rates_declares_it():
    """``lr_decay`` relies on ``Recipe.schedules_lr``: a step that writes the optimisers' rates
    and does not declare it would silently undo the trainer's schedule."""
    import inspect

    import course_lib.train  # noqa: F401  (registers every recipe)
    from course_lib.recipes import RECIPES

    setting = {name: "param_groups" in inspect.getsource(cls.training_step) for name, cls in RECIPES.items()}
    assert setting["adain"] and setting["segmenter"] and not setting["dcgan"]
    for name, cls in RECIPES.items():
        assert cls.schedules_lr == setting[name], name
