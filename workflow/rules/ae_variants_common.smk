# Helpers for ae_variants.smk (the linter wants functions apart from rules): progressive chains and multi-scale AEs.


def _variants():
    return config.get("ae_variants", {})


def progressive_names():
    return sorted(_variants().get("progressive", {}))


def multiscale_names():
    return sorted(_variants().get("multiscale", {}))


def _names_regex(names):
    return (
        "|".join(names) if names else "(?!)"
    )  # (?!) matches nothing: no variant, no competing rule


def _check_ae_variants(cfg):
    """Checks JSON Schema cannot express; at parse time, so a bad chain fails before any job."""
    v = cfg.get("ae_variants", {})
    archs = set(cfg["ae"]["archs"])
    prog, ms = set(v.get("progressive", {})), set(v.get("multiscale", {}))
    clash = (prog & archs) | (ms & archs) | (prog & ms)
    if clash:
        raise WorkflowError(
            f"config key ae_variants: names {sorted(clash)} are used twice (ae.archs, ae_variants.progressive and "
            "ae_variants.multiscale share the {arch} namespace of results/ae/{arch}-s{S}/)"
        )
    for name, chain in v.get("progressive", {}).items():
        where = f"config key ae_variants.progressive.{name}"
        sizes = chain["sizes"]
        if chain["base"] not in archs:
            raise WorkflowError(
                f"{where}.base: no ae.archs entry {chain['base']!r} (available: {sorted(archs)})"
            )
        if len(chain["steps"]) != len(sizes):
            raise WorkflowError(
                f"{where}.steps: one entry per stage size {sizes} needed, got {chain['steps']}"
            )
        grids = chain.get("token_grids")
        if grids is not None and len(grids) != len(sizes):
            raise WorkflowError(
                f"{where}.token_grids: one entry per stage size {sizes} needed, got {grids}"
            )
        for a, b in zip(sizes, sizes[1:]):
            if b <= a or b % a:
                raise WorkflowError(
                    f"{where}.sizes: {sizes} must grow, each a multiple of the one before"
                )
    for name, ms_cfg in v.get("multiscale", {}).items():
        levels = len(ms_cfg["model"]["channels"])
        if len(ms_cfg["level_weights"]) != levels:
            raise WorkflowError(
                f"config key ae_variants.multiscale.{name}.level_weights: {ms_cfg['level_weights']} needs one weight "
                f"per level ({levels} channels entries), coarsest first"
            )


_check_ae_variants(config)


def progressive_chain(name):
    chains = _variants().get("progressive", {})
    if name not in chains:
        raise WorkflowError(
            f"config key ae_variants.progressive: no chain {name!r} (available: {sorted(chains)})"
        )
    return chains[name]


def progressive_stage_index(name, S):
    sizes = progressive_chain(name)["sizes"]
    if int(S) not in sizes:
        raise WorkflowError(
            f"config key ae_variants.progressive.{name}.sizes: {S} is not a stage size (stages: {sizes})"
        )
    return sizes.index(int(S))


def progressive_stage_model(name, S):
    return f"results/ae_progressive/{name}/s{S}/model.pt"


def progressive_stage_inputs(wildcards):
    i = progressive_stage_index(wildcards.name, wildcards.S)
    chain = progressive_chain(wildcards.name)
    data_size = (
        chain["sizes"][-1] if chain["stage_data"] == "downsampled" else wildcards.S
    )
    inputs = {"summary": dataset_summary(data_size)}
    if i > 0:
        prev = progressive_chain(wildcards.name)["sizes"][i - 1]
        inputs["init"] = progressive_stage_model(wildcards.name, prev)
    return inputs


def progressive_stage_config(wildcards):
    """The resolved settings of one stage: the base arch with this stage's steps (and token grid), plus the fade."""
    chain = progressive_chain(wildcards.name)
    i = progressive_stage_index(wildcards.name, wildcards.S)
    base = config["ae"]["archs"][chain["base"]]
    stage = {
        **base,
        "model": dict(base["model"]),
        "engine": {**base["engine"], "steps": chain["steps"][i]},
    }
    if chain.get("token_grids"):
        stage["model"]["token_grid"] = chain["token_grids"][i]
    stage["fade_images"] = chain["fade_images"] if i > 0 else 0
    stage["size"] = int(wildcards.S)
    return stage


def progressive_runtimes(name, S=None):
    """Benchmark TSVs of every stage up to size S (the chain's training time)."""
    sizes = progressive_chain(name)["sizes"]
    upto = sizes if S is None else sizes[: progressive_stage_index(name, S) + 1]
    return [runtime_tsv("train_ae_progressive", f"{name}-s{s}") for s in upto]


def multiscale_config(wildcards):
    models = _variants().get("multiscale", {})
    if wildcards.arch not in models:
        raise WorkflowError(
            f"config key ae_variants.multiscale: no model {wildcards.arch!r} (available: {sorted(models)})"
        )
    return models[wildcards.arch]


def ae_variant_rows(S):
    """Rows of the variant comparison at size S: the native arch, each progressive chain ending at S, each multi-scale
    model; with the checkpoint, the training-time TSVs and the images seen in training.
    """
    native = config["ae"]["arch"]
    engine = config["ae"]["archs"][native]["engine"]
    rows = [
        dict(
            name=f"native {S} ({native})",
            ae=ae_model(S, native),
            train_benchmarks=[runtime_tsv("train_ae", f"{native}-s{S}")],
            images_seen=engine["steps"] * engine["batch_size"],
        )
    ]
    for name in progressive_names():
        chain = progressive_chain(name)
        if chain["sizes"][-1] != int(S):
            continue
        batch = config["ae"]["archs"][chain["base"]]["engine"]["batch_size"]
        rows.append(
            dict(
                name=f"progressive {'->'.join(map(str, chain['sizes']))} ({name})",
                ae=ae_model(S, name),
                train_benchmarks=progressive_runtimes(name, S),
                images_seen=sum(chain["steps"]) * batch,
            )
        )
    for name in multiscale_names():
        ms = _variants()["multiscale"][name]
        rows.append(
            dict(
                name=f"multi-scale {S} ({name})",
                ae=ae_model(S, name),
                train_benchmarks=[runtime_tsv("train_ae_multiscale", f"{name}-s{S}")],
                images_seen=ms["engine"]["steps"] * ms["engine"]["batch_size"],
            )
        )
    return rows


def ae_variant_inputs(wildcards):
    files = {dataset_summary(wildcards.S)}
    for row in ae_variant_rows(wildcards.S):
        files.add(row["ae"])
        files.update(row["train_benchmarks"])
    return sorted(files)


def ae_variant_products():
    """What `snakemake ae_variants` builds: every variant's model with its downstream products (test evaluation,
    prior, checked samples), the multi-scale per-level outputs, and the comparison with the native AE.
    """
    S = _variants().get("size", 512)
    files = [f"results/ae_variants/s{S}/comparison.md"]
    for name in progressive_names():
        files += ae_products(progressive_chain(name)["sizes"][-1], name)
    for name in multiscale_names():
        files += ae_products(S, name)
        files.append(f"results/ae_levels/{name}-s{S}/levels.json")
    return files
