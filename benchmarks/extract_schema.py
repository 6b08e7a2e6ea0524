"""Extract a published chat-completion response JSON Schema from an OpenAPI document, once per dialect.

Usage::

    python3 benchmarks/extract_schema.py PATH/TO/mistral-openapi.yaml
    python3 benchmarks/extract_schema.py --openai PATH/TO/openai-openapi.yaml

Reads the published OpenAPI 3.1 document (Mistral's, linked from https://docs.mistral.ai/api/, or OpenAI's,
https://github.com/openai/openai-openapi, downloaded to a local file), takes the response schema
(Mistral: ``components.schemas.ChatCompletionResponse``; OpenAI: ``CreateChatCompletionResponse``) and every
schema it references (transitively), and writes one self-contained JSON Schema (draft 2020-12, which is OpenAPI
3.1's dialect) to ``benchmarks/schemas/mistral_chat_completion_response.json`` (or
``openai_chat_completion_response.json``):

* the root is the response schema itself; every referenced schema is bundled under ``$defs`` and each
  ``#/components/schemas/X`` reference is rewritten to ``#/$defs/X`` (no other change to the referenced schemas:
  OpenAPI-only annotations such as ``example`` and ``discriminator`` are kept; JSON Schema validators ignore them);
* Mistral only: one DEFECT of the published schema is patched: ``ChatCompletionResponse.required`` lists ``data``,
  a property that the schema does not define and that no Mistral response carries (the sibling ``ResponseBase`` /
  ``ChatCompletionResponseBase`` define ``id, object, model, usage, created``). Taken literally, every real
  response would fail validation, so ``data`` is removed from ``required``. OpenAI's is taken as published
  (openai/openai-openapi, ``openapi.yaml``).

The benchmark reads only the extracted JSON files, so it runs without the OpenAPI documents. Re-run this script
when a spec changes and commit the regenerated file.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parent / "schemas" / "mistral_chat_completion_response.json"
ROOT = "ChatCompletionResponse"
OPENAI_OUT = Path(__file__).resolve().parent / "schemas" / "openai_chat_completion_response.json"
OPENAI_ROOT = "CreateChatCompletionResponse"
PREFIX = "#/components/schemas/"


def _refs(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out.append(value)
            else:
                out.extend(_refs(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(_refs(value))
    return out


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: ("#/$defs/" + v[len(PREFIX) :] if k == "$ref" and isinstance(v, str) else _rewrite(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def extract(spec: dict[str, Any], root_name: str = ROOT) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    order: list[str] = []
    todo = [root_name]
    while todo:
        name = todo.pop(0)
        if name in order:
            continue
        order.append(name)
        for ref in _refs(schemas[name]):
            if not ref.startswith(PREFIX):
                raise SystemExit(f"unexpected non-local $ref {ref!r} in {name}")
            todo.append(ref[len(PREFIX) :])

    root = copy.deepcopy(schemas[root_name])
    if root_name != ROOT:
        return _bundle(root, schemas, order, root_name, f"OpenAI {root_name}", "")
    # --- the one patch -----------------------------------------------------------------------------------------
    # The published ChatCompletionResponse requires "data", which no schema in the allOf defines and no response
    # contains (a copy-paste from the list/embedding responses). Remove it; everything else is as published.
    patched = 0
    for part in root.get("allOf", []):
        req = part.get("required")
        if isinstance(req, list) and "data" in req:
            part["required"] = [r for r in req if r != "data"]
            patched += 1
    if patched != 1:
        raise SystemExit(f"expected exactly one 'required' list naming 'data' in {ROOT}; found {patched}")
    # -----------------------------------------------------------------------------------------------------------

    patch = " PATCHED: 'data' removed from required (the spec requires a property it never defines)."
    return _bundle(root, schemas, order, ROOT, f"Mistral {ROOT}", patch)


def _bundle(
    root: dict[str, Any], schemas: dict[str, Any], order: list[str], name: str, title: str, patch: str
) -> dict[str, Any]:
    bundled: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": (
            f"{title}, extracted by benchmarks/extract_schema.py from the published OpenAPI document "
            f"(components/schemas/{name} and its references, bundled under $defs).{patch}"
        ),
    }
    bundled.update(_rewrite(root))
    bundled["$defs"] = {n: _rewrite(schemas[n]) for n in order if n != name}
    return bundled


def main(argv: list[str]) -> int:
    openai = "--openai" in argv
    args = [a for a in argv[1:] if a != "--openai"]
    if len(args) != 1:
        which = "openai-openapi.yaml (OpenAI's" if openai else "mistral-openapi.yaml (Mistral's"
        print(f"usage: {Path(argv[0]).name} [--openai] PATH/TO/{which} published OpenAPI document)", file=sys.stderr)
        return 2
    spec_path = Path(args[0])
    raw = spec_path.read_bytes()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(raw, Loader=loader)  # noqa: S506 - a safe loader
    schema = extract(spec, OPENAI_ROOT if openai else ROOT)
    schema["$comment"] += f" Source sha256: {hashlib.sha256(raw).hexdigest()}."
    out = OPENAI_OUT if openai else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(schema['$defs'])} referenced schemas bundled under $defs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
