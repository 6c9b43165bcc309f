# Helpers for targets.smk (the linter wants functions apart from rules).


wildcard_constraints:
    option=r"[A-Za-z0-9_]+",


def option_config(name):
    if name not in config["options"]:
        raise WorkflowError(
            f"config key options: no option {name!r} (available: {sorted(config['options'])})"
        )
    return config["options"][name]


def option_sr_model(opt):
    return sr_model(opt["sr_net"], opt["scale"], opt["sr_hr"])


def generate_inputs(wildcards):
    opt = option_config(wildcards.option)
    S = opt["ae_size"]
    inputs = {
        "ae": ae_model(S),
        "prior": ae_prior(S),
        "test_latents": f"results/latents/{config['ae']['arch']}-s{S}/test.npy",
    }
    if opt["upscale"] == "sr":
        inputs["sr"] = option_sr_model(opt)
    out_size = S * opt["scale"]
    if out_size in config["dataset"]["sizes"]:
        inputs["real"] = dataset_summary(out_size)
    return inputs


def benchmark_rows():
    """Row specs for rockzoom.generation.benchmark (paths derive from config, so this is a plain param)."""
    b = config["benchmark"]
    H, k = b["hr_size"], b["scale"]
    rows = []
    if H in config["dataset"]["sizes"]:
        data = f"results/data/s{H}"
        sr_runtime = runtime_tsv("train_sr", f"{b['sr_net']}-x{k}-h{b['sr_hr']}")
        for method in ("bicubic", "lanczos"):
            rows.append(dict(name=method.capitalize(), data_dir=data, scale=k, upscale=method))
        rows.append(
            dict(
                name=f"learned SR ({b['sr_net']})",
                data_dir=data,
                scale=k,
                upscale=sr_model(b["sr_net"], k, b["sr_hr"]),
                train_benchmarks=[sr_runtime],
            )
        )
        if b["gan"]:
            rows.append(
                dict(
                    name=f"GAN SR ({b['sr_net']}+gan)",
                    data_dir=data,
                    scale=k,
                    upscale=sr_model(b["sr_net"], k, b["sr_hr"], gan=True),
                    train_benchmarks=[
                        sr_runtime,
                        runtime_tsv("finetune_sr_gan", f"{b['sr_net']}-x{k}-h{b['sr_hr']}"),
                    ],
                )
            )
        if b["refine"]:
            tag = f"{b['sr_net']}-x{k}-h{b['sr_hr']}"
            r = config["refiner"]
            for n in r["benchmark_steps"]:
                rows.append(
                    dict(
                        name=f"SR + refine ({n} steps)",
                        data_dir=data,
                        scale=k,
                        upscale=sr_model(b["sr_net"], k, b["sr_hr"]),
                        refine=dict(
                            model=f"results/refiner/{tag}/model.pt",
                            steps=n,
                            seed=config["seed"],
                            **{key: r["sample"][key] for key in ("patch", "overlap", "batch")},
                        ),
                        train_benchmarks=[sr_runtime, runtime_tsv("train_refiner", tag)],
                    )
                )
    arch = config["ae"]["arch"]
    for S in b["ae_sizes"]:
        rows.append(
            dict(
                name=f"native {S} AE",
                data_dir=f"results/data/s{S}",
                scale=1,
                ae=ae_model(S),
                train_benchmarks=[runtime_tsv("train_ae", f"{arch}-s{S}")],
            )
        )
    if b["ae_variants"] and config["ae_variants"]["size"] in b["ae_sizes"]:
        S = config["ae_variants"]["size"]
        for r in ae_variant_rows(S)[1:]:  # [0] is the native row above
            rows.append(
                dict(
                    name=r["name"],
                    data_dir=f"results/data/s{S}",
                    scale=1,
                    ae=r["ae"],
                    train_benchmarks=r["train_benchmarks"],
                )
            )
    for name in b["pipelines"]:
        opt = option_config(name)
        out = opt["ae_size"] * opt["scale"]
        if opt["scale"] == 1 or out not in config["dataset"]["sizes"]:
            continue  # no real ground truth of that size in this tile tree
        up = option_sr_model(opt) if opt["upscale"] == "sr" else opt["upscale"]
        train = [runtime_tsv("train_ae", f"{arch}-s{opt['ae_size']}")]
        if opt["upscale"] == "sr":
            train.append(
                runtime_tsv("train_sr", f"{opt['sr_net']}-x{opt['scale']}-h{opt['sr_hr']}")
            )
        rows.append(
            dict(
                name=f"{name}: AE {opt['ae_size']} + {opt['upscale']} x{opt['scale']}",
                data_dir=f"results/data/s{out}",
                scale=opt["scale"],
                ae=ae_model(opt["ae_size"]),
                upscale=up,
                train_benchmarks=train,
            )
        )
    return rows


def benchmark_inputs(wildcards):
    files = set()
    for row in benchmark_rows():
        files.add(os.path.join(row["data_dir"], "summary.json"))
        files.update(row.get("train_benchmarks", []))
        if row.get("ae"):
            files.add(row["ae"])
        if row.get("refine"):
            files.add(row["refine"]["model"])
        if row.get("upscale") not in (None, "none", "bicubic", "lanczos"):
            files.add(row["upscale"])
    return sorted(files)


def pyramid_sr_input(wildcards):
    p = config["pyramid"]
    return [sr_model(p["sr_net"], p["scale"], p["sr_hr"])] if p["upscale"] == "sr" else []


def pyramid_out_zoom():
    return config["tiles"]["zoom"] + config["pyramid"]["scale"].bit_length() - 1
