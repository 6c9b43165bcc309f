# Generation, the named targets, the comparison table, the super-resolved pyramid, and `all`.


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
    """Row specs for rockzoom.benchmark (paths derive from config, so this is a plain param)."""
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
        files.add(row["data_dir"] + "/summary.json")
        files.update(row.get("train_benchmarks", []))
        if row.get("ae"):
            files.add(row["ae"])
        if row.get("upscale") not in (None, "none", "bicubic", "lanczos"):
            files.add(row["upscale"])
    return sorted(files)


def pyramid_sr_input(wildcards):
    p = config["pyramid"]
    return [sr_model(p["sr_net"], p["scale"], p["sr_hr"])] if p["upscale"] == "sr" else []


def pyramid_out_zoom():
    return config["tiles"]["zoom"] + config["pyramid"]["scale"].bit_length() - 1


rule generate:
    input:
        unpack(generate_inputs),
    output:
        samples=directory("results/generated/{option}/samples"),
        sheet=report(
            "results/generated/{option}/contact_sheet.png",
            caption="../report/contact_sheet.rst",
            category="Generated samples",
            labels={"option": "{option}"},
        ),
        provenance="results/generated/{option}/provenance.json",
    params:
        option=lambda w: option_config(w.option),
        generate=config["generate"],
        seed=config["seed"],
    log:
        "logs/generate/{option}.log",
    benchmark:
        runtime_tsv("generate", "{option}")
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/generate.py"


rule benchmark_table:
    input:
        benchmark_inputs,
    output:
        table=report(
            "results/benchmark/table.csv",
            caption="../report/benchmark_table.rst",
            category="Benchmark",
            labels={"what": "table (csv)"},
        ),
        markdown="results/benchmark/table.md",
        psnr=report(
            "results/benchmark/psnr.png",
            caption="../report/benchmark_psnr.rst",
            category="Benchmark",
            labels={"what": "PSNR with 95% CI"},
        ),
        spectrum=report(
            "results/benchmark/spectrum.png",
            caption="../report/benchmark_spectrum.rst",
            category="Benchmark",
            labels={"what": "power spectra"},
        ),
        crops=report(
            "results/benchmark/crops.png",
            caption="../report/benchmark_crops.rst",
            category="Benchmark",
            labels={"what": "crops"},
        ),
        machine="results/benchmark/machine.json",
    params:
        rows=benchmark_rows(),
        max_images=config["benchmark"]["max_images"],
        seed=config["seed"],
    log:
        "logs/benchmark.log",
    benchmark:
        runtime_tsv("benchmark", "table")
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/benchmark.py"


rule upscale_pyramid:
    input:
        index="results/tiles/index.csv",
        sr=pyramid_sr_input,
    output:
        tiles=directory(f"results/pyramid/z{pyramid_out_zoom()}"),
    params:
        pyramid=config["pyramid"],
        tile_dir=tile_dir(),
        zoom=config["tiles"]["zoom"],
        scheme=config["tiles"]["scheme"],
    log:
        "logs/upscale_pyramid.log",
    benchmark:
        runtime_tsv("upscale_pyramid", "z{}".format(pyramid_out_zoom()))
    threads: workflow.cores
    resources:
        gpu=config["sr"]["gpus"],
        mem_mb=3000,
        runtime=60,
    script:
        "../scripts/upscale_pyramid.py"


rule immediate:
    input:
        "results/generated/immediate/provenance.json",


rule option_a:
    input:
        "results/generated/option_a/provenance.json",


rule option_b:
    input:
        "results/generated/option_b/provenance.json",


rule option_c:
    input:
        "results/generated/option_c/provenance.json",


rule benchmark:
    input:
        "results/benchmark/table.md",


rule pyramid:
    input:
        f"results/pyramid/z{pyramid_out_zoom()}",


rule all:
    input:
        expand("results/generated/{option}/provenance.json", option=config["options"]),
        "results/benchmark/table.md",
        f"results/pyramid/z{pyramid_out_zoom()}",
        all_datasets(),
        [ae_eval(S) for S in config["benchmark"]["ae_sizes"]],
        [c for S in config["benchmark"]["ae_sizes"] for c in ae_sample_checks(S)],
        sr_eval_outputs(),
    default_target: True
