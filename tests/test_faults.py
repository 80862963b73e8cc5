"""Fault injection: interrupted checkpoint writes, corrupted bytes, mismatched resumes, divergence, hostile servers."""
import http.server
import os
import pickle
import signal
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch

from vae_support import data
from vae_support.models import VAE
from vae_support.train import CheckpointError, NonFiniteLossError, fit, load_checkpoint, load_model, save_checkpoint

from test_models import one_thread  # noqa: F401  (autouse: tiny models run on one thread)

ROOT = Path(__file__).resolve().parents[1]
FAST = dict(batch_size=100, progress=False)


def tiny_vae(seed=0, **kw):
    torch.manual_seed(seed)
    kw.setdefault("z_dim", 2)
    kw.setdefault("hidden", (32,))
    return VAE(**kw)


@pytest.fixture(scope="module")
def x():
    return data.load_digits().train.x[:200]


# ------------------------------------------------------------------ interrupted writes
CHILD = textwrap.dedent("""
    import signal, sys, torch
    # Ctrl-C raises KeyboardInterrupt, as in a terminal, even when the test runs in a background job:
    # there SIGINT is ignored, the child inherits that, and Python then installs no handler for it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from vae_support.data import load_digits
    from vae_support.models import VAE
    from vae_support.train import fit
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = load_digits().train.x[:20]
    model = VAE(z_dim=2, hidden=(512, 512))  # ~1.4 MB of weights: the write is a large part of each epoch
    print("ready", flush=True)
    fit(model, x, epochs=100000, batch_size=20, progress=False, checkpoint=sys.argv[1], resume=sys.argv[2] or None)
""")


def _train_in_child_then_kill(path: Path, resume: str, sig: int, after: float) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), resume], stdout=subprocess.PIPE, env=env)
    try:
        assert child.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 60
        while not path.exists() and time.monotonic() < deadline:  # at least one checkpoint written
            time.sleep(0.01)
        time.sleep(after)
        child.send_signal(sig)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("sig, after", [(signal.SIGKILL, 0.013), (signal.SIGKILL, 0.131), (signal.SIGINT, 0.057)])
def test_a_child_killed_while_checkpointing_leaves_a_loadable_checkpoint_and_resume_continues(tmp_path, x, sig, after):
    path = tmp_path / "ckpt.pt"
    _train_in_child_then_kill(path, "", sig, after)
    first = load_checkpoint(path)  # never a truncated file: the old checkpoint or the new one
    assert first["epoch"] >= 1
    _train_in_child_then_kill(path, str(path), sig, after)  # resume from what was left, killed again
    second = load_checkpoint(path)
    assert second["epoch"] >= first["epoch"]
    if sig == signal.SIGINT:
        assert not list(tmp_path.glob("*.tmp"))  # an interrupt removes its temporary file
    model = VAE(z_dim=2, hidden=(512, 512))
    h = fit(model, x[:20], epochs=second["epoch"] + 1, batch_size=20, progress=False, resume=str(path))
    assert h.epoch[-1] == second["epoch"] + 1 and len(h.epoch) == second["epoch"] + 1
    save_checkpoint(path, model, epoch=h.epoch[-1])  # the next write removes a killed writer's temporary file
    assert not list(tmp_path.glob("*.tmp"))
    assert load_checkpoint(path)["epoch"] == h.epoch[-1]


STUCK_CHILD = textwrap.dedent("""
    import sys, time, torch
    from vae_support import train
    from vae_support.data import load_digits
    from vae_support.models import VAE
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = load_digits().train.x[:20]
    model = VAE(z_dim=2, hidden=(32,))
    train.fit(model, x, epochs=1, batch_size=20, progress=False, checkpoint=sys.argv[1])
    def stuck(fd):  # the new checkpoint is written to the temporary file, not yet renamed
        print("writing", flush=True)
        time.sleep(60)
    train.os.fsync = stuck
    train.fit(model, x, epochs=2, batch_size=20, progress=False, checkpoint=sys.argv[1], resume=sys.argv[1])
""")


def test_a_child_killed_between_writing_and_renaming_leaves_the_previous_checkpoint(tmp_path, x):
    path = tmp_path / "ckpt.pt"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", STUCK_CHILD, str(path)], stdout=subprocess.PIPE, env=env)
    try:
        assert child.stdout.readline().strip() == b"writing"
        before = path.read_bytes()
        child.kill()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert path.read_bytes() == before and load_checkpoint(path)["epoch"] == 1
    assert len(list(tmp_path.glob("ckpt.pt.*.tmp"))) == 1  # the killed writer's temporary file, never renamed
    h = fit(VAE(z_dim=2, hidden=(32,)), x[:20], epochs=2, batch_size=20, progress=False, resume=str(path))
    assert h.epoch == [1, 2]


def test_an_interrupt_during_the_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    from vae_support import train as T

    model = tiny_vae()
    path = save_checkpoint(tmp_path / "m.pt", model)
    before = path.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(T.os, "fsync", interrupted)
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # the temporary file is removed


# ------------------------------------------------------------------ corrupted bytes
def _flip(path: Path, offset: int, n: int = 16) -> None:
    raw = bytearray(path.read_bytes())
    for i in range(offset, offset + n):
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))


def _weights_offset(path: Path) -> int:
    """Where the bytes of the first weight matrix lie in the file (the payload is stored uncompressed)."""
    inner = torch.load(path, weights_only=True)["payload"].numpy().tobytes()
    needle = inner[len(inner) // 2: len(inner) // 2 + 64]
    offset = path.read_bytes().find(needle)
    assert offset > 0
    return offset


def test_sixteen_flipped_bytes_in_the_weights_are_refused_everywhere(tmp_path, x):
    path = tmp_path / "ckpt.pt"
    fit(tiny_vae(), x, epochs=1, checkpoint=str(path), **FAST)
    _flip(path, _weights_offset(path))
    for load in (load_checkpoint, load_model):
        with pytest.raises(CheckpointError, match="corrupted: its SHA-256 does not match"):
            load(path)
    with pytest.raises(CheckpointError, match="corrupted"):
        fit(tiny_vae(), x, epochs=2, resume=str(path), **FAST)


@pytest.mark.parametrize("where", [0.0, 0.01, 0.25, 0.5, 0.75, 0.99])
def test_flipped_bytes_anywhere_are_refused_or_harmless(tmp_path, where):
    """A flip in the container is refused as corrupted; one the container ignores (padding) changes nothing."""
    model = tiny_vae()
    path = save_checkpoint(tmp_path / "m.pt", model)
    _flip(path, min(int(where * path.stat().st_size), path.stat().st_size - 16))
    try:
        loaded = load_model(path)
    except CheckpointError as err:
        assert "path:" in str(err)
    else:
        for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
            assert torch.equal(a, b)


@pytest.mark.parametrize("size", [0, 1, 683, 4096])
def test_a_truncated_checkpoint_is_refused_clearly(tmp_path, size):
    path = save_checkpoint(tmp_path / "m.pt", tiny_vae())
    path.write_bytes(path.read_bytes()[:size])
    with pytest.raises(CheckpointError, match=r"path: .*(corrupted|older version)"):
        load_checkpoint(path)


def test_a_checkpoint_from_an_older_version_is_refused_with_a_clear_message(tmp_path):
    model = tiny_vae()
    path = tmp_path / "old.pt"
    torch.save({"model_class": "VAE", "model_kwargs": dict(model.hparams), "model_state": model.state_dict()}, path)
    with pytest.raises(CheckpointError, match="written by an older version of vae_support"):
        load_model(path)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_malicious_pickle_is_still_refused(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as fh:
        torch.save({"payload": _Exploit()}, fh)
    with pytest.raises(CheckpointError, match="refused without running them") as err:
        load_checkpoint(path)
    assert isinstance(err.value.__cause__, pickle.UnpicklingError)  # torch's weights_only loader refused it


# ------------------------------------------------------------------ mismatched resume
def test_resuming_into_a_model_of_another_configuration_is_refused(tmp_path, x):
    path = tmp_path / "tanh.pt"
    fit(tiny_vae(activation="tanh"), x, epochs=1, checkpoint=str(path), **FAST)
    with pytest.raises(CheckpointError, match=r"resume: .*differs in \['activation'\].*'tanh'.*'leaky_relu'"):
        fit(tiny_vae(), x, epochs=2, resume=str(path), **FAST)


def test_resuming_an_sgd_checkpoint_with_adam_is_refused(tmp_path, x):
    path = tmp_path / "sgd.pt"
    fit(tiny_vae(), x, epochs=1, optimizer="sgd", lr=1e-2, checkpoint=str(path), **FAST)
    with pytest.raises(CheckpointError, match="resume: .*optimizer 'sgd'.*'adam'"):
        fit(tiny_vae(), x, epochs=2, resume=str(path), **FAST)
    h = fit(tiny_vae(), x, epochs=2, optimizer="sgd", lr=1e-2, resume=str(path), **FAST)  # the right one resumes
    assert h.epoch == [1, 2]


# ------------------------------------------------------------------ divergence
@pytest.mark.parametrize("optimizer, lr", [("sgd", 10.0), ("sgd", 1e3), ("adam", 1e6)])
def test_a_huge_learning_rate_restores_the_weights_before_the_divergence(x, optimizer, lr):
    model = tiny_vae()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(NonFiniteLossError, match="diverged: the model is restored to its weights at the start of epoch 1"):
        fit(model, x, epochs=3, batch_size=50, progress=False, optimizer=optimizer, lr=lr)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, start[k], rtol=0, atol=0)


def test_divergence_in_a_later_epoch_restores_that_epochs_start(tmp_path, x):
    model = tiny_vae()
    path = tmp_path / "ckpt.pt"
    fit(model, x, epochs=1, checkpoint=str(path), **FAST)
    with pytest.raises(NonFiniteLossError, match="start of epoch 2"):
        fit(model, x, epochs=3, batch_size=50, progress=False, lr=1e6, checkpoint=str(path), resume=str(path))
    saved = load_checkpoint(path)["model_state"]  # the checkpoint of epoch 1 is untouched, and equal to the model
    assert load_checkpoint(path)["epoch"] == 1
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, saved[k], rtol=0, atol=0)


# ------------------------------------------------------------------ hostile download servers
class _Hostile(http.server.BaseHTTPRequestHandler):
    mode = "trickle"
    body = b"x" * 1000

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        if self.mode == "trickle":  # one byte every 0.5 s: each read succeeds, the file never ends in time
            for i in range(len(self.body)):
                try:
                    self.wfile.write(self.body[i:i + 1])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.5)
        elif self.mode == "truncate":  # promises 1000 bytes, sends 10, closes
            self.wfile.write(self.body[:10])
        else:
            self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def _serve(mode: str):
    handler = type("Handler", (_Hostile,), {"mode": mode})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture
def servers():
    started = []

    def start(mode):
        server, url = _serve(mode)
        started.append(server)
        return url

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def test_a_trickling_server_is_abandoned_at_the_deadline_without_a_part_file(tmp_path, servers):
    sha = data.hashlib.sha256(_Hostile.body).hexdigest()
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match="f.bin: could not download it"):
        data.fetch("f.bin", sha, [servers("trickle")], cache_dir=tmp_path, deadline=2.0)
    assert time.monotonic() - t0 < 10
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_download_tries_the_next_mirror(tmp_path, servers):
    sha = data.hashlib.sha256(_Hostile.body).hexdigest()
    path = data.fetch("f.bin", sha, [servers("truncate"), servers("trickle"), servers("full")], cache_dir=tmp_path,
                      deadline=2.0)
    assert path.read_bytes() == _Hostile.body
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_a_download_with_the_wrong_checksum_leaves_nothing(tmp_path, servers):
    with pytest.raises(ConnectionError, match="SHA-256"):
        data.fetch("f.bin", "0" * 64, [servers("full")], cache_dir=tmp_path, deadline=2.0)
    assert list(tmp_path.iterdir()) == []
