#!/usr/bin/env python3
"""GPU smoke benchmark: does rockzoom train and generate on this CUDA box, and how fast?

Checks, through the library's public API only (``rockzoom.engine``, ``rockzoom.models``, ``rockzoom.superres.upscale``):
  1. bf16 training steps of the ViT autoencoder (one run per size) and of the SR nets, through ``engine.train``;
  2. DDP: ``torchrun --nproc_per_node=1`` (plus a raw NCCL DDP step) and, on a multi-GPU box, one process per GPU;
  3. tiled 1024 px SR inference (256 -> x4, tile 128 + overlap 16) against the untiled result;
  4. 1024 px generation: random latents -> AE decoder (256 px) -> SR x4 tiled -> uint8 RGB.
Prints images/s for AE training, SR training and 1024 px generation, peak VRAM and the GPU model, and writes a
markdown block for docs/gpu.md (``--out DIR``: smoke.md + smoke.json; ``--append FILE`` appends it).
Synthetic textures stand in for tiles (throughput does not depend on the content). Exit 1 when a check fails.

    benchmarks/gpu_smoke.sh                   # any CUDA machine, <= 8 minutes
    python benchmarks/gpu_smoke.py --cpu-check   # tiny sizes, same code path on CPU (< 1 minute), used by the tests
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if (REPO / "src/rockzoom").is_dir():  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from rockzoom.engine import EngineConfig, TrainTask, random_dihedral, train  # noqa: E402
from rockzoom.models.registry import SR_NETS  # noqa: E402
from rockzoom.superres.upscale import NetUpscaler, upscale_tiled  # noqa: E402
from rockzoom.util.checkpoint import load_checkpoint  # noqa: E402

try:
    from rockzoom.models.vit_ae import ViTAutoencoder
except ImportError:  # the AE checks are reported as skipped
    ViTAutoencoder = None

# Sizes per mode. "gpu": the real nets at the workflow's sizes; "cpu": tiny stand-ins that run the same code.
MODES = {
    "gpu": dict(
        ae=[dict(img_size=256), dict(img_size=512)], ae_batch=32, ae_steps=40,
        sr=[dict(arch="rlfn"), dict(arch="edsr")], scale=4, sr_hr=256, sr_batch=32, sr_steps=60,
        warmup=10, ddp_steps=30, pool=64,
        gen_lr=256, gen_images=32, gen_batch=16, tiled_images=8, tile=128, overlap=16, batched_sr_images=64,
    ),
    "cpu": dict(
        ae=[dict(img_size=64, patch_size=8, embed_dim=32, depth=1, heads=2, latent_grid=8, latent_channels=2,
                 dec_dim=32, dec_depth=1, dec_heads=2, coarse_size=16, head_channels=4)],
        ae_batch=4, ae_steps=4, sr=[dict(arch="rlfn", n_blocks=2, n_feats=8)], scale=4, sr_hr=64, sr_batch=4,
        sr_steps=4, warmup=1, ddp_steps=3, pool=8,
        gen_lr=64, gen_images=2, gen_batch=2, tiled_images=1, tile=32, overlap=8, batched_sr_images=2,
    ),
}


# ------------------------------------------------------------------------------------------------ data and tasks
def textures(n: int, size: int, seed: int = 0) -> torch.Tensor:
    """(n, 3, size, size) float32 in [0,1]: multi-octave smooth noise, a cheap stand-in for rock tiles."""
    g = torch.Generator().manual_seed(seed)
    out = torch.zeros(n, 3, size, size)
    octave, weight = 4, 1.0
    while octave <= size:
        noise = torch.rand(n, 3, octave, octave, generator=g)
        out += weight * F.interpolate(noise, size=(size, size), mode="bilinear", align_corners=False)
        octave, weight = octave * 2, weight * 0.6
    out -= out.amin(dim=(1, 2, 3), keepdim=True)
    return out / out.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)


def _device_of(model) -> torch.device:
    return next(model.parameters()).device


class SmokeTask(TrainTask):
    """Shared bookkeeping: which dtype the forward pass ran in (bf16 under the engine's autocast) and the losses."""

    val_key = "val_psnr"

    def __init__(self):
        self.forward_dtypes: set[str] = set()
        self.losses: list[float] = []

    def _record(self, pred: torch.Tensor, loss: torch.Tensor) -> tuple[torch.Tensor, dict]:
        # the precision the engine runs the forward pass in (outputs may be promoted back to float32)
        if pred.is_cuda and torch.is_autocast_enabled("cuda"):
            self.forward_dtypes.add(str(torch.get_autocast_dtype("cuda")).replace("torch.", "") + " autocast")
        else:
            self.forward_dtypes.add(str(pred.dtype).replace("torch.", ""))
        self.losses.append(float(loss.detach()))
        return loss, {}


class AESmokeTask(SmokeTask):
    kind = "ae"

    def __init__(self, model_kwargs: dict, pool: int):
        super().__init__()
        self.kwargs = dict(model_kwargs)
        self.images = textures(pool, self.kwargs["img_size"], seed=1)

    def build_model(self):
        return ViTAutoencoder(**self.kwargs)

    def model_kwargs(self):
        return self.kwargs

    def sample_batch(self, step, generator, batch_size):
        idx = torch.randint(0, len(self.images), (batch_size,), generator=generator)
        (x,) = random_dihedral(self.images[idx], generator=generator)
        return {"x": x}

    def loss(self, model, batch, step):
        pred = model(batch["x"])
        return self._record(pred, F.mse_loss(pred.float(), batch["x"]))

    def validate(self, model):
        x = self.images[:4].to(_device_of(model))
        mse = F.mse_loss(model(x).float().clamp(0, 1), x)
        return {"val_psnr": float(-10 * torch.log10(mse.clamp_min(1e-10)))}


class SRSmokeTask(SmokeTask):
    kind = "sr"  # NetUpscaler.from_checkpoint loads only "sr"/"sr_gan" checkpoints

    def __init__(self, net: dict, scale: int, hr_size: int, pool: int):
        super().__init__()
        self.kwargs = {**net, "scale": scale}
        self.hr = textures(pool, hr_size, seed=2)
        self.lr = F.interpolate(self.hr, scale_factor=1 / scale, mode="bicubic", antialias=True).clamp(0, 1)

    def build_model(self):
        return SR_NETS.from_config(self.kwargs)

    def model_kwargs(self):
        return self.kwargs

    def sample_batch(self, step, generator, batch_size):
        idx = torch.randint(0, len(self.hr), (batch_size,), generator=generator)
        lr, hr = random_dihedral(self.lr[idx], self.hr[idx], generator=generator)
        return {"lr": lr, "hr": hr}

    def loss(self, model, batch, step):
        pred = model(batch["lr"])
        return self._record(pred, F.l1_loss(pred.float(), batch["hr"]))

    def validate(self, model):
        dev = _device_of(model)
        mse = F.mse_loss(model(self.lr[:4].to(dev)).float().clamp(0, 1), self.hr[:4].to(dev))
        return {"val_psnr": float(-10 * torch.log10(mse.clamp_min(1e-10)))}


# ------------------------------------------------------------------------------------------------ measuring
def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _reset_peak():
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gib() -> float | None:
    return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None


def run_training(task: SmokeTask, steps: int, batch: int, warmup: int, workdir: Path, device: str) -> dict:
    """Train through engine.train; images/s over the steps after ``warmup`` (the last step, which validates and
    saves, is left out)."""
    cfg = EngineConfig.from_dict(dict(steps=steps, batch_size=batch, lr=2e-4, warmup_steps=min(5, steps - 1),
                                      val_every=steps, save_every=steps, log_every=max(1, steps // 2), seed=0,
                                      bf16=True, device=device))
    stamps: dict[int, float] = {}

    def on_step_end(done: int) -> None:
        _sync()
        stamps[done] = time.perf_counter()

    _reset_peak()
    t0 = time.perf_counter()
    result = train(task, cfg, model_out=workdir / "model.pt", state_dir=workdir / "state",
                   metrics_csv=workdir / "metrics.csv", curve_png=workdir / "curve.png",
                   stage_config={"smoke": task.kind, **task.model_kwargs()}, data_hash="synthetic",
                   progress=False, on_step_end=on_step_end)
    first, last = warmup, steps - 1
    if last <= first:  # very short runs: time every step but the last
        first, last = 0, steps - 1
    t_first = stamps.get(first, t0)
    ips = batch * (last - first) / (stamps[last] - t_first) if last > first else float("nan")
    losses = task.losses
    return {
        # on CUDA the engine must run the forward pass under bf16 autocast
        "ok": all(math.isfinite(v) for v in losses) and result.best_val is not None
        and (device != "cuda" or task.forward_dtypes == {"bfloat16 autocast"}),
        "images_per_s": ips,
        "seconds": time.perf_counter() - t0,
        "forward_dtype": ",".join(sorted(task.forward_dtypes)),
        "loss_first": losses[0], "loss_last": losses[-1],
        "val_psnr": result.best_val,
        "peak_vram_gib": _peak_gib(),
        "params_m": sum(p.numel() for p in task.build_model().parameters()) / 1e6,
        "model": str(result.model_out),
    }


def check_tiled_sr(sr_model_path: Path, p: dict, device: str) -> dict:
    """256 px -> x4 through upscale_tiled (tile + overlap) vs the whole image at once."""
    upscaler = NetUpscaler.from_checkpoint(sr_model_path, device=device)
    images = textures(p["tiled_images"], p["gen_lr"], seed=3).permute(0, 2, 3, 1).numpy()
    upscaler.upscale(images[0])  # warm-up (cuDNN autotuning)
    _reset_peak()
    _sync()
    t0 = time.perf_counter()
    outs = [upscale_tiled(upscaler, img, tile=p["tile"], overlap=p["overlap"]) for img in images]
    _sync()
    seconds = time.perf_counter() - t0
    whole = upscaler.upscale(images[0])
    diff = np.abs(outs[0] - whole)
    mse = float((diff**2).mean())
    size = p["gen_lr"] * upscaler.scale
    return {
        "ok": outs[0].shape == (size, size, 3) and bool(np.isfinite(outs[0]).all())
        and (mse == 0 or -10 * math.log10(mse) > 40),
        "out_px": size, "images_per_s": len(images) / seconds, "max_abs_diff_vs_untiled": float(diff.max()),
        "psnr_vs_untiled_db": float("inf") if mse == 0 else -10 * math.log10(mse),
        "peak_vram_gib": _peak_gib(),
    }


@torch.no_grad()
def batched_sr(sr_model_path: Path, p: dict, device: str) -> dict:
    """The SR net alone on a batch of 256 px inputs (the ceiling for generation)."""
    upscaler = NetUpscaler.from_checkpoint(sr_model_path, device=device)
    x = textures(p["batched_sr_images"], p["gen_lr"], seed=4).to(upscaler.device)
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if upscaler.device.type == "cuda" else torch.autocast("cpu", enabled=False)
    with ctx:
        upscaler.model(x[:2])
    _reset_peak()
    _sync()
    t0 = time.perf_counter()
    n = 0
    for i in range(0, len(x), p["gen_batch"]):
        with ctx:
            y = upscaler.model(x[i:i + p["gen_batch"]]).float().clamp_(0, 1)
        n += len(y)
    _sync()
    return {"ok": bool(torch.isfinite(y).all()), "images_per_s": n / (time.perf_counter() - t0),
            "out_px": y.shape[-1], "peak_vram_gib": _peak_gib()}


@torch.no_grad()
def generation(ae_model_path: Path, sr_model_path: Path, p: dict, device: str) -> dict:
    """Random latents -> AE decoder -> SR x4 (upscale_tiled) -> uint8 (H, W, 3) on the host, end to end."""
    payload = load_checkpoint(ae_model_path)
    ae = ViTAutoencoder(**payload["model_kwargs"])
    ae.load_state_dict(payload["state_dict"])
    upscaler = NetUpscaler.from_checkpoint(sr_model_path, device=device)
    ae = ae.to(upscaler.device).eval()
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if upscaler.device.type == "cuda" else torch.autocast("cpu", enabled=False)
    g = torch.Generator().manual_seed(5)

    def produce(n_images: int) -> list[np.ndarray]:
        images = []
        for i in range(0, n_images, p["gen_batch"]):
            z = torch.randn(min(p["gen_batch"], n_images - i), ae.latent_dim, generator=g).to(upscaler.device)
            with ctx:
                lr = ae.decode(z).float().clamp_(0, 1)
            for img in lr.permute(0, 2, 3, 1).cpu().numpy():
                size = img.shape[0] * upscaler.scale
                out = np.empty((size, size, 3), np.uint8)
                images.append(upscale_tiled(upscaler, img, tile=max(p["tile"], img.shape[0]), overlap=0, out=out))
        return images

    produce(min(2, p["gen_images"]))  # warm-up
    _reset_peak()
    _sync()
    t0 = time.perf_counter()
    images = produce(p["gen_images"])
    seconds = time.perf_counter() - t0
    return {"ok": len(images) == p["gen_images"] and images[0].dtype == np.uint8, "out_px": images[0].shape[0],
            "images_per_s": len(images) / seconds, "peak_vram_gib": _peak_gib()}


# ------------------------------------------------------------------------------------------------ DDP
def ddp_worker(outdir: Path, mode: str) -> None:
    """Runs under torchrun: an SR training through the engine (DDP when WORLD_SIZE > 1); with one CUDA process also
    a raw DDP step over NCCL, since the engine wraps in DDP only for WORLD_SIZE > 1."""
    p = MODES[mode]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = "cuda" if mode == "gpu" else "cpu"
    raw_nccl = None
    if world == 1 and device == "cuda":
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel

        dist.init_process_group("nccl")
        torch.cuda.set_device(0)
        net = DistributedDataParallel(SR_NETS.from_config(p["sr"][0], scale=p["scale"]).cuda(), device_ids=[0])
        x = torch.rand(4, 3, 32, 32, device="cuda")
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = net(x).float().mean()
        loss.backward()
        t = torch.ones(1, device="cuda")
        dist.all_reduce(t)
        raw_nccl = bool(math.isfinite(float(loss)) and float(t) == 1.0)
        dist.destroy_process_group()
    batch = p["sr_batch"] * world  # the same per-process batch as the single-process run
    task = SRSmokeTask(p["sr"][0], p["scale"], p["sr_hr"], p["pool"])
    result = run_training(task, p["ddp_steps"], batch, min(p["warmup"], p["ddp_steps"] - 2), outdir / "train", device)
    if rank == 0:
        result.update(world_size=world, raw_nccl_ddp_step=raw_nccl,
                      visible_devices=torch.cuda.device_count() if device == "cuda" else 0)
        if raw_nccl is False:
            result["ok"] = False
        (outdir / "result.json").write_text(json.dumps(result))


def run_ddp(nproc: int, mode: str, workdir: Path, timeout: float) -> dict:
    outdir = workdir / f"ddp{nproc}"
    outdir.mkdir(parents=True)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           str(Path(__file__).resolve()), "--ddp-worker", str(outdir), "--mode", mode]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not (outdir / "result.json").exists():
        return {"ok": False, "error": f"torchrun exit {proc.returncode}: {(proc.stdout + proc.stderr)[-3000:]}"}
    result = json.loads((outdir / "result.json").read_text())
    result["wall_s"] = time.perf_counter() - t0
    return result


# ------------------------------------------------------------------------------------------------ report
def environment() -> dict:
    env = {"torch": torch.__version__, "python": platform.python_version(), "host": platform.node(),
           "cuda_available": torch.cuda.is_available()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env.update(gpu=torch.cuda.get_device_name(0), gpu_count=torch.cuda.device_count(),
                   gpu_mem_gib=props.total_memory / 2**30, capability=f"{props.major}.{props.minor}",
                   cuda=torch.version.cuda, bf16_supported=torch.cuda.is_bf16_supported())
        try:
            env["driver"] = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                           capture_output=True, text=True, timeout=20).stdout.split("\n")[0].strip()
        except (OSError, subprocess.SubprocessError):
            pass
    else:
        env.update(gpu="none (CPU)", gpu_count=0)
    return env


def _f(v, digits=1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}" if math.isfinite(v) else str(v)
    return str(v)


def markdown(report: dict) -> str:
    env, rows = report["env"], []
    for name, r in report["checks"].items():
        if r.get("skipped"):
            rows.append(f"| {name} | skipped: {r['skipped']} | | |")
            continue
        status = "ok" if r.get("ok") else "**FAILED**"
        detail = []
        if "forward_dtype" in r:
            detail.append(f"fwd {r['forward_dtype']}, loss {_f(r['loss_first'], 4)}→{_f(r['loss_last'], 4)}, "
                          f"{_f(r['params_m'], 2)} M params")
        if "world_size" in r:
            detail.append(f"{r['world_size']} process(es)"
                          + ("" if r.get("raw_nccl_ddp_step") is None else f", raw NCCL DDP step ok={r['raw_nccl_ddp_step']}"))
        if "psnr_vs_untiled_db" in r:
            detail.append(f"tile {report['params']['tile']}+{report['params']['overlap']}: "
                          f"{_f(r['psnr_vs_untiled_db'])} dB vs untiled, max diff {r['max_abs_diff_vs_untiled']:.2g}")
        if "error" in r:
            detail.append(r["error"].strip().splitlines()[-1][:200] if r["error"].strip() else "error")
        rows.append(f"| {name} | {status}{'; ' + '; '.join(detail) if detail else ''} | {_f(r.get('images_per_s'))} "
                    f"| {_f(r.get('peak_vram_gib'), 2)} |")
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    gpu = env.get("gpu", "?") + (f" ×{env['gpu_count']}" if env.get("gpu_count", 0) > 1 else "")
    head = (f"### gpu_smoke: {gpu} — {when}\n\n"
            f"torch {env['torch']}, CUDA {env.get('cuda', '-')}, driver {env.get('driver', '-')}, "
            f"capability {env.get('capability', '-')}, bf16 supported: {env.get('bf16_supported', '-')}, "
            f"{_f(env.get('gpu_mem_gib'))} GiB; mode `{report['mode']}`; total {report['seconds']:.0f} s; "
            f"{'all checks passed' if report['ok'] else '**some checks FAILED**'}.\n\n"
            "| check | result | images/s | peak VRAM GiB |\n|---|---|---|---|\n")
    return head + "\n".join(rows) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cpu-check", action="store_true", help="tiny sizes on the CPU, same code path (< 1 min)")
    ap.add_argument("--out", type=Path, help="folder for smoke.md and smoke.json")
    ap.add_argument("--append", type=Path, help="append the markdown block to this file (the measured blocks are in docs/gpu.md)")
    ap.add_argument("--skip-ddp", action="store_true", help="leave out the torchrun checks")
    ap.add_argument("--ddp-worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--mode", choices=sorted(MODES), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.ddp_worker:
        ddp_worker(args.ddp_worker, args.mode)
        return 0

    mode = "cpu" if args.cpu_check else "gpu"
    if mode == "gpu" and not torch.cuda.is_available():
        print("gpu_smoke: CUDA is not available here (use --cpu-check for the CPU path)", file=sys.stderr)
        return 2
    if mode == "cpu":
        torch.set_num_threads(min(2, os.cpu_count() or 1))
    else:
        torch.backends.cudnn.benchmark = True
    device = "cuda" if mode == "gpu" else "cpu"
    p = MODES[mode]
    precision = "bf16" if mode == "gpu" else "fp32 (CPU)"
    t_start = time.perf_counter()
    report = {"mode": mode, "env": environment(), "params": p, "checks": {}}
    checks = report["checks"]
    print(f"gpu_smoke ({mode}): {report['env'].get('gpu')} torch {torch.__version__}", flush=True)

    def run(name, fn, *a):
        t0 = time.perf_counter()
        try:
            checks[name] = fn(*a)
        except Exception as e:  # a failing check is reported, the others still run
            checks[name] = {"ok": False, "error": f"{type(e).__name__}: {e}\n{traceback.format_exc()[-2000:]}"}
        r = checks[name]
        print(f"  {name}: {'ok' if r.get('ok') else 'FAILED'} {_f(r.get('images_per_s'))} img/s "
              f"({time.perf_counter() - t0:.1f} s){'  ' + r['error'] if 'error' in r else ''}", flush=True)
        return r

    with tempfile.TemporaryDirectory(prefix="rockzoom-gpu-smoke-") as tmp:
        tmp = Path(tmp)
        ae_models = {}
        for kw in p["ae"]:
            name = f"AE train {precision} {kw['img_size']} px, batch {p['ae_batch']}"
            if ViTAutoencoder is None:
                checks[name] = {"skipped": "rockzoom.models.vit_ae.ViTAutoencoder not importable"}
                continue
            r = run(name, lambda kw=kw: run_training(AESmokeTask(kw, p["pool"]), p["ae_steps"], p["ae_batch"],
                                                     p["warmup"], tmp / f"ae{kw['img_size']}", device))
            if r.get("ok"):
                ae_models[kw["img_size"]] = Path(r["model"])
        sr_model = None
        for net in p["sr"]:
            name = f"SR train {precision} {net['arch']} x{p['scale']}, {p['sr_hr']} px HR, batch {p['sr_batch']}"
            r = run(name, lambda net=net: run_training(SRSmokeTask(net, p["scale"], p["sr_hr"], p["pool"]),
                                                       p["sr_steps"], p["sr_batch"], p["warmup"],
                                                       tmp / f"sr_{net['arch']}", device))
            if r.get("ok") and sr_model is None:
                sr_model = Path(r["model"])
        if not args.skip_ddp:
            # GPU: one process (+ a raw NCCL DDP step), then one per GPU; CPU check: 2 gloo processes only
            nprocs = [1] + ([torch.cuda.device_count()] if torch.cuda.device_count() > 1 else []) if mode == "gpu" else [2]
            for n in nprocs:
                run(f"DDP torchrun --nproc_per_node={n} (SR train{', all GPUs' if n > 1 and mode == 'gpu' else ''})",
                    run_ddp, n, mode, tmp, 240)
        lr, hr = p["gen_lr"], p["gen_lr"] * p["scale"]
        if sr_model is not None:
            run(f"SR inference tiled {lr}→{hr} px", check_tiled_sr, sr_model, p, device)
            run(f"SR inference batched {lr}→{hr} px (net only, batch {p['gen_batch']})", batched_sr, sr_model, p,
                device)
        gen_name = f"generation {hr} px: AE decode {lr} + SR x{p['scale']}"
        if sr_model is not None and lr in ae_models:
            run(gen_name, generation, ae_models[lr], sr_model, p, device)
        else:
            checks[gen_name] = {"skipped": "needs a trained AE at %d px and an SR net" % lr}

    report["seconds"] = time.perf_counter() - t_start
    report["ok"] = all(r.get("ok") for r in checks.values() if not r.get("skipped"))
    block = markdown(report)
    print("\n" + block)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "smoke.md").write_text(block)
        (args.out / "smoke.json").write_text(json.dumps(report, indent=2, default=str))
    if args.append:
        with open(args.append, "a") as f:
            f.write("\n" + block)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
