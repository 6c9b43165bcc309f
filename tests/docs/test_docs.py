"""The README and docs/ name only things that exist: every `snakemake` target (a rule, or a file some rule makes),
every `rockzoom` verb, every config key (in the schema), every config file, benchmark script and linked file; and
every benchmark script is named on a docs page."""
from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FILE_SUFFIXES = {"py", "md", "csv", "png", "json", "yaml", "yml", "smk", "pt", "npy", "tsv", "tif", "tiff", "xml",
                 "sh", "zip", "txt", "log", "rst", "html", "jpg", "webp"}
SHELL_BREAKS = {"&&", "||", "|", ";", ">", ">>", "2>&1"}


def code_texts(text: str) -> list[str]:
    """Fenced code blocks (line by line) and inline code spans (a span wrapped over lines joined) of a page."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    lines = [line for block in fenced for line in block.splitlines()]
    return lines + [span.replace("\n", " ") for span in re.findall(r"`([^`]+)`", prose)]  # spans may wrap


def commands(code: str, program: str) -> list[list[str]]:
    """The argument lists of every `program ...` in a piece of code, up to a shell operator or a comment."""
    found = []
    for m in re.finditer(rf"(?<![\w./-]){program}(?=\s|$)", code):
        try:
            words = shlex.split(code[m.end():], comments=True)
        except ValueError:
            words = code[m.end():].split()
        args = []
        for w in words:
            if w in SHELL_BREAKS:
                break
            args.append(w)
        found.append(args)
    return found


def placeholder(word: str) -> bool:
    return "<" in word or "…" in word or "..." in word


def all_code() -> dict[str, list[str]]:
    return {p.relative_to(REPO).as_posix(): code_texts(p.read_text()) for p in PAGES}


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """The workflow's rules, parsed from the Snakefile with the default config."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        wf = api.workflow(resource_settings=ResourceSettings(cores=2),
                          config_settings=ConfigSettings(configfiles=[REPO / "config" / "config.yaml"]),
                          snakefile=REPO / "Snakefile", workdir=tmp_path_factory.mktemp("docs"))
        return list(wf._workflow.rules)


def test_every_snakemake_target_is_a_rule_or_a_file_a_rule_makes(rules):
    from snakemake.cli import get_argument_parser

    names = {r.name for r in rules}
    parser = get_argument_parser()
    bad, seen = [], 0
    for page, codes in all_code().items():
        for code in codes:
            for args in commands(code, "snakemake"):
                args = [a for a in args if not placeholder(a)]
                try:
                    with contextlib.redirect_stderr(io.StringIO()):
                        parsed = parser.parse_args(args)
                except SystemExit:
                    bad.append(f"{page}: unparsable `snakemake {' '.join(args)}`")
                    continue
                for target in [*parsed.targets, *(parsed.until or [])]:
                    seen += 1
                    if target not in names and not any(r.is_producer(target) for r in rules):
                        bad.append(f"{page}: `snakemake {' '.join(args)}`: no rule makes {target!r}")
                for cf in parsed.configfile or []:
                    cf = cf.as_posix()
                    if cf.startswith("config/") and not (REPO / cf).exists() or not cf.endswith((".yaml", ".yml")):
                        bad.append(f"{page}: `snakemake {' '.join(args)}`: config file {cf!r} (a target after "
                                   "--configfile is read as a config file)")
    assert not bad, "\n".join(bad)
    assert seen > 10  # the pages do name targets: the search found them


def test_every_rockzoom_verb_exists():
    from rockzoom.cli import build_parser

    verbs = set(build_parser()._subparsers._group_actions[0].choices)
    named = {(page, args[0]) for page, codes in all_code().items() for code in codes
             for args in commands(code, "rockzoom") if args and re.fullmatch(r"[a-z][a-z-]*", args[0])}
    assert len(named) > 3
    assert not [f"{page}: rockzoom {verb}" for page, verb in named if verb not in verbs]


class Schema:
    """Key paths of the config schema ($ref and allOf followed; an open object accepts any key), and every key name
    of the schema and of the packaged defaults (for a key named on its own, as `lock: 16`)."""

    def __init__(self, path: Path, defaults: Path):
        self.doc = yaml.safe_load(path.read_text())
        self.all_names: set[str] = {p[-1] for p in key_paths(yaml.safe_load(defaults.read_text()))}
        self._collect(self.doc)

    def _collect(self, node):
        if isinstance(node, dict):
            self.all_names.update(node.get("properties", {}))
            for v in node.values():
                self._collect(v)
        elif isinstance(node, list):
            for v in node:
                self._collect(v)

    def _resolve(self, node: dict) -> dict:
        while "$ref" in node:
            target = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        for sub in node.get("allOf", []):
            sub = self._resolve(sub)
            node = {**node, "properties": {**node.get("properties", {}), **sub.get("properties", {})},
                    "additionalProperties": node.get("additionalProperties", sub.get("additionalProperties", True))}
        return node

    def has(self, keys: list[str]) -> bool:
        node = self._resolve(self.doc)
        for key in keys:
            props = node.get("properties", {})
            if key in props:
                node = self._resolve(props[key])
            elif isinstance(node.get("additionalProperties"), dict):
                node = self._resolve(node["additionalProperties"])
            else:  # an open object takes any key (its keywords are checked elsewhere, e.g. against a signature)
                return node.get("additionalProperties", True) is not False
        return True

    @property
    def top(self) -> set[str]:
        return set(self.doc["properties"])


def key_paths(mapping: dict, prefix=()) -> list[tuple[str, ...]]:
    out = []
    for k, v in mapping.items():
        out.append((*prefix, str(k)))
        if isinstance(v, dict):
            out += key_paths(v, (*prefix, str(k)))
    return out


def config_keys(code: str, schema: Schema) -> list[tuple[tuple[str, ...], bool]]:
    """(key path, rooted) pairs named by a code span or line: a dotted key (`sr.train.lr_source`, optionally with
    `: value`), a YAML mapping (`tiles: {dir: …}`, or in a printf of an overlay); rooted = starts at the top level."""
    found = []
    for m in re.finditer(r"printf '([^']*)'", code):
        loaded = yaml.safe_load(m.group(1).replace("\\n", "\n"))
        if isinstance(loaded, dict):
            found += [(p, True) for p in key_paths(loaded)]
    if found:
        return found
    m = re.fullmatch(r"([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)+)(?::\s.*)?", code.strip())
    if m:
        parts = m.group(1).split(".")
        if parts[0] in schema.top and parts[-1] not in FILE_SUFFIXES:
            return [(tuple(parts), True)]
        return []
    if re.fullmatch(r"[a-z_][a-z0-9_]*:\s+\S.*", code.strip()):
        try:
            loaded = yaml.safe_load(code.strip())
        except yaml.YAMLError:
            return []
        if isinstance(loaded, dict):
            rooted = next(iter(loaded)) in schema.top
            return [(p, rooted) for p in key_paths(loaded)]
    return []


def test_every_config_key_named_is_in_the_schema():
    config = REPO / "src" / "rockzoom" / "config"
    schema = Schema(config / "schema.yaml", config / "defaults.yaml")
    bad, seen = [], 0
    for page, codes in all_code().items():
        for code in codes:
            for path, rooted in config_keys(code, schema):
                seen += 1
                ok = schema.has(list(path)) if rooted else path[-1] in schema.all_names or schema.has(list(path))
                if not ok:
                    bad.append(f"{page}: `{code}` names {'.'.join(path)!r}, not in the schema")
    assert not bad, "\n".join(bad)
    assert seen > 20


def test_every_linked_file_and_named_script_exists():
    bad = []
    for page in PAGES:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                bad.append(f"{page.name}: link to missing {target}")
            elif anchor and file.suffix == ".md" and anchor not in headings(file):
                bad.append(f"{page.name}: link to missing heading {target}")
        for script in re.findall(r"(?<![\w/])((?:benchmarks|tools)/[\w./-]+\.(?:py|sh|csv))", text):
            if not (REPO / script).exists():
                bad.append(f"{page.name}: names missing {script}")
    assert not bad, "\n".join(bad)


def headings(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings."""
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.*)$", page.read_text(), flags=re.M)}


def test_every_benchmark_script_is_named_on_a_docs_page():
    text = "\n".join(p.read_text() for p in PAGES)
    scripts = [p for p in (REPO / "benchmarks").iterdir() if p.is_file() and p.suffix in {".py", ".sh", ".csv"}]
    assert scripts
    assert not [p.name for p in scripts if f"benchmarks/{p.name}" not in text]
