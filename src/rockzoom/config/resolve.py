"""What rules and commands need from a loaded config: stage settings (engine resolved), typed references to SR
models and upscalers, benchmark rows, progressive stages, the cross-key checks a schema cannot express."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from rockzoom.config import paths
from rockzoom.config.loading import ConfigError

CLASSICAL = ("bicubic", "lanczos")  # = rockzoom.superres.upscale.CLASSICAL_METHODS (a test pins it; no torch import here)
SR_NET_FAMILY, SR_NET_FIXED = "SR net", ("scale",)  # models.registry.SR_NETS: its name and the keyword the stage sets


# ------------------------------------------------------------------------------------------------ typed references
SR_KINDS = ("psnr", "perceptual", "exemplar")  # sr_model.kind: the PSNR model, its perceptual fine-tune, or the
# PSNR model with exemplar detail


@dataclass(frozen=True)
class SrModelRef:
    """One trained SR model: net (a key of sr.nets) at x``scale`` trained on HR mosaics s``hr``; ``kind`` psnr (the
    PSNR-trained model) or perceptual (its perceptual fine-tune); ``gan``: the GAN fine-tune (benchmark row)."""
    net: str
    scale: int
    hr: int
    gan: bool = False
    kind: str = "psnr"

    def __post_init__(self):
        if self.kind not in SR_KINDS:
            raise ConfigError(f"sr_model kind {self.kind!r}: not one of {list(SR_KINDS)}")
        if self.gan and self.kind != "psnr":
            raise ConfigError("sr_model: the GAN fine-tune is made from the psnr kind only")

    @classmethod
    def from_config(cls, d: dict, scale: int) -> "SrModelRef":
        return cls(net=d["net"], scale=int(scale), hr=int(d["hr"]), kind=d.get("kind", "psnr"))

    @property
    def tag(self) -> str:
        return paths.sr_tag(self.net, self.scale, self.hr)

    @property
    def path(self) -> str:
        if self.kind == "perceptual":
            return paths.sr_perceptual_model(self.net, self.scale, self.hr)
        if self.kind == "exemplar":
            return paths.sr_exemplar_model(self.net, self.scale, self.hr)
        return paths.sr_model(self.net, self.scale, self.hr, gan=self.gan)

    @property
    def wildcards(self) -> dict:
        return {"net": self.net, "k": str(self.scale), "H": str(self.hr)}

    def with_gan(self) -> "SrModelRef":
        return SrModelRef(self.net, self.scale, self.hr, gan=True)

    def with_kind(self, kind: str) -> "SrModelRef":
        return SrModelRef(self.net, self.scale, self.hr, kind=kind)

    def train_runtimes(self) -> list[str]:
        """Benchmark TSVs of the training jobs behind this model (the PSNR training, then its fine-tune)."""
        tsvs = [paths.runtime_tsv("train_sr", self.tag)]
        if self.gan:
            tsvs.append(paths.runtime_tsv("finetune_sr_gan", self.tag))
        if self.kind == "perceptual":
            tsvs.append(paths.runtime_tsv("finetune_sr_perceptual", self.tag))
        if self.kind == "exemplar":
            tsvs.append(paths.runtime_tsv("build_sr_exemplar", self.tag))
        return tsvs

    def to_param(self) -> dict:
        """``rockzoom.superres.upscale.build_upscaler`` keywords."""
        return {"checkpoint": self.path}


@dataclass(frozen=True)
class Classical:
    """A classical interpolation upscaler (bicubic, lanczos)."""
    method: str

    def __post_init__(self):
        if self.method not in CLASSICAL:
            raise ConfigError(f"upscaler {self.method!r}: not one of {list(CLASSICAL)}")

    def to_param(self) -> dict:
        """``rockzoom.superres.upscale.build_upscaler`` keywords."""
        return {"method": self.method}


Upscaler = Classical | SrModelRef


def _legacy_sr_keys(section: dict, scale: int) -> dict:
    """``section`` with its ``sr_model: {net, hr}`` written as the ``sr_net``/``sr_hr`` pair, in the same place: the
    form rule params have always had, so existing results keep their params and do not rerun."""
    out = {}
    for key, value in section.items():
        if key == "sr_model":
            out["sr_net"], out["sr_hr"] = value["net"], value["hr"]
            if value.get("kind", "psnr") != "psnr":  # the psnr kind keeps the params it always had
                out["sr_kind"] = value["kind"]
        else:
            out[key] = copy.deepcopy(value)
    return out


@dataclass(frozen=True)
class Option:
    """A named generation target of ``options``."""
    name: str
    ae_size: int
    upscale: str  # none | bicubic | lanczos | sr
    scale: int
    sr_model: SrModelRef | None
    detail: bool = False
    back_project: bool = False
    start: str = "ae"  # ae | scene (rockzoom.scene)
    raw: dict = field(repr=False, compare=False, default_factory=dict)

    @property
    def upscaler(self) -> Upscaler | None:
        if self.upscale == "sr":
            return self.sr_model
        return None if self.upscale == "none" else Classical(self.upscale)

    @property
    def output_size(self) -> int:
        return self.ae_size * self.scale

    def to_param(self) -> dict:
        """The option's settings for rule params; switches that are off are left out (older results stay current)."""
        return _legacy_sr_keys({k: v for k, v in self.raw.items()
                                if not (k in ("detail", "back_project") and not v) and not (k == "start" and v == "ae")},
                               self.scale)


def option(cfg: dict, name: str) -> Option:
    opts = cfg.get("options", {})
    if name not in opts:
        raise ConfigError(f"config key options: no option {name!r} (available: {sorted(opts)})")
    o = opts[name]
    ref = SrModelRef.from_config(o["sr_model"], o["scale"]) if o["upscale"] == "sr" else None
    return Option(name, o["ae_size"], o["upscale"], o["scale"], ref, detail=o.get("detail", False),
                  back_project=o.get("back_project", False), start=o.get("start", "ae"), raw=o)


def scene_sizes(cfg: dict) -> list[int]:
    """The sizes the options starting from the scene generator and the realism table's scene rows make (what its
    model keeps windows for)."""
    options = {o["ae_size"] for o in cfg.get("options", {}).values() if o.get("start", "ae") == "scene"}
    return sorted(options | set(cfg["benchmark"].get("scene_sizes") or []))


def scene_sample_count(cfg: dict, size: int) -> int:
    """Images of ``size`` px a realism row of the scene generator holds: benchmark.scene_cuts 256 px cuts' worth,
    at least 8."""
    per_image = max(1, (size // JUDGE_GROUND_SIZE) ** 2)
    return max(8, -(-cfg["benchmark"]["scene_cuts"] // per_image))


def scene_draw_param(cfg: dict) -> dict:
    """How the scene generator draws (rule params): its synthesis settings and the verbatim-piece redraw."""
    sc = cfg["scene"]
    return {"synthesis": sc["synthesis"], "max_piece": sc["max_piece"], "attempts": sc["attempts"]}


def scene_fit_param(cfg: dict) -> dict:
    """The scene model's fit settings (rule params): scene.fit with the sizes the options need."""
    return {**cfg["scene"]["fit"], "sizes": scene_sizes(cfg)}


def pyramid_upscaler(cfg: dict) -> Upscaler:
    p = cfg["pyramid"]
    return SrModelRef.from_config(p["sr_model"], p["scale"]) if p["upscale"] == "sr" else Classical(p["upscale"])


def pyramid_param(cfg: dict) -> dict:
    """The main pyramid's settings (its shard jobs' params): pyramid.layers, the other pyramids, left out, so adding
    a layer does not rerun the main pyramid."""
    return _legacy_sr_keys({k: v for k, v in cfg["pyramid"].items() if k != "layers"}, cfg["pyramid"]["scale"])


def pyramid_out_zoom(cfg: dict) -> int:
    return cfg["tiles"]["zoom"] + cfg["pyramid"]["scale"].bit_length() - 1


def pyramid_layer_names(cfg: dict) -> list[str]:
    """The extra pyramids of `pyramid.layers` (results/pyramid/z{Z}-{name}/), layers of the map page."""
    return sorted(cfg["pyramid"].get("layers") or {})


def pyramid_layer_param(cfg: dict, name: str) -> dict:
    """The pyramid settings of layer `name`: the main pyramid's, with the layer's upscaler."""
    if name not in pyramid_layer_names(cfg):
        raise ConfigError(f"config key pyramid.layers: no layer {name!r} (available: {pyramid_layer_names(cfg)})")
    p = {k: v for k, v in cfg["pyramid"].items() if k not in ("layers", "sr_model")}
    p.update({"self_ensemble": False, **cfg["pyramid"]["layers"][name]})
    return _legacy_sr_keys(p, p["scale"])


def pyramid_layer_upscaler(cfg: dict, name: str) -> Upscaler:
    p = cfg["pyramid"]["layers"][name]
    scale = cfg["pyramid"]["scale"]
    return SrModelRef.from_config(p["sr_model"], scale) if p["upscale"] == "sr" else Classical(p["upscale"])


def refiner_upscaler(cfg: dict, name: str, k, H) -> Upscaler:
    """The condition of refiner results/refiner/{name}-x{k}-h{H}: a classical method or the SR model s{H}."""
    if name in CLASSICAL:
        return Classical(name)
    if name not in cfg["sr"]["nets"]:
        raise ConfigError(f"refiner {name!r}: not one of {list(CLASSICAL)} nor a key of sr.nets "
                          f"({sorted(cfg['sr']['nets'])})")
    return SrModelRef(name, int(k), int(H))


def refiner_for_option(cfg: dict, name: str) -> str:
    """The refiner matching a generation option's upscaler (an SR option uses the SR model's own HR size)."""
    opt = option(cfg, name)
    up = opt.upscaler
    if up is None or opt.scale == 1:
        raise ConfigError(f"config key refiner.refine_options: option {name!r} does not upscale; nothing to refine")
    if isinstance(up, SrModelRef):
        if up.kind != "psnr":  # the refiner learns after the PSNR net: it would add detail onto drawn detail
            raise ConfigError(f"config key refiner.refine_options: option {name!r} upscales with sr_model kind "
                              f"{up.kind!r}, the refiner is trained after kind 'psnr' only; name an option whose "
                              f"upscaler is classical or of kind psnr")
        return paths.refiner_model(up.net, up.scale, up.hr)
    return paths.refiner_model(up.method, opt.scale, cfg["refiner"]["hr_size"])


def default_refiner_model(cfg: dict) -> str:
    r = cfg["refiner"]
    return paths.refiner_model(r["upscaler"], r["scale"], r["hr_size"])


# ------------------------------------------------------------------------------------------------ stage settings
def _node(cfg: dict, stage: str) -> dict:
    node = cfg
    for i, key in enumerate(stage.split(".")):
        if not isinstance(node, dict) or key not in node:
            where = ".".join(stage.split(".")[:i]) or "(top level)"
            available = sorted(node) if isinstance(node, dict) else []
            raise ConfigError(f"config key {where}: no {key!r} (available: {available})")
        node = node[key]
    return node


def engine(cfg: dict, stage: str) -> dict:
    """The engine settings of ``stage`` (e.g. "sr.train", "sr.gan.train", "ae.archs.vit",
    "ae_variants.multiscale.multiscale", "refiner.train"): engine_defaults with the stage's ``engine:`` keys over it."""
    return {**copy.deepcopy(cfg["engine_defaults"]), **copy.deepcopy(_node(cfg, stage).get("engine") or {})}


def stage_settings(cfg: dict, stage: str) -> dict:
    """The settings block of ``stage`` with its engine resolved (a copy; the engine key keeps its place)."""
    out = copy.deepcopy(_node(cfg, stage))
    out["engine"] = engine(cfg, stage)
    return out


NET_TRAIN_KEY = "train"  # sr.nets.<name>.train: that net's overrides of sr.train (not an architecture keyword)


def sr_net(cfg: dict, net: str) -> dict:
    """The architecture of ``sr.nets[net]``: ``arch`` and its keyword arguments."""
    nets = cfg["sr"]["nets"]
    if net not in nets:
        raise ConfigError(f"config key sr.nets: no net {net!r} (available: {sorted(nets)})")
    return {k: copy.deepcopy(v) for k, v in nets[net].items() if k != NET_TRAIN_KEY}


def sr_train_settings(cfg: dict, net: str) -> dict:
    """``sr.train`` (engine resolved) with the overrides of ``sr.nets[net].train`` (e.g. ``lr_blur``)."""
    sr_net(cfg, net)  # an unknown net is refused by name
    return {**stage_settings(cfg, "sr.train"), **copy.deepcopy(cfg["sr"]["nets"][net].get(NET_TRAIN_KEY, {}))}


def sr_gan_settings(cfg: dict) -> dict:
    """sr.gan with its train stage's engine resolved."""
    gan = copy.deepcopy(cfg["sr"]["gan"])
    gan["train"] = stage_settings(cfg, "sr.gan.train")
    return gan


def sr_perceptual_settings(cfg: dict) -> dict:
    """sr.perceptual with its train stage's engine resolved."""
    settings = copy.deepcopy(cfg["sr"]["perceptual"])
    settings["train"] = stage_settings(cfg, "sr.perceptual.train")
    return settings


def ae_arch(cfg: dict, arch: str | None = None) -> dict:
    """The resolved settings of ae.archs[arch] (default: ae.arch)."""
    arch = arch or cfg["ae"]["arch"]
    archs = cfg["ae"]["archs"]
    if arch not in archs:
        raise ConfigError(f"config key ae.archs: no arch {arch!r} (available: {sorted(archs)})")
    return stage_settings(cfg, f"ae.archs.{arch}")


def multiscale(cfg: dict, name: str) -> dict:
    models = cfg.get("ae_variants", {}).get("multiscale", {})
    if name not in models:
        raise ConfigError(f"config key ae_variants.multiscale: no model {name!r} (available: {sorted(models)})")
    return stage_settings(cfg, f"ae_variants.multiscale.{name}")


def threads(cfg: dict, section: str, cores: int) -> int:
    """Cores of a training job of ``section`` (sr, ae, ae_variants, refiner): its ``threads`` key, or half of the
    cores (at least 1) when null, so two trainings (option_a's AE and SR) run side by side."""
    n = cfg.get(section, {}).get("threads")
    return max(1, int(cores) // 2) if n is None else int(n)


# ------------------------------------------------------------------------------------------------ progressive chains
def progressive_names(cfg: dict) -> list[str]:
    return sorted(cfg.get("ae_variants", {}).get("progressive", {}))


def multiscale_names(cfg: dict) -> list[str]:
    return sorted(cfg.get("ae_variants", {}).get("multiscale", {}))


def progressive_chain(cfg: dict, name: str) -> dict:
    chains = cfg.get("ae_variants", {}).get("progressive", {})
    if name not in chains:
        raise ConfigError(f"config key ae_variants.progressive: no chain {name!r} (available: {sorted(chains)})")
    return chains[name]


def progressive_stage_index(cfg: dict, name: str, S) -> int:
    sizes = progressive_chain(cfg, name)["sizes"]
    if int(S) not in sizes:
        raise ConfigError(f"config key ae_variants.progressive.{name}.sizes: {S} is not a stage size (stages: {sizes})")
    return sizes.index(int(S))


def progressive_stage(cfg: dict, name: str, S) -> dict:
    """The resolved settings of one stage: the base arch with this stage's steps (and token grid), plus the fade."""
    chain = progressive_chain(cfg, name)
    i = progressive_stage_index(cfg, name, S)
    base = ae_arch(cfg, chain["base"])
    stage = {**base, "model": dict(base["model"]), "engine": {**base["engine"], "steps": chain["steps"][i]}}
    if chain.get("token_grids"):
        stage["model"]["token_grid"] = chain["token_grids"][i]
    stage["fade_images"] = chain["fade_images"] if i > 0 else 0
    stage["size"] = int(S)
    return stage


def progressive_stage_data_size(cfg: dict, name: str, S) -> int:
    """The dataset size a stage reads: the chain's last size (stage_data: downsampled) or its own (crops)."""
    chain = progressive_chain(cfg, name)
    return chain["sizes"][-1] if chain["stage_data"] == "downsampled" else int(S)


def progressive_runtimes(cfg: dict, name: str, S=None) -> list[str]:
    """Benchmark TSVs of every stage up to size S (the chain's training time)."""
    sizes = progressive_chain(cfg, name)["sizes"]
    upto = sizes if S is None else sizes[: progressive_stage_index(cfg, name, S) + 1]
    return [paths.runtime_tsv("train_ae_progressive", f"{name}-s{s}") for s in upto]


def ae_variant_rows(cfg: dict, S) -> list[dict]:
    """Rows of the variant comparison at size S: the native arch, each progressive chain ending at S, each multi-scale
    model; with the checkpoint, the training-time TSVs and the images seen in training."""
    S = int(S)
    native = cfg["ae"]["arch"]
    eng = engine(cfg, f"ae.archs.{native}")
    rows = [dict(name=f"native {S} ({native})", ae=paths.ae_model(native, S),
                 train_benchmarks=[paths.runtime_tsv("train_ae", f"{native}-s{S}")],
                 images_seen=eng["steps"] * eng["batch_size"])]
    for name in progressive_names(cfg):
        chain = progressive_chain(cfg, name)
        if chain["sizes"][-1] != S:
            continue
        batch = engine(cfg, f"ae.archs.{chain['base']}")["batch_size"]
        rows.append(dict(name=f"progressive {'->'.join(map(str, chain['sizes']))} ({name})", ae=paths.ae_model(name, S),
                         train_benchmarks=progressive_runtimes(cfg, name, S), images_seen=sum(chain["steps"]) * batch))
    for name in multiscale_names(cfg):
        eng = engine(cfg, f"ae_variants.multiscale.{name}")
        rows.append(dict(name=f"multi-scale {S} ({name})", ae=paths.ae_model(name, S),
                         train_benchmarks=[paths.runtime_tsv("train_ae_multiscale", f"{name}-s{S}")],
                         images_seen=eng["steps"] * eng["batch_size"]))
    return rows


# ------------------------------------------------------------------------------------------------ benchmark rows
@dataclass(frozen=True)
class RefineSpec:
    model: str
    steps: int
    seed: int
    patch: int
    overlap: int
    batch: int

    def to_param(self) -> dict:
        return dict(model=self.model, steps=self.steps, seed=self.seed, patch=self.patch, overlap=self.overlap,
                    batch=self.batch)


@dataclass(frozen=True)
class BenchmarkRow:
    """One row of the comparison table: an optional AE step, then an optional upscaler and refiner."""
    name: str
    data_dir: str
    scale: int
    ae: str | None = None
    upscale: Upscaler | None = None
    refine: RefineSpec | None = None
    train_benchmarks: tuple[str, ...] | None = None
    back_project: bool = False  # the upscale is back-projected to exact LR consistency

    def inputs(self) -> list[str]:
        """Files the row reads: its dataset, the models of its chain, the training-time TSVs."""
        files = [f"{self.data_dir}/summary.json"]
        files += list(self.train_benchmarks or ())
        if self.ae:
            files.append(self.ae)
        if self.refine:
            files.append(self.refine.model)
        if isinstance(self.upscale, SrModelRef):
            files.append(self.upscale.path)
        return files

    def to_param(self) -> dict:
        """The spec dict rockzoom.generation.benchmark.run_benchmark reads (upscale: build_upscaler keywords)."""
        d = dict(name=self.name, data_dir=self.data_dir, scale=self.scale)
        if self.ae is not None:
            d["ae"] = self.ae
        if self.upscale is not None:
            d["upscale"] = self.upscale.to_param()
            if self.back_project:
                d["upscale"]["back_project"] = True
        if self.refine is not None:
            d["refine"] = self.refine.to_param()
        if self.train_benchmarks is not None:
            d["train_benchmarks"] = list(self.train_benchmarks)
        return d


def benchmark_rows(cfg: dict) -> list[BenchmarkRow]:
    """The rows of `snakemake benchmark` (config key benchmark), in table order."""
    b = cfg["benchmark"]
    H, k = b["hr_size"], b["scale"]
    rows: list[BenchmarkRow] = []
    if H in cfg["dataset"]["sizes"]:
        data = paths.dataset_dir(H)
        sr = SrModelRef.from_config(b["sr_model"], k)
        for method in CLASSICAL:
            rows.append(BenchmarkRow(method.capitalize(), data, k, upscale=Classical(method)))
        rows.append(BenchmarkRow(f"learned SR ({sr.net})", data, k, upscale=sr,
                                 train_benchmarks=tuple(sr.train_runtimes())))
        if b["gan"]:
            gan = sr.with_gan()
            rows.append(BenchmarkRow(f"GAN SR ({sr.net}+gan)", data, k, upscale=gan,
                                     train_benchmarks=tuple(gan.train_runtimes())))
        if b.get("perceptual") and sr.kind != "perceptual":
            perceptual = sr.with_kind("perceptual")
            rows.append(BenchmarkRow(f"perceptual SR ({sr.net}+perceptual)", data, k, upscale=perceptual,
                                     train_benchmarks=tuple(perceptual.train_runtimes())))
        if b["refine"]:
            r = cfg["refiner"]
            model = paths.refiner_model(sr.net, sr.scale, sr.hr)
            for n in r["benchmark_steps"]:
                refine = RefineSpec(model=model, steps=n, seed=cfg["seed"],
                                    **{key: r["sample"][key] for key in ("patch", "overlap", "batch")})
                rows.append(BenchmarkRow(f"SR + refine ({n} steps)", data, k, upscale=sr, refine=refine,
                                         train_benchmarks=(*sr.train_runtimes(),
                                                           paths.runtime_tsv("train_refiner", sr.tag))))
    arch = cfg["ae"]["arch"]
    for S in b["ae_sizes"]:
        rows.append(BenchmarkRow(f"native {S} AE", paths.dataset_dir(S), 1, ae=paths.ae_model(arch, S),
                                 train_benchmarks=(paths.runtime_tsv("train_ae", f"{arch}-s{S}"),)))
    S = cfg.get("ae_variants", {}).get("size")
    if b["ae_variants"] and S in b["ae_sizes"]:
        for r in ae_variant_rows(cfg, S)[1:]:  # [0] is the native row above
            rows.append(BenchmarkRow(r["name"], paths.dataset_dir(S), 1, ae=r["ae"],
                                     train_benchmarks=tuple(r["train_benchmarks"])))
    for name in b["pipelines"]:
        opt = option(cfg, name)
        if opt.scale == 1 or opt.output_size not in cfg["dataset"]["sizes"]:
            continue  # no real ground truth of that size in this tile tree
        if opt.start == "scene":
            continue  # a generator reconstructs nothing: its realism rows are in the realism table
        train = [paths.runtime_tsv("train_ae", f"{arch}-s{opt.ae_size}")]
        if opt.sr_model is not None:
            train += opt.sr_model.train_runtimes()
        rows.append(BenchmarkRow(f"{name}: AE {opt.ae_size} + {opt.upscale} x{opt.scale}",
                                 paths.dataset_dir(opt.output_size), opt.scale, ae=paths.ae_model(arch, opt.ae_size),
                                 upscale=opt.upscaler, train_benchmarks=tuple(train), back_project=opt.back_project))
    return rows


# ------------------------------------------------------------------------------------------------ realism table
def detail_settings(cfg: dict, S) -> dict:
    """What the detail stage of size-S samples needs: its patch banks and the synthesis keywords."""
    return {"banks": paths.patch_banks(S), "synthesis": copy.deepcopy(cfg["detail"]["synthesis"])}


def realism_generator_rows(cfg: dict) -> list[dict]:
    """Generators at their native size (each benchmark.ae_sizes entry): the real-vs-real floor, AE samples per sampler,
    and the generate sampler's samples through the detail stage."""
    arch, rows = cfg["ae"]["arch"], []
    for S in cfg["benchmark"]["ae_sizes"]:
        data = paths.dataset_dir(S)
        heldout = "+".join(cfg["realism"]["heldout_splits"])
        rows.append({"name": f"real vs real (train vs {heldout}, s{S})", "data_dir": data, "images": None})
        for sampler in cfg["sample"]["samplers"]:
            rows.append({"name": f"AE {S} samples ({sampler})", "data_dir": data,
                         "images": paths.sample_file(arch, S, sampler, "npy")})
        sampler = cfg["generate"]["sampler"]
        rows.append({"name": f"AE {S} samples ({sampler}) + detail", "data_dir": data,
                     "images": paths.detail_samples(arch, S, sampler),
                     "starts": paths.sample_file(arch, S, sampler, "npy")})
    ground = cfg["scene"]["ground_size"]
    for size in cfg["benchmark"].get("scene_sizes") or []:
        rows.append({"name": f"scene generator {size} px" + (" (256 px cuts)" if size > JUDGE_GROUND_SIZE else ""),
                     "data_dir": paths.dataset_dir(ground), "images": paths.scene_samples(ground, size),
                     "cut": JUDGE_GROUND_SIZE})
    return rows


def realism_upscaler_rows(cfg: dict) -> list[BenchmarkRow]:
    """Upscalers on real inputs: the benchmark SR net's own HR size, LR = that real HR downsampled by its scale."""
    b = cfg["benchmark"]
    sr = SrModelRef.from_config(b["sr_model"], b["scale"])
    data = paths.dataset_dir(sr.hr)
    rows = [BenchmarkRow(m.capitalize(), data, sr.scale, upscale=Classical(m)) for m in CLASSICAL]
    rows.append(BenchmarkRow(f"learned SR ({sr.net})", data, sr.scale, upscale=sr))
    if b["gan"]:
        rows.append(BenchmarkRow(f"GAN SR ({sr.net}+gan)", data, sr.scale, upscale=sr.with_gan()))
    if b.get("perceptual") and sr.kind != "perceptual":
        rows.append(BenchmarkRow(f"perceptual SR ({sr.net}+perceptual)", data, sr.scale,
                                 upscale=sr.with_kind("perceptual")))
    if b["refine"]:
        r = cfg["refiner"]
        for n in r["benchmark_steps"]:
            refine = RefineSpec(model=paths.refiner_model(sr.net, sr.scale, sr.hr), steps=n, seed=cfg["seed"],
                                **{key: r["sample"][key] for key in ("patch", "overlap", "batch")})
            rows.append(BenchmarkRow(f"SR + refine ({n} steps)", data, sr.scale, upscale=sr, refine=refine))
    return rows


JUDGE_GROUND_SIZE = 256  # the judges compare 256 px tiles, the tree's own (rockzoom.generation.judging.GROUND_SIZE)


def realism_generator_inputs(cfg: dict) -> list[str]:
    """What the realism table's generator rows read: their datasets, samples and the samples' starts."""
    generators = realism_generator_rows(cfg)
    files = {f"{r['data_dir']}/summary.json" for r in generators}
    files |= {r[key] for r in generators for key in ("images", "starts") if r.get(key)}
    return sorted(files)


def realism_upscaler_inputs(cfg: dict) -> list[str]:
    """What the realism table's upscaler rows read: their datasets and models."""
    return sorted({f for row in realism_upscaler_rows(cfg) for f in row.inputs()})


# ------------------------------------------------------------------------------------------------ cross-key checks
def check(cfg: dict) -> None:
    """Checks JSON Schema cannot express (run by load_config and at Snakefile parse time, before any job)."""
    zoom, block_zoom = cfg["tiles"]["zoom"], cfg["split"]["block_zoom"]
    if block_zoom != "auto" and block_zoom > zoom:
        raise ConfigError(f"config key split.block_zoom: {block_zoom} must be <= tiles.zoom ({zoom})")
    for size in cfg["dataset"]["sizes"] if block_zoom != "auto" else ():  # auto: rockzoom.data.fit reports it
        block_px = 256 * 2 ** (zoom - block_zoom)
        if size > block_px:
            raise ConfigError(
                f"config key dataset.sizes: {size} px does not fit in a split block of {block_px} px "
                f"(split.block_zoom={block_zoom}); allowed sizes here: <= {block_px}")
    nets = cfg.get("sr", {}).get("nets", {})
    refs = [(f"options.{n}", o) for n, o in cfg.get("options", {}).items()]
    refs += [(s, cfg[s]) for s in ("benchmark", "pyramid") if s in cfg]
    refs += [(f"pyramid.layers.{n}", p) for n, p in (cfg.get("pyramid", {}).get("layers") or {}).items()]
    for where, section in refs:
        net = (section.get("sr_model") or {}).get("net")
        if net is not None and net not in nets:
            raise ConfigError(f"config key {where}.sr_model.net: no net {net!r} in sr.nets (available: {sorted(nets)})")
    _check_net_keywords(cfg)
    _check_keywords(cfg)
    _check_ae_variants(cfg)
    _check_detail_levels(cfg)
    _check_scene(cfg)
    for name in (cfg.get("refiner") or {}).get("refine_options") or ():
        refiner_for_option(cfg, name)  # an option that does not upscale, or one no refiner is trained after


def _check_scene(cfg: dict) -> None:
    """The scene generator's settings, and its ground among the dataset sizes when an option starts from it."""
    from rockzoom.scene.settings import settings_from

    scene = cfg.get("scene") or {}
    try:
        settings_from(scene.get("synthesis"))
    except ValueError as e:
        raise ConfigError(f"config key scene.synthesis: {e}") from None
    users = sorted(n for n, o in cfg.get("options", {}).items() if o.get("start", "ae") == "scene")
    users += ["benchmark.scene_sizes"] if cfg.get("benchmark", {}).get("scene_sizes") else []
    bad = [s for s in cfg.get("benchmark", {}).get("scene_sizes") or [] if s % JUDGE_GROUND_SIZE]
    if bad:
        raise ConfigError(f"config key benchmark.scene_sizes: {bad} are not multiples of {JUDGE_GROUND_SIZE} px "
                          f"(the judges compare {JUDGE_GROUND_SIZE} px cuts)")
    ground = scene.get("ground_size", 256)
    if users and ground not in cfg["dataset"]["sizes"]:
        raise ConfigError(f"config key scene.ground_size: {ground} is not among dataset.sizes "
                          f"{cfg['dataset']['sizes']} (options {users} start from the scene generator)")


def _check_detail_levels(cfg: dict) -> None:
    """The detail stage's coarsest level must hold a patch at every size it runs at (detail options, benchmark)."""
    from rockzoom.texture.levels import check_levels

    banks = cfg["detail"]["banks"]  # schema-filled
    sizes = {o["ae_size"] for o in cfg.get("options", {}).values() if o.get("detail")}
    sizes |= set(cfg.get("benchmark", {}).get("ae_sizes", ()))
    for size in sorted(sizes):
        try:
            check_levels(size, levels=banks["levels"], factor=banks["factor"], patch=banks["patch"])
        except ValueError as e:
            raise ConfigError(f"config key detail.banks: {e}") from None


def _check_net_keywords(cfg: dict) -> None:
    """Each SR net's keywords against its registered class (a net registered anywhere in rockzoom.models works),
    read from the source (``util.signatures``: no torch import at a Snakemake start); an architecture the source
    scan does not find is checked against the imported registry."""
    from rockzoom.util.signatures import check_keywords, registered_inits

    scanned = registered_inits("models", "SR_NETS")
    for name, net in cfg.get("sr", {}).get("nets", {}).items():
        kwargs = {k: v for k, v in net.items() if k not in ("arch", NET_TRAIN_KEY)}
        try:
            if net["arch"] in scanned:
                check_keywords(SR_NET_FAMILY, net["arch"], scanned[net["arch"]].positional, kwargs, SR_NET_FIXED)
            else:
                from rockzoom.models.registry import SR_NETS

                SR_NETS.check_kwargs(net["arch"], kwargs)
        except ValueError as e:
            raise ConfigError(f"config key sr.nets.{name}: {e}") from None


def _check_keywords(cfg: dict) -> None:
    """Free-form keyword blocks against the keyword-only parameters of the functions they are passed to."""
    from rockzoom.util.signatures import function_params

    def accepted(module: str, fn: str) -> set[str]:
        params = function_params(module, fn)
        names = set(params.keyword_only)
        if params.var_keyword and fn == "memorisation":  # its **kwargs go to patch_copy_rate
            names |= function_params(module, "patch_copy_rate").keyword_only
        return names - {"seed", "seeds", "real_masks", "fake_masks", "generated_masks", "train_masks",
                        "heldout_masks"}

    blocks = [("detail.synthesis", accepted("texture.patch_synthesis", "synthesize"),
               cfg.get("detail", {}).get("synthesis", {}))]
    for name in ("kid", "memorisation"):
        blocks.append((f"realism.{name}", accepted("metrics.realism", name), cfg.get("realism", {}).get(name, {})))
    for where, names, given in blocks:
        unknown = sorted(set(given) - names)
        if unknown:
            raise ConfigError(f"config key {where}: unknown keyword {unknown[0]!r} (accepted: {sorted(names)})")


def _check_ae_variants(cfg: dict) -> None:
    v = cfg.get("ae_variants", {})
    archs = set(cfg["ae"]["archs"])
    prog, ms = set(v.get("progressive", {})), set(v.get("multiscale", {}))
    clash = (prog & archs) | (ms & archs) | (prog & ms)
    if clash:
        raise ConfigError(
            f"config key ae_variants: names {sorted(clash)} are used twice (ae.archs, ae_variants.progressive and "
            "ae_variants.multiscale share the {arch} namespace of results/ae/{arch}-s{S}/)")
    for name, chain in v.get("progressive", {}).items():
        where = f"config key ae_variants.progressive.{name}"
        sizes = chain["sizes"]
        if chain["base"] not in archs:
            raise ConfigError(f"{where}.base: no ae.archs entry {chain['base']!r} (available: {sorted(archs)})")
        if len(chain["steps"]) != len(sizes):
            raise ConfigError(f"{where}.steps: one entry per stage size {sizes} needed, got {chain['steps']}")
        grids = chain.get("token_grids")
        if grids is not None and len(grids) != len(sizes):
            raise ConfigError(f"{where}.token_grids: one entry per stage size {sizes} needed, got {grids}")
        for a, b in zip(sizes, sizes[1:]):
            if b <= a or b % a:
                raise ConfigError(f"{where}.sizes: {sizes} must grow, each a multiple of the one before")
    for name, ms_cfg in v.get("multiscale", {}).items():
        levels = len(ms_cfg["model"]["channels"])
        if len(ms_cfg["level_weights"]) != levels:
            raise ConfigError(
                f"config key ae_variants.multiscale.{name}.level_weights: {ms_cfg['level_weights']} needs one weight "
                f"per level ({levels} channels entries), coarsest first")


def check_tile_dir(cfg: dict, root: str | Path = ".") -> None:
    """tiles.dir, when set, must hold the zoom folder (a workflow check: the CLI verbs do not read tiles.dir)."""
    tile_dir = cfg["tiles"]["dir"]
    if tile_dir is not None and cfg["tiles"].get("source", "auto") != "tree" and (Path(root) / tile_dir).is_file():
        return  # a GeoTIFF orthomosaic, checked when it is indexed
    if tile_dir is not None:
        zoom_dir = Path(root) / tile_dir / str(cfg["tiles"]["zoom"])
        if not zoom_dir.is_dir():
            raise ConfigError(
                f"config key tiles.dir: {tile_dir!r} has no zoom-{cfg['tiles']['zoom']} folder "
                f"({zoom_dir} not found); set tiles.dir to a z/x/y tile tree or null for the demo pyramid")
