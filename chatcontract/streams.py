"""Checking streamed chat completions (SSE) incrementally, and assembling them into one response.

A :class:`StreamChecker` is fed bytes as they arrive (``feed``) and returns a :class:`~chatcontract.Report` on
``close``. Per SSE event it checks the chunk against the dialect's chunk contract (CC1xx, with the event index);
across events it checks the sequence (CC3xx: ``[DONE]``, roles, finish reasons, usage, errors, tool-call
fragments); at the end it assembles the equivalent non-stream response and runs the response rules on it (CC2xx,
CC4xx, with ``event=None`` and paths into the assembled response). Memory is bounded by the largest event plus
the assembly (the joined content and tool calls).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jiter
from pydantic import ValidationError

from . import _accel
from .inputs import Finding, parse_json, parse_request, parsed_findings, suspect_numbers, without_echoes
from .outcome import Collector, Report
from .rules import Hit, RuleContext, Target
from .rules._fast import fast_validator
from .rules._located import placed_errors
from .rules.reasoning import delta_reasoning, is_thinking_chunk
from .rules.schema import placed_hits, schema_hits
from .settings import resolve_settings
from .sse import SSEEvent, SSEParser

__all__ = ["StreamChecker", "assemble", "check_stream_into"]

DONE = "[DONE]"
_REASONING_KEYS = frozenset({"reasoning_content", "reasoning", "reasoning_details"})  # see rules/reasoning.py
#: Larger pieces given to ``feed`` are parsed this many bytes at a time (the parser returns a piece's events as a list).
_FEED_SLICE = 64 * 1024
# Response rules that make no sense on an assembled stream: the assembly itself sets object/message/choices.
_NOT_FOR_ASSEMBLED = frozenset({"CC212", "CC213", "CC214", "CC503"})
# Rules that read the assembled tool calls (or skip a message because it has some): not run when the stream's
# tool calls could not be assembled under the dialect's rules (CC323), they would judge a made-up assembly.
_ON_TOOL_CALLS = frozenset(
    {"CC205", "CC206", "CC207", "CC208", "CC215", "CC216", "CC404", "CC405", "CC406", "CC407", "CC408", "CC409"}
)
# Rules that read the number of choices: not run on an assembly without the choices that never finished.
_ON_ALL_CHOICES = frozenset({"CC204", "CC401", "CC403"})
_ANOMALY_CODES = {
    "unterminated-event": "CC302",
    "invalid-utf8": "CC002",
    "bom": "CC003",
    "event-too-large": "CC319",
    "line-too-long": "CC319",
}


@dataclass(slots=True)
class _Choice:
    first_event: int
    content: list[Any] = field(default_factory=list)  # str pieces, or content-chunk dicts (Mistral)
    has_chunks: bool = False
    role: str | None = None
    finish_reason: str | None = None
    finish_event: int | None = None
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    refusal: list[str] = field(default_factory=list)
    #: Tool-call deltas that the dialect cannot assemble (OpenAI-style fragments in a Mistral stream): the
    #: assembled tool calls are made up, so no rule judges them (CC323 says so once).
    unassemblable: bool = False
    #: OpenAI ``logprobs.content`` entries of the choice's chunks, joined (None: no chunk carried a list).
    logprobs: list[Any] | None = None
    text: list[str] = field(default_factory=list)  # recent string pieces, joined into `blocks` 256 at a time
    blocks: list[str] = field(default_factory=list)
    # Reasoning (rules/reasoning.py): OpenAI-compatible pieces by field, OpenRouter's details, where the answer began
    reasoning: dict[str, list[Any]] = field(default_factory=dict)
    details: list[Any] = field(default_factory=list)
    content_event: int | None = None
    reasoning_late: bool = False

    def flush(self) -> None:
        """Move the buffered string content into ``content`` (before a content-chunk list, and at the end)."""
        if self.text or self.blocks:
            self.content.append("".join(self.blocks) + "".join(self.text))
            self.text.clear()
            self.blocks.clear()


class _Assembly:
    """Accumulates chunks into the equivalent non-stream response."""

    __slots__ = ("id", "model", "created", "choices", "usage", "dialect")

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.id: Any = None
        self.model: Any = None
        self.created: Any = None
        self.choices: dict[int, _Choice] = {}
        self.usage: Any = None

    def response(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "object": "chat.completion", "model": self.model}
        if self.created is not None:
            doc["created"] = self.created
        choices = []
        for idx in sorted(self.choices):
            c = self.choices[idx]
            message: dict[str, Any] = {"role": c.role or "assistant", "content": _join_content(c)}
            for key, pieces in c.reasoning.items():  # joined like content; a non-string piece is kept for CC220
                odd = [p for p in pieces if not isinstance(p, str)]
                message[key] = odd[0] if odd else "".join(pieces)
            if c.details:
                message["reasoning_details"] = _merge_details(c.details)
            if self.dialect == "openai":
                message["refusal"] = "".join(c.refusal) if c.refusal else None
            if c.tool_calls:
                message["tool_calls"] = [c.tool_calls[k] for k in sorted(c.tool_calls)]
            choice: dict[str, Any] = {"index": idx, "message": message, "finish_reason": c.finish_reason}
            if self.dialect == "openai":
                choice["logprobs"] = None if c.logprobs is None else {"content": c.logprobs, "refusal": None}
            choices.append(choice)
        doc["choices"] = choices
        if isinstance(self.usage, dict):
            doc["usage"] = self.usage
        return doc


def _join_content(c: _Choice) -> Any:
    c.flush()
    if not c.content:
        return None
    if not c.has_chunks:
        return "".join(c.content)
    out: list[dict[str, Any]] = []
    for piece in c.content:
        if piece == "":  # Mistral's first delta ("content": "") and last one are not text chunks of the answer
            continue
        chunk: dict[str, Any] = {"type": "text", "text": piece} if isinstance(piece, str) else piece
        if (
            out
            and chunk.get("type") == "text"
            and out[-1].get("type") == "text"
            and isinstance(out[-1].get("text"), str)
            and isinstance(chunk.get("text"), str)
        ):
            out[-1] = {**out[-1], "text": out[-1]["text"] + chunk["text"]}
        elif (
            out
            and is_thinking_chunk(chunk)
            and is_thinking_chunk(out[-1])
            and isinstance(chunk.get("thinking"), list)
            and isinstance(out[-1].get("thinking"), list)
            and len(chunk) == len(out[-1]) == 2  # only {type, thinking}: a signature or `closed` starts a new block
        ):
            out[-1] = {"type": "thinking", "thinking": _join_thinking(out[-1]["thinking"], chunk["thinking"])}
        else:
            out.append(dict(chunk))
    return out or None


def _merge_details(blocks: list[Any]) -> list[Any]:
    """OpenRouter's streamed ``reasoning_details`` as its non-stream message has them: one block per index.

    Consecutive ``reasoning.text`` blocks of the same ``index`` (or both without one) join their ``text``; other
    blocks (summaries, encrypted data) are kept as they came.
    """
    out: list[Any] = []
    for block in blocks:
        last = out[-1] if out else None
        if (
            isinstance(block, dict)
            and isinstance(last, dict)
            and block.get("type") == last.get("type") == "reasoning.text"
            and block.get("index") == last.get("index")
            and isinstance(block.get("text"), str)
            and isinstance(last.get("text"), str)
        ):
            out[-1] = {**last, "text": last["text"] + block["text"]}
        else:
            out.append(dict(block) if isinstance(block, dict) else block)
    return out


def _join_thinking(first: list[Any], then: list[Any]) -> list[Any]:
    """Merge two streamed thinking lists as Mistral's non-stream response has them: adjacent text joined."""
    out = list(first)
    for item in then:
        if (
            out
            and isinstance(item, dict)
            and isinstance(out[-1], dict)
            and item.get("type") == out[-1].get("type") == "text"
            and isinstance(item.get("text"), str)
            and isinstance(out[-1].get("text"), str)
        ):
            out[-1] = {**out[-1], "text": out[-1]["text"] + item["text"]}
        else:
            out.append(item)
    return out


class StreamChecker:
    """Check an SSE chat-completion stream incrementally.

    Example:
        >>> checker = StreamChecker(dialect="openai", request=request_body)
        >>> for part in response.iter_bytes():
        ...     checker.feed(part)
        >>> report = checker.close()
    """

    def __init__(
        self,
        *,
        dialect: str | None = None,
        request: Any = None,
        provider: str | None = None,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        status: int | None = None,
        extensions: Iterable[str] | None = None,
    ) -> None:
        settings = resolve_settings(
            dialect=dialect, select=select, ignore=ignore, provider=provider, extensions=extensions
        )
        ctx = RuleContext(
            dialect=settings.dialect, contracts=settings.contracts, request=parse_request(request), status=status
        )
        self._setup(settings, Collector(settings), ctx)

    def _setup(self, settings: Any, collector: Any, ctx: RuleContext) -> None:
        self._settings = settings
        self._collector = collector
        self._ctx = ctx
        self._state = _StreamState(settings.dialect, ctx.request)
        self._parser = SSEParser()
        self._closed = False
        self._numbers = True
        self._tail = b""
        self._validate = settings.contracts.chunk.validator.validate_python
        # A chunk the C accelerator proves plain and the chunk contract's fast schema accepts conforms (the same
        # proof as check()'s fast path): pydantic's validation is skipped for it.
        fast = fast_validator(settings.contracts.chunk) if _accel.plain is not None else None
        self._plain = _accel.plain if fast is not None else None
        self._valid_plain = fast.valid_plain if fast is not None else None
        self._stream_rules = settings.rules.get(Target.STREAM, ())
        self._mode: str | None = None
        self._report: Any = None

    @classmethod
    def _for_engine(cls, settings: Any, collector: Any, ctx: RuleContext) -> StreamChecker:
        checker = cls.__new__(cls)
        checker._setup(settings, collector, ctx)
        return checker

    @property
    def dialect(self) -> str:
        """The dialect being checked."""
        return str(self._settings.dialect)

    @property
    def ended(self) -> bool:
        """True once the stream's own end reached the checker: its ``[DONE]`` sentinel, or an error event.

        A reader that stops there (as the openai and mistralai SDKs do, closing the response without reading on)
        has passed every event to the checker, so :meth:`close` judges the whole stream.
        """
        return self._state.done_event is not None or bool(self._state.errored)

    def feed(self, data: bytes | bytearray | memoryview | str) -> None:
        """Feed the next bytes of the stream (any chunking)."""
        self._guard_mode("raw")
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
        if len(raw) <= _FEED_SLICE:
            self._feed(raw)
            return
        # A whole body at once would turn into a list of all its events: feed it in slices, so that memory stays
        # bounded by the largest event whatever the caller's chunking.
        view = memoryview(raw)
        for start in range(0, len(view), _FEED_SLICE):
            self._feed(view[start : start + _FEED_SLICE].tobytes())

    def _feed(self, raw: bytes) -> None:
        # One C-speed scan of the whole piece (plus the previous piece's tail, for numbers cut in two) decides
        # whether the events completed by it need the per-event number checks.
        self._numbers = suspect_numbers(self._tail + raw)
        self._tail = raw[-64:]
        for event in self._parser.feed(raw):
            self._event(event)

    def _guard_mode(self, mode: str) -> None:
        from ._exceptions import UsageError

        if self._closed:
            raise UsageError("StreamChecker fed after close(); create a new checker for a new stream.")
        if self._mode is None:
            self._mode = mode
        elif self._mode != mode:
            raise UsageError(
                "A StreamChecker checks either raw SSE bytes (feed) or parsed chunks (feed_chunk), not both: "
                "their event numbering would disagree."
            )

    def feed_chunk(self, chunk: Mapping[str, Any]) -> None:
        """Feed one already-parsed chunk (e.g. from an SDK's stream) as if it arrived as an SSE event.

        SDKs consume the ``[DONE]`` sentinel themselves, so a checker fed parsed chunks does not require it.
        """
        self._guard_mode("parsed")
        index = self._state.events
        self._state.events += 1
        if isinstance(chunk, Mapping):
            doc, findings = parsed_findings(dict(chunk))  # what the parser would say of it as an SSE event
            for code, h in without_echoes(findings, self._ctx.request):
                self._collector.add(code, h, event=index)
            self._chunk(doc, index)
        else:
            self._collector.add("CC301", Hit((), "Chunk is not a JSON object.", chunk), event=index)

    def consume(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Yield ``chunks`` unchanged while feeding them: check a stream while the caller reads it."""
        for part in chunks:
            self.feed(part)
            yield part

    async def aconsume(self, chunks: AsyncIterable[bytes]) -> AsyncIterable[bytes]:
        """Async twin of :meth:`consume` (e.g. ``checker.aconsume(response.aiter_bytes())``)."""
        async for part in chunks:
            self.feed(part)
            yield part

    def close(self) -> Any:
        """End of stream: run the whole-stream and assembled-response checks; returns the Report."""
        if self._closed:
            return self._report
        for event in self._parser.close():
            self._event(event)
        self._closed = True
        for anomaly in self._parser.anomalies:
            code = _ANOMALY_CODES.get(anomaly.kind, "CC318")
            loc: tuple[str | int, ...] = ()
            self._collector.add(code, Hit(loc, anomaly.message, anomaly.kind), event=anomaly.event)
        cut = any(a.kind == "unterminated-event" for a in self._parser.anomalies)
        self._state.finish(self._collector, self._settings, self._ctx, expect_done=self._mode != "parsed", cut=cut)
        items = self._collector.items
        items.sort(key=lambda v: float("inf") if v.event is None else v.event)
        items.extend(self._collector.summaries("stream"))  # rules past the cap: one summary each, at the end
        self._report = Report(
            violations=tuple(items),
            dialect=self._settings.dialect,
            kind="stream",
            status=self._ctx.status,
            total=self._collector.total(),
        )
        return self._report

    def found(self) -> tuple[Any, ...]:
        """The violations found so far, in the order found (the ordered, final list is ``close()``'s report).

        Lets a caller act on a broken stream while it is still being read (``chatcontract proxy --enforce``).
        """
        return tuple(self._collector.items)

    def assembled(self) -> dict[str, Any]:
        """The equivalent non-stream response of what was fed so far."""
        return self._state.assembly.response()

    def _error_event(self, doc: dict[str, Any], index: int, flat: bool) -> None:
        from .rules.errors import error_body_hits

        collector, settings = self._collector, self._settings
        where = ("object",) if flat else ("error",)
        collector.add("CC315", Hit(where, "The stream carries an error event.", doc.get(where[0])), event=index)
        self._state.errored = True
        err_ctx = RuleContext(dialect=settings.dialect, contracts=settings.contracts, status=None)
        body = (
            {k: v for k, v in doc.items() if k not in ("choices", "id", "model", "created")}
            if flat
            else {"error": doc["error"]}
        )
        for code, h in error_body_hits(body, err_ctx):
            if code not in ("CC501", "CC502"):  # the envelope itself is already reported as CC315
                collector.add(code, h, event=index)

    # -- per event -------------------------------------------------------------------------------------------
    def _event(self, event: SSEEvent) -> None:
        st = self._state
        if event.data == DONE:
            if st.done_event is not None:
                self._collector.add("CC304", Hit((), "A second [DONE] sentinel.", DONE), event=event.index)
            else:
                st.done_event = event.index
            return
        st.events += 1
        if st.done_event is not None:
            self._collector.add(
                "CC304", Hit((), "Data after the [DONE] sentinel.", event.data[:200]), event=event.index
            )
            return  # clients stop reading at [DONE]: what follows is CC304's, not judged as chunks of the stream
        data = event.data
        proven = False
        try:  # the fast path: a well-formed chunk with nothing the number checks need to look at
            if self._numbers or data.startswith("\ufeff"):
                raise ValueError
            raw = data.encode()
            plain = self._plain
            shape = plain is not None and plain(raw, True)
            if shape is True:  # no duplicate key, NaN, float or long integer: the default parse
                doc = jiter.from_json(raw)
                proven = True
            elif shape == _accel.BUT_FLOATS:  # floats (logprobs) only: the default parse gives the strict one's doc
                doc = jiter.from_json(raw)
            else:
                doc = jiter.from_json(raw, allow_inf_nan=False, catch_duplicate_keys=True)
            findings: list[Finding] = []
        except ValueError:
            doc, findings = parse_json(data, numbers=self._numbers)
            findings = without_echoes(findings, self._ctx.request)
        for code, h in findings:
            self._collector.add("CC301" if code == "CC001" else code, h, event=event.index)
        if not isinstance(doc, dict):
            if not findings:
                self._collector.add("CC301", Hit((), "Chunk is not a JSON object.", doc), event=event.index)
            st.lost = True
            return
        self._chunk(doc, event.index, proven)

    def _chunk(self, doc: dict[str, Any], index: int, plain: bool = False) -> None:
        collector, settings = self._collector, self._settings
        flat_error = doc.get("object") in ("error", "Error")
        if doc.get("error") or flat_error:
            self._error_event(doc, index, flat_error)
            if not isinstance(doc.get("choices"), list):
                return
        try:
            if not (plain and self._valid_plain(doc)):  # type: ignore[misc]
                # A chunk refused only for nulls where a field should be omitted and missing or unknown keys (LiteLLM
                # leaves finish_reason out of every chunk, llama-cpp-python sends "tool_calls": null in each delta)
                # is judged by the place walk, as check() judges a response; anything else by pydantic.
                placed = placed_errors(settings.contracts.chunk, doc, self._valid_plain) if plain else None  # type: ignore[arg-type]
                if placed is None:
                    self._validate(doc)  # the fast path: most chunks conform
                else:
                    hits = placed_hits(settings.contracts.chunk, doc, *placed, full=collector.full)
                    for code, h in hits:
                        collector.add(code, h, event=index)
        except ValidationError:
            for code, h in schema_hits(settings.contracts.chunk, doc, what="chunk", full=collector.full):
                collector.add(code, h, event=index)
        except RecursionError:
            collector.add("CC006", Hit((), "Chunk is nested too deeply to validate."), event=index)
        found: list[Finding] = []
        self._state.sequence(doc, index, found)
        for code, h in found:
            collector.add(code, h, event=index)
        if self._stream_rules:  # custom stream rules, if any were registered
            collector.run(self._stream_rules, doc, self._ctx, event=index)


class _StreamState:
    """What the sequence rules remember between events."""

    __slots__ = (
        "dialect",
        "request",
        "assembly",
        "events",
        "done_event",
        "first",
        "usage_event",
        "usage_with_choices",
        "errored",
        "chunks",
        "include_usage",
        "last_chunk_event",
        "first_values",
        "malformed_usage",
        "lost",
    )

    def __init__(self, dialect: str, request: Mapping[str, Any] | None) -> None:
        self.dialect = dialect
        self.request = request
        self.assembly = _Assembly(dialect)
        self.events = 0
        self.done_event: int | None = None
        self.first: dict[str, Any] | None = None
        self.first_values: tuple[Any, Any, Any] = (None, None, None)
        self.usage_event: int | None = None
        self.usage_with_choices = False
        #: A usage that is there but not an object (its schema finding says so): no "usage is missing" on top.
        self.malformed_usage = False
        self.errored = False
        #: A data event that is no chunk (CC301): what it carried (a role, a fragment, the finish, usage) is lost.
        self.lost = False
        self.chunks = 0
        self.last_chunk_event: int | None = None
        opts = request.get("stream_options") if request is not None else None
        self.include_usage = isinstance(opts, dict) and opts.get("include_usage") is True

    def sequence(self, doc: dict[str, Any], event: int, out: list[Finding]) -> None:
        self.chunks += 1
        self.last_chunk_event = event
        asm = self.assembly
        get = doc.get
        if self.first is None:
            self.first = {k: get(k) for k in ("id", "model", "created")}
            self.first_values = (get("id"), get("model"), get("created"))
            asm.id, asm.model, asm.created = self.first_values
        elif (get("id"), get("model"), get("created")) != self.first_values:  # the common case: all equal
            for key in ("id", "model", "created"):
                if key in doc and doc[key] != self.first[key] and self.first[key] is not None:
                    out.append(
                        (
                            "CC306",
                            Hit(
                                (key,),
                                f"{key} differs from the first chunk's; every chunk of a stream shares it.",
                                doc[key],
                                self.first[key],
                            ),
                        )
                    )
        obj = get("object")
        if obj != "chat.completion.chunk" and self.dialect == "mistral" and isinstance(obj, str):
            out.append(("CC307", Hit(("object",), f"object is {obj!r}; expected 'chat.completion.chunk'.", obj)))
        choices = get("choices")
        usage = get("usage")
        if usage is not None and not isinstance(usage, dict):
            self.malformed_usage = True
        if usage is not None and isinstance(usage, dict):
            if self.usage_event is not None and self.dialect == "openai":
                out.append(("CC314", Hit(("usage",), "Usage appears in more than one chunk.", usage)))
            self.usage_event = event
            self.usage_with_choices = bool(choices)
            asm.usage = usage
            if self.dialect == "openai" and self.request is not None and not self.include_usage:
                out.append(
                    (
                        "CC320",
                        Hit(
                            ("usage",),
                            "Usage sent although the request did not set stream_options.include_usage.",
                            usage,
                        ),
                    )
                )
        if not isinstance(choices, list):
            return
        if not choices and not isinstance(usage, dict) and not self.errored:
            out.append(("CC317", Hit(("choices",), "Chunk has an empty choices list and no usage.", [])))
        for pos, choice in enumerate(choices):
            if isinstance(choice, dict):
                self._choice(choice, pos, event, out)

    def _choice(self, choice: dict[str, Any], pos: int, event: int, out: list[Finding]) -> None:
        idx = choice.get("index")
        if type(idx) is not int:  # noqa: E721  (bool is not an index)
            idx = pos
        choices = self.assembly.choices
        state = choices.get(idx)
        raw_delta = choice.get("delta")
        # Missing or not an object: the chunk contract reports it (CC101/CC102/CC107), so no CC308 on top.
        delta: dict[str, Any] = raw_delta if type(raw_delta) is dict else {}  # noqa: E721
        has_delta = delta is raw_delta
        get = delta.get
        role = get("role")
        if state is None:
            state = choices[idx] = _Choice(first_event=event)
            if role is None and has_delta and not self.lost:  # (after a lost chunk: the role may have been in it)
                out.append(
                    ("CC308", Hit(("choices", pos, "delta"), f"First delta of choice {idx} has no role.", delta))
                )
        if role is not None and state.role is None and isinstance(role, str):
            state.role = role
        content = get("content")
        calls = get("tool_calls")
        thinking_only = False
        if type(content) is list or not _REASONING_KEYS.isdisjoint(delta):
            thinking_only = self._reasoning(state, delta, content, pos, idx, event, out)
        elif content and state.content_event is None:
            state.content_event = event
        if state.finish_reason is not None and (content and not thinking_only or calls):
            out.append(
                (
                    "CC311",
                    Hit(
                        ("choices", pos, "delta"),
                        f"Choice {idx} sends content after its finish_reason (event {state.finish_event}).",
                        content if content else calls,
                    ),
                )
            )
        if isinstance(content, str):
            state.text.append(content)
            if len(state.text) >= 256:  # join small pieces into blocks: linear, and compact as the text itself
                state.blocks.append("".join(state.text))
                state.text.clear()
        elif isinstance(content, list):
            state.flush()
            state.has_chunks = True
            state.content.extend(c for c in content if isinstance(c, dict))
        refusal = get("refusal")
        if refusal is not None and isinstance(refusal, str):
            state.refusal.append(refusal)
        if isinstance(calls, list):
            self._tool_calls(state, calls, pos, out)
        logprobs = choice.get("logprobs")
        if logprobs is not None and type(logprobs) is dict and type(logprobs.get("content")) is list:  # noqa: E721
            state.logprobs = (state.logprobs or []) + logprobs["content"]
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            loc = ("choices", pos, "finish_reason")
            if state.finish_reason is not None:
                out.append(
                    (
                        "CC310",
                        Hit(loc, f"Choice {idx} finishes again (first at event {state.finish_event}).", reason),
                    )
                )
            else:
                state.finish_reason, state.finish_event = reason, event
            if reason == "error":
                self.errored = True
                out.append(("CC315", Hit(loc, "A choice finishes with finish_reason 'error'.", reason)))

    def _reasoning(
        self, state: _Choice, delta: dict[str, Any], content: Any, pos: int, idx: int, event: int, out: list[Finding]
    ) -> bool:
        """Collect a delta's reasoning and check its place (CC321, CC322); True when its content is only thinking."""
        texts, thinking = delta_reasoning(delta)
        for key in ("reasoning_content", "reasoning"):
            value = delta.get(key)
            if value is not None and value != "":
                state.reasoning.setdefault(key, []).append(value)
        details = delta.get("reasoning_details")
        if isinstance(details, list):
            state.details.extend(details)
        elif details is not None:
            state.reasoning.setdefault("reasoning_details", []).append(details)  # kept as is for CC220
        answer = (
            any(isinstance(c, dict) and not is_thinking_chunk(c) and c.get("text") != "" for c in content)
            if isinstance(content, list)
            else bool(content)
        )
        if texts or thinking:
            loc = ("choices", pos, "delta")
            if state.finish_reason is not None:
                message = f"Choice {idx} sends reasoning after its finish_reason (event {state.finish_event})."
                out.append(("CC322", Hit(loc, message, texts or content)))
            elif state.content_event is not None and not state.reasoning_late:
                state.reasoning_late = True  # once per choice: the stream goes on interleaving
                message = f"Choice {idx} sends reasoning after its content started (event {state.content_event})."
                out.append(("CC321", Hit(loc, message, texts or content)))
        if answer and state.content_event is None:
            state.content_event = event
        return isinstance(content, list) and bool(content) and not answer

    def _tool_calls(self, state: _Choice, calls: list[Any], pos: int, out: list[Finding]) -> None:
        for j, call in enumerate(calls):
            if not isinstance(call, dict):
                continue
            loc = ("choices", pos, "delta", "tool_calls", j)
            raw_fn = call.get("function")
            fn: dict[str, Any] = raw_fn if isinstance(raw_fn, dict) else {}
            if self.dialect == "mistral":
                # Mistral sends whole calls: each delta entry is one complete call. An entry without a function
                # name is an OpenAI-style continuation fragment: the calls cannot be assembled (one CC323).
                if not (isinstance(fn.get("name"), str) and fn["name"]):
                    if not state.unassemblable and not any(c.unassemblable for c in self.assembly.choices.values()):
                        out.append(
                            (
                                "CC323",
                                Hit(
                                    loc,
                                    "A tool-call delta without a function name: Mistral streams each call whole in "
                                    "one delta, so these fragments (OpenAI's incremental style) cannot be assembled; "
                                    "the tool-call rules are not run on the stream's assembly.",
                                    call,
                                ),
                            )
                        )
                    state.unassemblable = True
                    continue
                key = len(state.tool_calls)
                state.tool_calls[key] = {
                    "id": call.get("id", "null"),
                    "type": call.get("type", "function"),
                    "function": {"name": fn.get("name"), "arguments": fn.get("arguments")},
                }
                continue
            k = call.get("index")
            k = k if isinstance(k, int) and not isinstance(k, bool) else j
            current = state.tool_calls.get(k)
            if current is None:
                firsts = (("id", call.get("id")), ("type", call.get("type")), ("function.name", fn.get("name")))
                missing = [name for name, value in firsts if not value]
                if missing:
                    out.append(
                        (
                            "CC316",
                            Hit(loc, f"First fragment of tool call {k} lacks {', '.join(missing)}.", call),
                        )
                    )
                state.tool_calls[k] = {
                    "id": call.get("id"),
                    "type": call.get("type") or "function",
                    "function": {"name": fn.get("name"), "arguments": fn.get("arguments") or ""},
                }
            else:
                if call.get("id") and current["id"] and call["id"] != current["id"]:
                    message = f"Tool call {k} changes its id mid-stream."
                    out.append(("CC316", Hit((*loc, "id"), message, call["id"], current["id"])))
                if fn.get("name") and not current["function"]["name"]:
                    current["function"]["name"] = fn["name"]
                if isinstance(fn.get("arguments"), str):
                    args = current["function"]["arguments"]
                    current["function"]["arguments"] = (args if isinstance(args, str) else "") + fn["arguments"]

    def finish(
        self, collector: Any, settings: Any, ctx: RuleContext, *, expect_done: bool = True, cut: bool = False
    ) -> None:
        """The whole-stream checks and the assembled response's.

        None for a stream ``cut`` in the middle of an event: CC302 says so, and its missing end ([DONE], a
        finish_reason, usage) is that one cause.
        """
        if cut:
            return
        asm = self.assembly
        if self.chunks == 0:
            if not self.errored:
                if self.events:
                    what = "no event that is a valid chunk"
                elif self.done_event is not None:
                    what = "only the [DONE] sentinel"
                else:
                    what = "no data events"
                collector.add("CC305", Hit((), f"The stream has {what}; expected at least one chunk.", None))
            return
        if self.done_event is None and not self.errored and expect_done:
            collector.add("CC303", Hit((), "The stream ends without the [DONE] sentinel.", None))
        if self.lost:
            # A chunk was lost (CC301): a finish reason, usage, a tool call's fragment may have been in it, so the
            # choices' ends and the assembled answer are not judged (one cause, one finding).
            return
        for position, (idx, c) in enumerate(sorted(asm.choices.items())):
            if c.finish_reason is None and not self.errored:
                collector.add(
                    "CC309",
                    Hit(("choices", position), f"Choice {idx} never receives a finish_reason.", None),
                )
        if not asm.choices and not self.errored:
            collector.add("CC305", Hit((), "No chunk carries a choice.", None))
        self._usage_checks(collector)
        response = asm.response()
        skip = _NOT_FOR_ASSEMBLED
        if any(c.unassemblable for c in asm.choices.values()):
            skip = skip | _ON_TOOL_CALLS
        if any(c.finish_reason is None for c in asm.choices.values()):
            # A choice that never finished (CC309) is not an answer to judge: its content, tool calls and reasoning
            # may have been still to come. The rules judge the finished ones; the choice count is not theirs.
            response["choices"] = [c for c in response["choices"] if c["finish_reason"] is not None]
            skip = skip | _ON_ALL_CHOICES
        rules = tuple(r for r in settings.rules.get(Target.RESPONSE, ()) if r.code not in skip)
        if not self.errored:
            collector.run(rules, response, ctx)

    def _usage_checks(self, collector: Any) -> None:
        if self.dialect == "mistral":
            if self.usage_event is None and not self.errored and not self.malformed_usage:
                collector.add("CC312", Hit((), "No chunk carries usage; Mistral sends it with the final chunk.", None))
            return
        if self.include_usage:
            if self.usage_event is None:
                if not self.errored and not self.malformed_usage:
                    collector.add(
                        "CC313", Hit((), "The request set stream_options.include_usage but no usage arrived.", None)
                    )
            elif self.usage_with_choices or self.usage_event != self.last_chunk_event:
                collector.add(
                    "CC314",
                    Hit(
                        ("usage",),
                        "Usage must arrive in one extra last chunk with an empty choices list.",
                        "a chunk with choices" if self.usage_with_choices else "a chunk before the last",
                    ),
                    event=self.usage_event,
                )


def check_stream_into(received: Any, settings: Any, collector: Any, ctx: RuleContext) -> None:
    """Engine hook: check the stream in ``received`` (bytes or an iterable of bytes) into ``collector``."""
    checker = StreamChecker._for_engine(settings, collector, ctx)
    if received.chunks is not None:
        for part in received.chunks:
            checker.feed(part)
    elif received.body is not None:
        checker.feed(received.body)
    elif isinstance(received.doc, list):  # a list of parsed chunks
        for chunk in received.doc:
            checker.feed_chunk(chunk)
    elif isinstance(received.doc, dict):  # one parsed chunk
        checker.feed_chunk(received.doc)
    if received.is_event_stream and checker._state.events == 0 and checker._state.done_event is None:
        body = (received.body or b"").lstrip()
        if body.startswith((b"{", b"[")):
            collector.add(
                "CC007",
                Hit((), "Content-Type is text/event-stream but the body is one JSON document.", received.content_type),
            )
    checker.close()


def assemble(stream: bytes | str | Iterable[Mapping[str, Any]], *, dialect: str = "mistral") -> dict[str, Any]:
    """The equivalent non-stream response of a stream: content joined, tool calls merged, finish_reason, usage.

    Args:
        stream: SSE text or bytes, or an iterable of already-parsed chunks.
        dialect: ``"mistral"`` or ``"openai"`` (tool-call fragments are merged per dialect).
    """
    state = _StreamState(dialect, None)
    if isinstance(stream, (bytes, str)):
        parser = SSEParser()
        raw = stream.encode("utf-8") if isinstance(stream, str) else stream
        events = parser.feed(raw) + parser.close()
        chunks: Iterable[Any] = (parse_json(e.data)[0] for e in events if e.data != DONE)
    else:
        chunks = stream
    for i, chunk in enumerate(chunks):
        if isinstance(chunk, Mapping):
            state.sequence(dict(chunk), i, [])
    return state.assembly.response()
