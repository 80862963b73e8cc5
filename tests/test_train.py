"""vae_support.train: training improves the ELBO, history, checkpoints, resume, NaN guard, bad input."""
import io

import pytest
import torch

from vae_support.data import load_digits
from vae_support.models import VAE, DiscreteVAE
from vae_support.train import (NonFiniteLossError, TrainConfig, active_units, evaluate, fit, kl_weight, load_checkpoint,
                               load_model, steps_per_epoch)

FAST = dict(batch_size=100, progress=False)

from test_models import one_thread  # noqa: E402,F401  (autouse: tiny models run on one thread)



@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.train.x[:300], d.val.x[:100]


def small_vae(seed=0, **kw):
    torch.manual_seed(seed)
    kw.setdefault("z_dim", 2)
    kw.setdefault("hidden", (64,))
    return VAE(**kw)


def test_training_improves_the_validation_elbo_and_fills_the_history(digits):
    train, val = digits
    model = small_vae()
    before = evaluate(model, val, k=5).elbo
    h = fit(model, train, val, TrainConfig(epochs=6, lr=3e-3, **FAST))
    after = evaluate(model, val, k=5).elbo
    assert after > before + 20  # nats per image
    assert h.epoch == [1, 2, 3, 4, 5, 6] and h.n_epochs == 6
    for key in ("train_elbo", "train_reconstruction", "train_kl", "train_active_units", "val_elbo", "val_kl",
                "val_reconstruction", "val_kl_per_dim", "val_active_units", "beta", "seconds"):
        assert len(h[key]) == 6, key
    for split in ("train", "val"):
        for elbo, rec, kl, dims in zip(h[f"{split}_elbo"], h[f"{split}_reconstruction"], h[f"{split}_kl"],
                                       h[f"{split}_kl_per_dim"]):
            assert elbo == pytest.approx(rec - kl, abs=1e-3)
            assert sum(dims) == pytest.approx(kl, rel=1e-4) and len(dims) == 2
    assert 0 <= h.val_active_units[-1] <= 2
    # on the trained model the IWAE bound sits above the ELBO (same K draws per point)
    torch.manual_seed(0)
    log_w = model.log_weights(val, k=50).detach()
    from vae_support.bounds import elbo, iwae_bound
    assert (iwae_bound(log_w) >= elbo(log_w)).all() and float((iwae_bound(log_w) - elbo(log_w)).mean()) > 0.1


def test_iwae_objective_is_above_the_elbo_and_vimco_trains_the_discrete_model(digits):
    train, val = digits
    h = fit(small_vae(), train, val, TrainConfig(epochs=2, objective="iwae", k=5, **FAST))
    assert all(o > e for o, e in zip(h.train_objective, h.train_elbo))
    torch.manual_seed(0)
    model = DiscreteVAE(z_dim=8, hidden=(64,))
    before = evaluate(model, val).elbo
    h = fit(model, train, config=TrainConfig(epochs=4, objective="vimco", k=4, lr=3e-3, **FAST))
    assert evaluate(model, val, k=3).elbo > before + 10
    # the history records the IWAE bound L_4 (not VIMCO's surrogate, whose value is no bound): above the ELBO
    assert all(o > e for o, e in zip(h.train_objective, h.train_elbo))
    assert all(-200 < o < 0 for o in h.train_objective)


def test_warmup_schedule_and_free_bits_floor(digits):
    train, _ = digits
    # 300 images, batches of 100: S = 3 steps per epoch; W = 2 epochs, so the weight is 0.9·s/6 at
    # global step s = 0..5 and 0.9 from step 6 on. Epoch means: 0.9·(0+1+2)/18 = 0.15,
    # 0.9·(3+4+5)/18 = 0.6, then 0.9.
    h = fit(small_vae(), train, config=TrainConfig(epochs=4, warmup_epochs=2, beta=0.9, **FAST))
    assert h.beta == pytest.approx([0.15, 0.6, 0.9, 0.9])
    # free bits far above every coordinate's KL: the objective is reconstruction − β·z_dim·λ
    h = fit(small_vae(), train, config=TrainConfig(epochs=1, free_bits=50.0, **FAST))
    assert h.train_objective[0] == pytest.approx(h.train_reconstruction[0] - 2 * 50.0, rel=1e-5)


def test_kl_weight_ramps_per_step_from_zero_to_beta():
    cfg = TrainConfig(beta=0.9, warmup_epochs=2, progress=False)
    # W·S = 2·3 = 6 steps: 0 at step 0, 0.9·s/6 in between, 0.9 from step 6 on
    assert kl_weight(cfg, 0, 3) == 0.0
    assert [kl_weight(cfg, s, 3) for s in range(8)] == pytest.approx([0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 0.9])
    assert kl_weight(cfg, 10_000, 3) == pytest.approx(0.9)
    assert kl_weight(TrainConfig(beta=0.5, progress=False), 0, 3) == 0.5  # no warm-up: β from the start
    assert steps_per_epoch(300, 100) == 3 and steps_per_epoch(301, 100) == 4 and steps_per_epoch(5, 100) == 1
    with pytest.raises(ValueError, match="step"):
        kl_weight(cfg, -1, 3)
    with pytest.raises(ValueError, match="n_steps_per_epoch"):
        kl_weight(cfg, 0, 0)


def test_first_step_of_the_warm_up_ignores_the_kl(digits):
    # weight 0 at step 0: with one step per epoch, epoch 1's objective is the reconstruction alone
    train, _ = digits
    h = fit(small_vae(), train, config=TrainConfig(epochs=1, warmup_epochs=3, batch_size=300, progress=False))
    assert h.beta == [0.0]
    assert h.train_objective[0] == pytest.approx(h.train_reconstruction[0], rel=1e-6)


def test_early_stopping_keeps_the_best_epoch(digits):
    train, val = digits
    # a frozen model (lr far below float precision) with fixed validation draws never improves
    h = fit(small_vae(), train, val, TrainConfig(epochs=40, lr=1e-12, patience=2, **FAST))
    assert h.stopped_early and h.epoch == [1, 2, 3] and h.best_epoch == 1
    # a training model: the kept weights are those of the best validation epoch
    model = small_vae()
    h = fit(model, train, val, TrainConfig(epochs=8, lr=3e-2, patience=2, **FAST))
    assert h.best_epoch == h.epoch[max(range(h.n_epochs), key=h.val_elbo.__getitem__)]
    assert h.stopped_early == (h.n_epochs < 8)
    torch.manual_seed(0)
    from vae_support.train import _validate
    assert _validate(model, val, TrainConfig(**FAST)).elbo == pytest.approx(max(h.val_elbo), abs=1e-4)


def test_checkpoint_round_trip_and_resume(digits, tmp_path):
    train, val = digits
    path = tmp_path / "ckpt.pt"
    straight = small_vae()
    h_straight = fit(straight, train, val, TrainConfig(epochs=4, seed=3, **FAST))
    first = small_vae()
    fit(first, train, val, TrainConfig(epochs=2, seed=3, checkpoint=str(path), **FAST))
    raw = torch.load(path, weights_only=True)  # plain tensors and values only: the payload and its SHA-256
    assert raw["format"] == "vae_support.checkpoint" and raw["payload"].dtype == torch.uint8
    inner = torch.load(io.BytesIO(raw["payload"].numpy().tobytes()), weights_only=True)
    assert inner["epoch"] == 2 and inner["config"]["seed"] == 3
    loaded = load_model(path)
    torch.manual_seed(0)
    a = loaded.elbo(val[:5])
    torch.manual_seed(0)
    torch.testing.assert_close(a, first.elbo(val[:5]))
    resumed = small_vae(seed=99)  # weights come from the checkpoint
    h = fit(resumed, train, val, TrainConfig(epochs=4, seed=3, **FAST), resume=str(path))
    assert h.epoch == [1, 2, 3, 4]
    assert h.val_elbo == pytest.approx(h_straight.val_elbo, rel=1e-5)
    for p, q in zip(resumed.parameters(), straight.parameters()):
        torch.testing.assert_close(p, q)
    assert load_checkpoint(path)["epoch"] == 2  # resume without config.checkpoint writes nothing
    with pytest.raises(FileNotFoundError, match="path: no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_nan_guard_names_epoch_and_step_and_keeps_the_last_good_weights(digits):
    train, _ = digits
    model = small_vae()
    calls = {"n": 0, "snapshot": None}

    def poison(module, inputs, output):
        calls["n"] += 1
        if calls["n"] == 5:  # epoch 2, step 2 with 3 steps per epoch
            calls["snapshot"] = {k: v.clone() for k, v in model.state_dict().items()}
            return output * float("nan")
        return output

    model.decoder.register_forward_hook(poison)
    with pytest.raises(NonFiniteLossError, match="epoch 2, step 2") as err:
        fit(model, train, config=TrainConfig(epochs=3, **FAST))
    assert err.value.epoch == 2 and err.value.step == 2 and err.value.history.n_epochs == 1
    for k, v in model.state_dict().items():
        assert torch.isfinite(v).all()
        torch.testing.assert_close(v, calls["snapshot"][k])


def test_progress_bar_switch(digits, capsys):
    train, _ = digits
    fit(small_vae(), train[:100], config=TrainConfig(epochs=1, batch_size=100, progress=False))
    assert capsys.readouterr().err == ""
    fit(small_vae(), train[:100], epochs=1, batch_size=100, progress=True)
    assert "fit" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, match", [
    (dict(beta=-1.0), "beta"), (dict(k=0), "k: expected an integer >= 1"), (dict(epochs=0), "epochs"),
    (dict(objective="elbo2"), "objective"), (dict(optimizer="lbfgs"), "optimizer"), (dict(lr=0.0), "lr"),
    (dict(objective="vimco", k=1), "k: the vimco objective"), (dict(objective="iwae", k=5, beta=0.5), "objective"),
    (dict(free_bits=-0.1), "free_bits"), (dict(batch_size=2.5), "batch_size"), (dict(patience=0), "patience"),
    (dict(grad_clip=0.0), "grad_clip"), (dict(lr_decay=1.5), "lr_decay"), (dict(warmup_epochs=-1), "warmup_epochs"),
])
def test_bad_config_fails_at_once(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_bad_data_fails_before_training(digits):
    train, val = digits
    model = small_vae()
    with pytest.raises(ValueError, match="train: expected shape"):
        fit(model, train[:, :10], **FAST)
    with pytest.raises(ValueError, match="train: the categorical likelihood needs integer pixels in 0..16"):
        fit(model, train * 2, **FAST)
    bad = val.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="val: expected finite"):
        fit(model, train, bad, **FAST)
    with pytest.raises(ValueError, match="patience: early stopping needs validation data"):
        fit(model, train, patience=3, **FAST)
    with pytest.raises(ValueError, match="free_bits"):
        fit(small_vae(prior="mog"), train, free_bits=0.5, **FAST)
    with pytest.raises(TypeError, match="train: expected a torch.Tensor"):
        fit(model, train.numpy(), **FAST)
    with pytest.raises(TypeError, match="model"):
        fit(torch.nn.Linear(2, 2), train, **FAST)


def test_active_units_counts_coordinates_whose_mean_varies_with_x():
    means = torch.stack([torch.linspace(-1, 1, 50), torch.full((50,), 0.3), 0.01 * torch.randn(50)], dim=1)
    assert active_units(means) == 1
    with pytest.raises(ValueError, match="q_means"):
        active_units(torch.zeros(1, 3))


def test_ema_returns_the_exponential_average_of_the_step_weights(digits):
    train, _ = digits
    seen = []
    model = small_vae()
    model.encoder.register_forward_pre_hook(lambda m, i: seen.append([p.detach().clone() for p in model.parameters()]))
    fit(model, train, config=TrainConfig(epochs=1, **FAST))  # 3 steps: seen θ0, θ1, θ2; final θ3
    thetas = seen + [[p.detach().clone() for p in model.parameters()]]
    decay = 0.6
    average = thetas[0]
    for theta in thetas[1:]:
        average = [decay * a + (1 - decay) * t for a, t in zip(average, theta)]
    averaged = small_vae()
    fit(averaged, train, config=TrainConfig(epochs=1, ema=decay, **FAST))
    for p, a in zip(averaged.parameters(), average):
        torch.testing.assert_close(p, a)
    plain = small_vae()
    fit(plain, train, config=TrainConfig(epochs=1, ema=0.0, **FAST))  # decay 0: the last weights
    for p, t in zip(plain.parameters(), thetas[-1]):
        torch.testing.assert_close(p, t)


def test_fixed_validation_draws_remove_sampling_noise_between_epochs(digits):
    train, val = digits
    frozen = dict(epochs=3, lr=1e-12, **FAST)  # the model does not move
    h = fit(small_vae(), train, val, TrainConfig(eval_seed=5, **frozen))
    assert h.val_elbo[0] == pytest.approx(h.val_elbo[1], abs=1e-4) == pytest.approx(h.val_elbo[2], abs=1e-4)
    h = fit(small_vae(), train, val, TrainConfig(eval_seed=None, **frozen))
    assert len(set(h.val_elbo)) == 3


def test_augment_is_applied_to_training_batches_only(digits):
    train, val = digits
    batches = []

    def spy(xb):
        batches.append(xb.shape)
        return xb

    a, b = small_vae(), small_vae()
    h_a = fit(a, train, val, TrainConfig(epochs=1, **FAST), augment=spy)
    h_b = fit(b, train, val, TrainConfig(epochs=1, **FAST))
    assert batches == [(100, 64)] * 3 and h_a.val_elbo == pytest.approx(h_b.val_elbo)
    with pytest.raises(TypeError, match="augment"):
        fit(small_vae(), train, augment="shift", **FAST)


def test_dropout_acts_in_training_mode_only():
    model = small_vae(decoder_dropout=0.5, encoder_dropout=0.5)
    z = torch.randn(4, 2)
    model.eval()
    torch.testing.assert_close(model.decode(z).base_dist.logits, model.decode(z).base_dist.logits)
    model.train()
    assert not torch.equal(model.decode(z).base_dist.logits, model.decode(z).base_dist.logits)
    for name in ("decoder_dropout", "encoder_dropout"):
        with pytest.raises(ValueError, match=name):
            small_vae(**{name: 1.0})


def test_threads_setting_is_restored(digits):
    train, _ = digits
    before = torch.get_num_threads()
    seen = []
    model = small_vae()
    model.encoder.register_forward_pre_hook(lambda m, i: seen.append(torch.get_num_threads()))
    fit(model, train[:100], epochs=1, threads=2, **FAST)
    assert seen == [2] and torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        TrainConfig(threads=0)


def test_save_checkpoint_of_an_untrained_model_round_trips(tmp_path):
    from vae_support.train import save_checkpoint

    model = small_vae(prior="mog", encoder_cov="full", decoder_dropout=0.1)
    path = save_checkpoint(tmp_path / "sub" / "m.pt", model)
    loaded = load_model(path)
    assert loaded.hparams == model.hparams
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


@pytest.mark.parametrize("encoder_cov", ["diagonal", "full"])
def test_training_terms_equal_the_bounds_module_with_gradients(digits, encoder_cov):
    """fit's one-KL path (sum of per-coordinate KLs) gives bounds.elbo_terms' values and gradients."""
    from vae_support import bounds, train as T

    model = small_vae(z_dim=3, encoder_cov=encoder_cov)
    x = digits[0][:20]
    f = model.forward_pass(x, k=2, check=False, densities=False)
    terms, kl_dims = T._terms(f)
    reference = bounds.elbo_terms(f.log_px_z, f.q, f.prior, f.z)
    for got, want in zip(terms, reference):
        torch.testing.assert_close(got, want)
    assert kl_dims.shape == (20, 3)
    grads = torch.autograd.grad(terms.elbo.sum(), list(model.encoder.parameters()), retain_graph=True)
    want = torch.autograd.grad(reference.elbo.sum(), list(model.encoder.parameters()))
    for g, w in zip(grads, want):
        torch.testing.assert_close(g, w)


@pytest.mark.parametrize("name, fused", [("adam", True), ("adamw", True), ("sgd", True), ("rmsprop", False)])
def test_optimizer_is_torchs_fused_kernel_where_one_exists(name, fused):
    from vae_support import train as T

    opt = T._make_optimizer(small_vae(), TrainConfig(optimizer=name, progress=False))
    group = opt.param_groups[0]
    assert bool(group.get("fused")) is fused and bool(group.get("foreach")) is not fused


def test_optimizer_falls_back_to_foreach_without_a_fused_kernel(monkeypatch):
    from vae_support import train as T

    class NoFusedAdam(torch.optim.Adam):
        def __init__(self, params, fused=None, **kw):
            if fused:
                raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported devices")
            super().__init__(params, **kw)

    monkeypatch.setitem(T.OPTIMIZERS, "adam", NoFusedAdam)
    opt = T._make_optimizer(small_vae(), TrainConfig(progress=False))
    assert isinstance(opt, NoFusedAdam) and opt.param_groups[0]["foreach"] is True


def test_fused_update_matches_torchs_reference_loop():
    """Same model, same gradients: fit's fused AdamW and torch's per-parameter AdamW agree after 20 steps."""
    from vae_support import train as T

    a, b = small_vae(), small_vae()
    fused = T._make_optimizer(a, TrainConfig(optimizer="adamw", lr=1e-2, weight_decay=0.1, progress=False))
    loop = torch.optim.AdamW(b.parameters(), lr=1e-2, weight_decay=0.1, foreach=False)
    torch.manual_seed(1)
    for _ in range(20):
        x = torch.randint(0, 17, (16, 64)).float()
        for model, opt in ((a, fused), (b, loop)):
            opt.zero_grad()
            model.encoder(x / 16).pow(2).mean().backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
