"""MkDocs hook (mkdocs.yml `hooks:`): writes the site's reference pages at build time, from the
files that define what they describe, so none of them is kept by hand:

  reference/questions.md       copier.yml (rendered through resolver/extension.py, as Copier does)
  reference/features.md        features/src/*/devcontainer-feature.json
  reference/support-matrix.md  data/versions.yml
  reference/env-doctor.md      env-doctor's exit codes (env_doctor/common.py) and JSON schema
                               (features/src/env-doctor/*.schema.json where one exists, else the
                               schema section of docs/env-doctor.md)

`mkdocs build --strict` fails when a source disagrees with what the pages promise (an exit code
documented in docs/env-doctor.md that env-doctor does not have, for example).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import yaml
from env_doctor import common  # the env-doctor distribution, installed editable with the docs tools
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from resolver import answers, extension, features, images
from resolver.questions import Questions, placeholders
from resolver.questions import computed as is_computed
from resolver.versions import version_key

ROOT = Path(__file__).resolve().parents[2]

FEATURES = ROOT / "features/src"
GENERATED = "<!-- Generated at build time by docs/plugins/reference.py from {source}: edit that, not this page. -->\n\n"


def cell(value) -> str:
    """A value in a Markdown table cell."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value) if value else "—"
    return f"`{value}`".replace("|", "\\|")


def prose(text: str) -> str:
    """Text in a Markdown table cell: one line, and outside `code spans` '<', '>' and '&' as HTML
    entities, so that a placeholder such as ghcr.io/<owner>/<repo> shows instead of being taken
    for an HTML tag (code spans escape their own)."""
    parts = re.split(r"(`[^`]*`)", " ".join(str(text).split()))
    escaped = "".join(part if index % 2 else html.escape(part, quote=False) for index, part in enumerate(parts))
    return escaped.replace("|", "\\|")


# --- questions ------------------------------------------------------------------------------------

def defined_in(function: str) -> str:
    """The file of resolver/ that defines a validator copier.yml names."""
    module = next(module for module in (answers, images, features, extension) if hasattr(module, function))
    return f"resolver/{module.__name__.rsplit('.', 1)[-1]}.py"


def questions_page() -> str:
    versions = extension.versions
    model = Questions()
    questions = model.all
    frameworks = [f for f in versions.load()["frameworks"]]
    answers_in, render = model.answers_in, model.render

    def choices_of(key: str, question: dict) -> str:
        choices = question.get("choices")
        if choices is None:
            return "free answer" if question.get("type", "str") == "str" else f"any {question['type']}"
        if isinstance(choices, dict):
            return "<br>".join(f"{cell(value)} ({prose(label)})" for label, value in extension.choice_pairs(choices))

        def values(**answers) -> list:
            return [value for _, value in extension.choice_pairs(json.loads(render(choices, **answers)))]

        needs = answers_in(choices)
        if not needs:
            return cell(values())
        if "framework" in needs:  # one list per framework, the other answers they follow at their defaults
            follows = sorted(needs - {"framework", key})
            lists = "<br>".join(f"{f}: {cell(values(**{**defaults, 'framework': f}))}" for f in frameworks)
            shown_for = ", ".join(f"`{a}={defaults[a]}`" for a in follows)
            return lists + (f"<br>(shown for the defaults {shown_for}; the list follows the answers)" if follows else "")
        raise PluginError(f"copier.yml: choices depending on {sorted(needs)}: teach docs/plugins/reference.py")

    lines = [GENERATED.format(source="copier.yml"), "# Questions\n",
             "Every question of `copier.yml`, in the order asked. Give any answer up front with "
             "`copier copy --data key=value` (or `cookiecutter ... key=value`); the key is a public "
             "interface. Answers are checked before anything is written: a refused one names what "
             "would work.\n",
             "| key | type | default | choices | asked when | help |", "|---|---|---|---|---|---|"]
    defaults: dict = {}  # each default as Copier computes it when every earlier answer is the default
    for key, question in questions.items():
        default = question.get("default")
        defaults[key] = render(default, **defaults) if isinstance(default, str) else default

    def default_of(key: str) -> str:
        """The default as Copier computes it (a templated one rendered), and which answers it follows."""
        default = questions[key].get("default")
        if isinstance(default, str) and answers_in(default):
            return f"{cell(defaults[key])}, from {', '.join(f'`{a}`' for a in sorted(answers_in(default)))}"
        return cell(defaults[key])

    computed = []
    for key, question in questions.items():
        if is_computed(question):
            computed.append((key, question))
            continue
        help_text = placeholders(question.get("help", ""))
        when = question.get("when")
        when_text = prose(str(when).strip("{} ")) if isinstance(when, str) else "always"
        validator = re.sub(r"[{}\s]", "", question.get("validator", "")).split("(")[0]
        validated = f"<br>Checked by `{validator}` in `{defined_in(validator)}`." if validator else ""
        lines.append(f"| `{key}` | {question.get('type', 'str')} | {default_of(key)} | {choices_of(key, question)} "
                     f"| {when_text} | {prose(help_text)}{validated} |")
    if computed:
        lines += ["", "Computed, never asked:", ""]
        lines += [f"- `{key}`: {default_of(key)}" for key, _ in computed]
    return "\n".join(lines) + "\n"


# --- feature options ------------------------------------------------------------------------------

def features_page() -> str:
    lines = [GENERATED.format(source="features/src/*/devcontainer-feature.json"), "# Feature options\n",
             "Our devcontainer features, usable from any `devcontainer.json`; a generated project "
             "sets these options in `.devcontainer/devcontainer.json`.\n"]
    for path in sorted(FEATURES.glob("*/devcontainer-feature.json")):
        spec = json.loads(path.read_text())
        lines += [f"## `{spec['id']}` {spec['version']}: {spec.get('name', spec['id'])}\n",
                  prose(spec.get("description", "")) + "\n"]
        if spec.get("installsAfter"):
            lines.append(f"Installs after: {cell(spec['installsAfter'])}.\n")
        options = spec.get("options", {})
        if not options:
            lines.append("No options.\n")
            continue
        lines += ["| option | type | default | proposals | description |", "|---|---|---|---|---|"]
        for name, option in options.items():
            values = option.get("enum") or option.get("proposals")
            lines.append(f"| `{name}` | {option.get('type', '')} | {cell(option.get('default'))} "
                         f"| {cell(values)} | {prose(option.get('description', ''))} |")
        lines.append("")
    return "\n".join(lines)


# --- support matrix -------------------------------------------------------------------------------

def support_matrix_page() -> str:
    data = yaml.safe_load((ROOT / "data/versions.yml").read_text())
    cuda = data["cuda"]["releases"]
    compat = data["cuda"]["minor_compat_min_driver"]

    pythons = data["python"]["project"]

    def full(version: str) -> str:
        if "." not in version:  # the wheel takes any release of the major: the lock picks one
            return f"{version}.x: [per release](#cuda-releases)"
        return f"{version}: {cuda[version]['min_driver']}"

    def floor(version: str) -> str:
        return f"{version}: {compat[version.split('.', maxsplit=1)[0]]}"

    lines = [GENERATED.format(source="data/versions.yml"), "# Support matrix\n",
             f"Pythons a project can choose: {cell(pythons)}. Each framework release the template "
             "knows, with those of its Pythons a project can choose, the CUDA releases its wheels "
             "are built for, and the oldest NVIDIA driver on the host for each CUDA: for full "
             "support, and with CUDA's minor-version compatibility (runs, without PTX from a newer "
             "toolkit). `framework_version=latest` picks the newest row that lists your Python.\n"]
    for framework, spec in data["frameworks"].items():
        releases = sorted(spec["releases"], key=version_key, reverse=True)
        lines += [f"## {framework}\n", f"`pyproject.toml` gets {cell(spec['requirement']['cuda'])} "
                  f"(CUDA) or {cell(spec['requirement']['cpu'])} (CPU).\n",
                  "| release | Python | CUDA | driver, full support | driver, minor-version compatibility "
                  "| cuDNN | GPU compute capability |",
                  "|---|---|---|---|---|---|---|"]
        for version in releases:
            release = spec["releases"][version]
            cudas = sorted(release.get("cuda", []), key=version_key, reverse=True)
            compute = release.get("compute")
            lines.append(f"| {version} | {cell([p for p in release.get('python', []) if p in pythons])} "
                         f"| {cell(cudas)} | {'<br>'.join(map(full, cudas)) or '—'} | {'<br>'.join(map(floor, cudas)) or '—'} "
                         f"| {cell(release.get('cudnn'))} | {' to '.join(compute) if compute else '—'} |")
        lines.append("")
    lines += ["## CUDA releases\n",
              "| CUDA | minimum driver, full support | minor-version compatibility | cuda feature wheel |",
              "|---|---|---|---|"]
    for version in sorted(cuda, key=version_key, reverse=True):
        lines.append(f"| {version} | {cuda[version]['min_driver']} | {compat.get(version.split('.')[0], '—')} "
                     f"| {cell(cuda[version].get('runtime_wheel'))} |")
    return "\n".join(lines) + "\n"


# --- env-doctor -----------------------------------------------------------------------------------

def section(markdown: str, heading: str) -> str:
    """The body of a `## heading` section (up to the next `## `)."""
    match = re.search(rf"^## {re.escape(heading)}.*?\n(.*?)(?=^## |\Z)", markdown, re.S | re.M)
    if not match:
        raise PluginError(f"docs/env-doctor.md has no '## {heading}' section")
    return match[1].strip() + "\n"


def schema_type(prop: dict) -> str:
    """A property's type in words: "string or null", "lockfile" (a $defs name), "array of gpu"."""
    if "$ref" in prop:
        return f"`{prop['$ref'].rsplit('/', 1)[-1]}`"
    if "anyOf" in prop or "oneOf" in prop:
        return " or ".join(schema_type(p) for p in prop.get("anyOf", prop.get("oneOf")))
    kind = prop.get("type", "")
    kinds = kind if isinstance(kind, list) else [kind]
    if "array" in kinds and isinstance(prop.get("items"), dict):
        kinds = [f"array of {schema_type(prop['items'])}" if k == "array" else k for k in kinds]
    return " or ".join(kinds)


def schema_properties(schema: dict, prefix: str = "") -> list[str]:
    rows = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        rows.append(f"| `{prefix}{name}` | {schema_type(prop)} | {'yes' if name in required else ''} "
                    f"| {prose(prop.get('description', ''))} |")
        if prop.get("type") == "object":
            rows += schema_properties(prop, f"{prefix}{name}.")
    return rows


def schema_tables(schema: dict) -> list[str]:
    """One table per document the schema describes (its top-level oneOf of $defs), then the $defs."""
    header = ["| key | type | required | description |", "|---|---|---|---|"]
    defs = schema.get("$defs", {})
    if not defs:
        return [*header, *schema_properties(schema), ""]
    lines = []
    for name, definition in defs.items():
        if definition.get("properties"):
            lines += [f"#### `{name}`\n", *header, *schema_properties(definition), ""]
    return lines


def env_doctor_page() -> str:
    docs = (ROOT / "docs/env-doctor.md").read_text()
    codes = {value: name for name, value in vars(common).items() if name.startswith("EXIT_")}
    exit_section = section(docs, "Exit codes")
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", exit_section, re.M)}
    if documented != set(codes):
        raise PluginError(f"docs/env-doctor.md documents exit codes {sorted(documented)}, "
                          f"env_doctor/common.py defines {sorted(codes)}")
    lines = [GENERATED.format(source="env-doctor's code (env_doctor/common.py) and schema"),
             "# env-doctor: exit codes and JSON schema\n",
             f"Report and snapshot `schema_version`: **{common.SCHEMA_VERSION}**. Check statuses, mildest "
             f"first: {cell(common.STATUS_ORDER)}; {cell(sorted(common.PROBLEMS))} count as problems.\n",
             "## Exit codes\n", "| code | constant in `env_doctor/common.py` |", "|---|---|"]
    lines += [f"| {value} | `{name}` |" for value, name in sorted(codes.items())]
    lines += ["", "What each code means per command:", "", exit_section]
    schemas = sorted((FEATURES / "env-doctor").glob("*.schema.json"))
    lines.append("## JSON schema\n")
    if schemas:
        for path in schemas:
            schema = json.loads(path.read_text())
            lines += [f"### {schema.get('title', path.name)} (`{path.name}`)\n",
                      prose(schema.get("description", "")) + "\n",
                      *schema_tables(schema),
                      f"??? note \"{path.name}\"\n", "    ```json",
                      *("    " + line for line in json.dumps(schema, indent=2).splitlines()), "    ```", ""]
    else:
        lines += ["env-doctor ships no JSON Schema file yet; this is the schema as "
                  "[the env-doctor page](../env-doctor.md) documents it.\n",
                  re.sub(r"^###", "###", section(docs, "JSON schema"), flags=re.M)]
    return "\n".join(lines) + "\n"


PAGES = {
    "reference/questions.md": questions_page,
    "reference/features.md": features_page,
    "reference/support-matrix.md": support_matrix_page,
    "reference/env-doctor.md": env_doctor_page,
}


def on_files(files: Files, config) -> Files:
    for path, make in PAGES.items():
        files.append(File.generated(config, path, content=make()))
    return files
