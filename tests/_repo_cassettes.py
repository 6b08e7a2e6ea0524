"""Helpers shared by ``test_repo_cassettes.py`` (the committed cassettes) and ``test_record_cassettes.py``."""

from __future__ import annotations

from pathlib import Path

from chatcontract.cassettes import Interaction, iter_cassette_files, load_cassette
from chatcontract.cassettes.check import CassetteSettings, InteractionResult, check_interaction

REPO = Path(__file__).resolve().parent.parent
CASSETTES = REPO / "cassettes"


def settings(provider: str) -> CassetteSettings:
    """Every rule, OpenAI dialect, no expectations: the raw findings, independent of any configuration."""
    return CassetteSettings(dialect="openai", select=("ALL",), provider=provider)


def relpaths(folder: Path) -> list[str]:
    """The cassettes under ``folder`` as ``provider/name.yaml``."""
    return [p.relative_to(folder).as_posix() for p in iter_cassette_files(folder)]


def check_cassette(path: Path) -> list[tuple[Interaction, InteractionResult]]:
    """Each chat interaction of a cassette with its check (the provider is the cassette's folder name)."""
    cassette = load_cassette(path)
    return [(it, check_interaction(it, settings(path.parent.name))) for it in cassette.interactions if it.is_chat]


def codes_by_cassette(folder: Path) -> dict[str, set[str]]:
    """``{"llamacpp/n2.yaml": {"CC101", "CC401"}, ...}``: every finding's code (errors and warnings) per cassette."""
    out: dict[str, set[str]] = {}
    for path in iter_cassette_files(folder):
        codes = {v.code for _, result in check_cassette(path) for v in result.report.violations}
        out[path.relative_to(folder).as_posix()] = codes
    return out
