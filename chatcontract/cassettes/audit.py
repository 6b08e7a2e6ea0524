"""Auditing cassette files: every secret left in them, masked, found by the same scanners the scrubbers use.

Besides secret shapes, the audit collects every value a request of the file sent as a secret and looks for it in
every other place of the file (responses, metadata, status messages, keys VCR.py does not write).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import CassetteError
from . import secrets as _scrub
from .file import Interaction, content_type, iter_cassette_files, load_cassette, parse_cassette_text
from .recording import _header_value, _request_secrets, _scrub_response_parts, _scrub_uri
from .secrets import KnownSecrets, mask

__all__ = ["AuditFinding", "audit"]


@dataclass(frozen=True)
class AuditFinding:
    """A secret left in a cassette; ``excerpt`` is masked. Kind ``unreadable`` means the file could not be audited."""

    path: Path
    interaction: int | None
    location: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        where = f"interaction {self.interaction}: " if self.interaction is not None else ""
        return f"{self.path}: {where}{self.location}: {self.kind} {self.excerpt}"


def _interaction_hits(interaction: Interaction, known: KnownSecrets | None = None) -> list[_scrub.Hit]:
    hits: list[_scrub.Hit] = []
    request = interaction.request
    _scrub_uri(request.uri, hits, known)
    for name, values in request.headers.items():
        for value in values:
            _header_value(name, value, "request.headers", hits, response=False, known=known)
    if request.body is not None:
        _scrub.scan_body(request.body, content_type(request.headers.items()), "request.body", hits, known)
    _scrub_response_parts(list(interaction.response.headers.items()), interaction.response.body, hits, known)
    return hits


_READ = {"request": ("method", "uri", "headers", "body"), "response": ("status", "headers", "body", "status_code",
                                                                       "content")}


def _unread_parts(data: Mapping[Any, Any]) -> dict[str, Any]:
    """What of a cassette document the interaction audit does not read: extra keys, status messages ..."""
    rest = {str(k): v for k, v in data.items() if k not in ("interactions", "version", "metadata")}
    interactions = []
    for raw in data.get("interactions") or ():
        if not isinstance(raw, dict):
            interactions.append(raw)
            continue
        item = dict(raw)
        for side, read in _READ.items():
            part = raw.get(side)
            if isinstance(part, dict):
                item[side] = {k: v for k, v in part.items() if k not in read}
                for name, inner in (("status", "code"), ("body", "string")):
                    if isinstance(part.get(name), dict):
                        item[side][name] = {k: v for k, v in part[name].items() if k != inner}
        interactions.append(item)
    rest["interactions"] = interactions
    return rest


def _audit_file(path: Path) -> list[AuditFinding]:
    try:
        cassette = load_cassette(path)
    except CassetteError as exc:
        hits: list[_scrub.Hit] = []
        try:
            _scrub.scan_text(path.read_bytes().decode("utf-8", "replace"), "file text", hits)  # best effort
        except OSError:
            pass
        return [AuditFinding(path, exc.interaction, "cassette", "unreadable", str(exc)),
                *(AuditFinding(path, None, where, kind, mask(secret)) for where, kind, secret in hits)]
    known = KnownSecrets()  # every secret any request of this file sent, searched for in every other place
    for interaction in cassette.interactions:
        request = interaction.request
        known.add(*_request_secrets(request.uri, request.headers,
                                    request.json if isinstance(request.json, dict) else request.body))
    findings = [AuditFinding(path, interaction.index, where, kind, mask(secret))
                for interaction in cassette.interactions
                for where, kind, secret in _interaction_hits(interaction, known)]
    data = parse_cassette_text(path, path.read_bytes().decode("utf-8"))  # it loaded: it parses again
    hits = []
    _scrub.scan_json(dict(cassette.metadata), "metadata$", hits, known)
    _scrub.scan_json(_unread_parts(data), "cassette$", hits, known)
    return findings + [AuditFinding(path, None, where, kind, mask(secret)) for where, kind, secret in hits]


def audit(path_or_dir: str | os.PathLike[str]) -> list[AuditFinding]:
    """Secrets left in a cassette file or in every cassette under a folder, in file and interaction order.

    Reports what the scrubbers would remove: credential headers whose value is not the placeholder, secret query
    parameters, values under secret JSON keys and secret-shaped strings anywhere in bodies (SSE events too, also
    split across events, compressed bodies decoded), and every value a request of the file sent as a secret found
    anywhere else in it (an ``api-key`` echoed in a response: kind ``request-secret``), in whatever part of the
    document it sits (metadata, status messages, keys VCR.py does not write). A file that cannot be loaded
    yields an ``unreadable`` finding (with what is wrong) and the secret-shaped strings of its raw text, instead of
    stopping the audit; a path that does not exist raises :class:`CassetteError`.
    """
    if not Path(path_or_dir).exists():
        raise CassetteError(f"{path_or_dir}: no such file or folder", path=str(path_or_dir))
    return [finding for path in iter_cassette_files(path_or_dir) for finding in _audit_file(path)]
