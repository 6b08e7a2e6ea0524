"""Auditing cassette files: every secret left in them, masked, found by the same scanners the scrubbers use."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import CassetteError
from . import secrets as _scrub
from .file import Interaction, content_type, iter_cassette_files, load_cassette
from .recording import _header_value, _scrub_response_parts, _scrub_uri
from .secrets import mask

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


def _interaction_hits(interaction: Interaction) -> list[_scrub.Hit]:
    hits: list[_scrub.Hit] = []
    request = interaction.request
    _scrub_uri(request.uri, hits)
    for name, values in request.headers.items():
        for value in values:
            _header_value(name, value, "request.headers", hits, response=False)
    if request.body is not None:
        _scrub.scan_body(request.body, content_type(request.headers.items()), "request.body", hits)
    _scrub_response_parts(list(interaction.response.headers.items()), interaction.response.body, hits)
    return hits


def audit(path_or_dir: str | os.PathLike[str]) -> list[AuditFinding]:
    """Secrets left in a cassette file or in every cassette under a folder, in file and interaction order.

    Reports credential headers whose value is not the placeholder, secret query parameters, values under secret
    JSON keys and secret-shaped strings anywhere in bodies (SSE events too, also split across events), and in
    cassette metadata. A file that cannot be loaded yields one ``unreadable`` finding instead of stopping the audit;
    a path that does not exist raises :class:`CassetteError`.
    """
    if not Path(path_or_dir).exists():
        raise CassetteError(f"{path_or_dir}: no such file or folder", path=str(path_or_dir))
    findings: list[AuditFinding] = []
    for path in iter_cassette_files(path_or_dir):
        try:
            cassette = load_cassette(path)
        except CassetteError as exc:
            findings.append(AuditFinding(path, exc.interaction, "cassette", "unreadable", str(exc)))
            continue
        for interaction in cassette.interactions:
            findings += [AuditFinding(path, interaction.index, where, kind, mask(secret))
                         for where, kind, secret in _interaction_hits(interaction)]
        hits: list[_scrub.Hit] = []
        _scrub.scan_json(dict(cassette.metadata), "metadata$", hits)
        findings += [AuditFinding(path, None, where, kind, mask(secret)) for where, kind, secret in hits]
    return findings
