r"""A strict, incremental ``text/event-stream`` (Server-Sent Events) parser that reports every oddity.

Streamed chat completions arrive as ``data: {json}`` events ended by ``data: [DONE]``. :class:`SSEParser`
parses such a stream exactly as the WHATWG HTML "event stream interpretation" rules say
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation): lines end with
CRLF, LF or CR (also when a CRLF is split across two fed chunks), a leading UTF-8 BOM is stripped once, lines
starting with ``:`` are comments, ``field:value`` loses exactly one space after the colon, a line without a
colon is a field with an empty value, ``data`` lines join with ``"\n"``, ``id`` values holding NUL and
``retry`` values that are not ASCII digits are ignored, unknown fields are ignored, a blank line dispatches
the event unless its data buffer is empty, and an event left unterminated at the end of the stream is
discarded.

The parser never raises on bad input. Whatever is legal-but-noteworthy or illegal is recorded as an
:class:`SSEAnomaly` (see :data:`ANOMALY_KINDS`) with its byte offset and line number, so the caller decides
what counts as a contract violation. Memory is bounded by the largest event: only the unfinished line and
the current event's buffers are kept, and an event or line larger than ``max_event_bytes`` is reported and
skipped.

Libraries looked at: httpx-sse 0.4.3 (``SSEDecoder``/``SSELineDecoder``) works on already-decoded text,
dispatches events whose data buffer is empty (the spec says not to), accepts any ``int()`` spelling for
``retry`` (``+5``, ``-1``, `` 5``, ``1_0``), keeps no offsets and silently drops every oddity. sseclient-py
1.9.0 splits whole events with ``endswith`` checks, raises on invalid UTF-8, keeps no last-event-id state,
does not validate ``retry`` or NUL in ``id`` and reports nothing either. Neither reports anomalies, so this
module implements the spec itself.

Speed: the parser works on bytes, with C-level ``split``/``find`` over each fed buffer and no per-character
loop. The usual stream (one ``data:`` line per event) takes a fast path: the buffer is split at "blank line +
``data:``" separators and each piece is an event's data as is (for ASCII buffers, without even a decode);
every other line goes through a per-line loop that keeps the event state in locals. See ``_uniform``.
"""

from __future__ import annotations

import re
from typing import AnyStr

from .events import (
    BOM,
    EVENT_TOO_LARGE,
    INVALID_RETRY,
    INVALID_UTF8,
    LINE_TOO_LONG,
    MIXED_LINE_ENDINGS,
    NUL_IN_ID,
    UNKNOWN_FIELD,
    UNTERMINATED_EVENT,
    SSEAnomaly,
    SSEEvent,
    _make_event,
)

__all__ = ["SSEParser", "looks_like_sse", "parse_sse"]

_BOM_BYTES = b"\xef\xbb\xbf"
_EOL_RE = re.compile(rb"\r\n|\r|\n")
# Note: ``b"x" in some_bytes`` first tries b"x" as an int and formats (then clears) a TypeError, about 2000
# machine instructions each time: this module tests bytes with find() instead.

# Line-ending styles, as bits of SSEParser._styles.
_LF = 1
_CRLF = 2
_CR = 4
_STYLE_NAMES = {_LF: "LF", _CRLF: "CRLF", _CR: "CR"}
_DATA_PREFIX = b"data: "
# Per style: a blank line followed by a data line, with and without the space after the colon.
_BYTES_SEPS = {
    style: (eol + eol + b"data: ", eol + eol + b"data:")
    for style, eol in ((_LF, b"\n"), (_CRLF, b"\r\n"), (_CR, b"\r"))
}
_TEXT_SEPS = {style: (a.decode("ascii"), b.decode("ascii")) for style, (a, b) in _BYTES_SEPS.items()}
_COLON = 0x3A
_SNIFF_PREFIXES = (b"data:", b"event:", b"id:", b"retry:", b":")


def _split_events(src: AnyStr, sep: AnyStr, bare_sep: AnyStr) -> tuple[list[AnyStr], int]:
    """Split ``src`` at blank lines followed by ``data: `` (else ``data:``); return the pieces, prefix length."""
    pieces = src.split(sep)
    if len(pieces) > 1:
        return pieces, 6
    return src.split(bare_sep), 5


def _show(raw: bytes, limit: int = 40) -> str:
    text = raw[:limit].decode("utf-8", "replace")
    return repr(text + "…") if len(raw) > limit else repr(text)


class SSEParser:
    """Incremental event-stream parser: :meth:`feed` bytes as they arrive, then :meth:`close` once.

    Attributes:
        anomalies: every anomaly met so far, in stream order (at most ``max_anomalies`` are kept;
            :attr:`anomaly_counts` counts them all, by kind).
        comments: number of comment lines (``: keep-alive``) seen.
        bytes_seen: number of bytes fed so far, BOM included.
        events_dispatched: number of events so far, dispatched or dropped as too large (the next index).
        last_event_id: the spec's "last event ID buffer": set by every valid ``id`` field, kept across events.
        retry: the reconnection time (ms) set by the last valid ``retry`` field, ``None`` if none was seen.
    """

    def __init__(self, *, max_event_bytes: int = 16 * 1024 * 1024, max_anomalies: int = 10_000) -> None:
        if max_event_bytes < 1:
            raise ValueError("max_event_bytes must be at least 1")
        self.anomalies: list[SSEAnomaly] = []
        self.anomaly_counts: dict[str, int] = {}
        self.comments = 0
        self.bytes_seen = 0
        self.last_event_id = ""
        self.retry: int | None = None
        self._max = max_event_bytes
        self._max_anomalies = max_anomalies
        self._closed = False
        # Bytes of the stream start while we cannot yet tell whether they begin with a BOM; None once decided.
        self._head: bytes | None = b""
        # The unfinished line, as parts (joined when its line ending arrives), and its length.
        self._pending: list[bytes] = []
        self._pending_len = 0
        # Offset and 1-based number of the line being read.
        self._line_start = 0
        self._lineno = 1
        # The previous chunk ended with CR: a LF at the start of the next one belongs to that line ending.
        self._cr_pending = False
        self._cr_pos = 0
        self._cr_line = 0
        # Inside an over-long line: drop bytes up to its line ending.
        self._discarding = False
        self._styles = 0
        # The event being read: its data lines, their byte count, fields, first line; skipping if oversized.
        self._data: list[str] = []
        self._ev_bytes = 0
        self._ev_type: str | None = None
        self._ev_id: str | None = None
        self._ev_retry: int | None = None
        self._ev_extra = False  # whether any of _ev_type, _ev_id, _ev_retry is set
        self._ev_pos = -1
        self._ev_line = 0
        self._skipping = False
        self._index = 0

    @property
    def events_dispatched(self) -> int:
        """Number of events so far, dispatched or dropped as too large: the index the next event will get."""
        return self._index

    # -- public API -----------------------------------------------------------------------------------------

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[SSEEvent]:
        """Parse the next chunk of the stream and return the events it completed, in order."""
        if self._closed:
            raise ValueError("feed() called after close()")
        if type(chunk) is not bytes:
            chunk = bytes(chunk)
        if not chunk:
            return []
        self.bytes_seen += len(chunk)
        if self._head is not None:
            head = self._head + chunk
            if len(head) < 3 and _BOM_BYTES.startswith(head):
                self._head = head
                return []
            self._head = None
            if head.startswith(_BOM_BYTES):
                self._line_start = 3
                self._report(BOM, "The stream starts with a UTF-8 byte order mark (stripped).", 0, 1, None)
                head = head[3:]
            chunk = head
        out: list[SSEEvent] = []
        self._consume(chunk, out)
        return out

    def close(self) -> list[SSEEvent]:
        """End of stream: parse a final line left without a line ending, then discard an unfinished event.

        An event with data but no blank line after it is discarded (as the spec says) and reported as
        ``unterminated-event``. Since no event can be completed by the end of the stream, the list returned
        is always empty; it is there for symmetry with :meth:`feed`. Calling ``close`` again does nothing.
        """
        if self._closed:
            return []
        out: list[SSEEvent] = []
        if self._head:
            head, self._head = self._head, None
            self._consume(head, out)
        self._head = None
        self._closed = True
        # A CR ending the stream may be a CRLF cut short: its style is left unknown (not reported as mixed).
        self._cr_pending = False
        if self._discarding:
            self._discarding = False
        elif self._pending:
            last = b"".join(self._pending)
            self._pending = []
            self._pending_len = 0
            self._lines([last], 0, 0, out)
        if self._data:
            self._report(
                UNTERMINATED_EVENT,
                f"The stream ended inside an event ({len(self._data)} data line(s), no blank line after it);"
                " the event was discarded.",
                self._ev_pos,
                self._ev_line,
                self._index,
            )
            self._data = []
        return out

    # -- internals ------------------------------------------------------------------------------------------

    def _report(self, kind: str, message: str, offset: int, line: int, event: int | None) -> None:
        counts = self.anomaly_counts
        counts[kind] = counts.get(kind, 0) + 1
        if len(self.anomalies) < self._max_anomalies:
            self.anomalies.append(SSEAnomaly(kind, message, offset, line, event))

    def _note_style(self, style: int, pos: int, lineno: int) -> None:
        """Record the line ending at offset ``pos``, ending line ``lineno``; report the first mixed one."""
        styles = self._styles
        if styles & style:
            return
        self._styles = styles | style
        if styles in _STYLE_NAMES:  # exactly one style so far: this is the first mix, reported once
            self._report(
                MIXED_LINE_ENDINGS,
                f"Line {lineno} ends with {_STYLE_NAMES[style]} but earlier lines end with {_STYLE_NAMES[styles]}.",
                pos,
                lineno,
                None,
            )

    def _consume(self, chunk: bytes, out: list[SSEEvent]) -> None:
        """Parse ``chunk`` (BOM already handled); ``self.bytes_seen`` counts it already."""
        if not chunk:
            return
        if self._cr_pending:
            self._cr_pending = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
                self._line_start += 1
                self._note_style(_CRLF, self._cr_pos, self._cr_line)
                if not chunk:
                    return
            else:
                self._note_style(_CR, self._cr_pos, self._cr_line)
        if self._discarding:
            rest = self._end_discard(chunk)
            if not rest:
                return
            chunk = rest
        pending = self._pending
        if pending:
            if chunk.find(b"\n") < 0 and chunk.find(b"\r") < 0:
                self._pending_len += len(chunk)
                if self._pending_len > self._max:
                    self._pending = []
                    self._pending_len = 0
                    self._line_overflow()
                else:
                    pending.append(chunk)
                return
            pending.append(chunk)
            buf = b"".join(pending)
            self._pending = []
            self._pending_len = 0
        else:
            buf = chunk

        ends_cr = buf[-1] == 0x0D
        if ends_cr:
            buf = buf[:-1]
        if buf.find(b"\r") < 0:
            tail = self._uniform(buf, b"\n", _LF, out)
        elif buf.find(b"\n") < 0:
            tail = self._uniform(buf, b"\r", _CR, out)
        else:
            tail = self._uniform(buf, b"\r\n", _CRLF, out)  # maybe mixed: see _segment
        if ends_cr:
            # The line is complete (CR ends it); whether the line ending is CR or CRLF is known next feed.
            self._cr_pos = self._line_start + len(tail)
            self._cr_line = self._lineno
            self._cr_pending = True
            self._lines([tail], 1, 0, out)
        elif tail:
            if len(tail) > self._max:
                self._line_overflow()
            else:
                self._pending = [tail]
                self._pending_len = len(tail)

    def _uniform(self, buf: bytes, eolb: bytes, style: int, out: list[SSEEvent]) -> bytes:
        """Interpret the complete lines of ``buf``, mostly ended by ``eolb``; return the unfinished last line.

        ``buf`` holds no CR (``eolb`` is LF), no LF (``eolb`` is CR), or both (``eolb`` is CRLF, and other
        line endings may be mixed in). The fast path is for the usual stream, one ``data:`` line per event:
        ``buf`` is split at every blank line followed by a ``data:`` line (``eolb eolb "data: "``, or
        ``"data:"`` when no line has the space). Each piece between two such separators that holds no CR or
        LF is exactly the value of an event's only data line, and is dispatched as is (:meth:`_middle_text`,
        :meth:`_middle_bytes`). Everything else goes line by line (:meth:`_segment`).
        """
        if not (self._styles & style):
            # Maybe the first line ending in this style: let _lines note it, line by line.
            return self._segment(buf, eolb, style, out)
        text_pieces: list[str]
        byte_pieces: list[bytes]
        if buf.isascii():
            # ASCII: characters are bytes, so split the decoded text and dispatch its pieces without decoding.
            text_pieces, plen = _split_events(buf.decode("ascii"), *_TEXT_SEPS[style])
            byte_pieces = []
            count = len(text_pieces)
            first = buf[: len(text_pieces[0])]
            last = buf[len(buf) - len(text_pieces[-1]) :]
        else:
            byte_pieces, plen = _split_events(buf, *_BYTES_SEPS[style])
            text_pieces = []
            count = len(byte_pieces)
            first = byte_pieces[0]
            last = byte_pieces[-1]
        if count == 1:
            return self._segment(buf, eolb, 0, out)
        # Each piece but the last is followed by a line ending and a blank line (the separator).
        self._segment(first + eolb + eolb, eolb, 0, out)
        if count > 2:
            if text_pieces:
                self._middle_text(text_pieces, plen, eolb, out)
            else:
                self._middle_bytes(byte_pieces, plen, eolb, out)
        return self._segment(_DATA_PREFIX[:plen] + last, eolb, 0, out)

    def _segment(self, seg: bytes, eolb: bytes, style: int, out: list[SSEEvent]) -> bytes:
        """Interpret the complete lines of ``seg``, line by line; return the unfinished last line."""
        if len(eolb) == 2:
            # CR and LF are both present: check that every one is part of a CRLF.
            rest = seg.replace(b"\r\n", b"")
            if rest.find(b"\r") >= 0 or rest.find(b"\n") >= 0:
                return self._mixed(seg, out)
        lines = seg.split(eolb)
        tail = lines.pop()
        if lines:
            self._lines(lines, len(eolb), style, out)
        return tail

    def _mixed(self, seg: bytes, out: list[SSEEvent]) -> bytes:
        """Interpret the complete lines of ``seg``, which mixes line-ending styles; return the unfinished rest."""
        start = 0
        for m in _EOL_RE.finditer(seg):
            s, e = m.span()
            style = _CRLF if e - s == 2 else _LF if seg[s] == 0x0A else _CR
            self._lines([seg[start:s]], e - s, style, out)
            start = e
        return seg[start:]

    def _middle_text(self, pieces: list[str], plen: int, eolb: bytes, out: list[SSEEvent]) -> None:
        """Dispatch ``pieces[1:-1]``: ASCII text, each after a ``data:`` prefix of ``plen``, before a separator."""
        eol = len(eolb)
        crlf = eol == 2
        probe = "\r" if crlf else eolb.decode("ascii")
        pos = self._line_start
        lineno = self._lineno
        index = self._index
        limit = self._max - plen
        make = _make_event
        emit = out.append
        step = plen + eol + eol
        for i in range(1, len(pieces) - 1):
            piece = pieces[i]
            n = len(piece)
            if n <= limit and probe not in piece and (not crlf or "\n" not in piece):
                emit(make(index, piece, None, None, None, pos, lineno))
                index += 1
                pos += n + step
                lineno += 2
                continue
            self._line_start = pos
            self._lineno = lineno
            self._index = index
            self._segment(_DATA_PREFIX[:plen] + piece.encode("ascii") + eolb + eolb, eolb, 0, out)
            pos = self._line_start
            lineno = self._lineno
            index = self._index
        self._line_start = pos
        self._lineno = lineno
        self._index = index

    def _middle_bytes(self, pieces: list[bytes], plen: int, eolb: bytes, out: list[SSEEvent]) -> None:
        """Dispatch ``pieces[1:-1]`` like :meth:`_middle_text`, for a buffer that is not ASCII."""
        eol = len(eolb)
        crlf = eol == 2
        probe = b"\r" if crlf else eolb
        pos = self._line_start
        lineno = self._lineno
        index = self._index
        limit = self._max - plen
        make = _make_event
        emit = out.append
        step = plen + eol + eol
        for i in range(1, len(pieces) - 1):
            piece = pieces[i]
            n = len(piece)
            if n <= limit and piece.find(probe) < 0 and (not crlf or piece.find(b"\n") < 0):
                try:
                    text = piece.decode()
                except UnicodeDecodeError:
                    pass  # _lines reports it
                else:
                    emit(make(index, text, None, None, None, pos, lineno))
                    index += 1
                    pos += n + step
                    lineno += 2
                    continue
            self._line_start = pos
            self._lineno = lineno
            self._index = index
            self._segment(_DATA_PREFIX[:plen] + piece + eolb + eolb, eolb, 0, out)
            pos = self._line_start
            lineno = self._lineno
            index = self._index
        self._line_start = pos
        self._lineno = lineno
        self._index = index

    def _line_overflow(self) -> None:
        """Drop the unfinished line, which grew past the limit, and skip the rest of it and of its event."""
        self._discarding = True
        if not self._skipping:
            self._oversized(LINE_TOO_LONG, self._line_start, self._lineno)

    def _oversized(self, kind: str, pos: int, lineno: int) -> None:
        if self._ev_pos < 0:
            self._ev_pos = pos
            self._ev_line = lineno
        self._skipping = True
        self._data = []
        if kind == LINE_TOO_LONG:
            msg = (
                f"Line {lineno} is longer than {self._max} bytes (max_event_bytes); "
                "it and the rest of its event were skipped."
            )
        else:
            msg = (
                f"Event data exceeds {self._max} bytes (max_event_bytes) at line {lineno}; "
                "the event was dropped and skipped up to its blank line."
            )
        self._report(kind, msg, pos, lineno, self._index)

    def _end_discard(self, chunk: bytes) -> bytes:
        """Drop the rest of an over-long line from ``chunk``; return what follows its line ending."""
        i_n = chunk.find(b"\n")
        i_r = chunk.find(b"\r")
        if i_n < 0 and i_r < 0:
            return b""
        lineno = self._lineno
        chunk_start = self.bytes_seen - len(chunk)
        self._discarding = False
        self._lineno = lineno + 1
        if i_r >= 0 and (i_n < 0 or i_r < i_n):
            if i_r + 1 == len(chunk):
                self._line_start = chunk_start + i_r + 1
                self._cr_pos, self._cr_line, self._cr_pending = chunk_start + i_r, lineno, True
                return b""
            if chunk[i_r + 1] == 0x0A:
                self._note_style(_CRLF, chunk_start + i_r, lineno)
                end = i_r + 2
            else:
                self._note_style(_CR, chunk_start + i_r, lineno)
                end = i_r + 1
        else:
            self._note_style(_LF, chunk_start + i_n, lineno)
            end = i_n + 1
        self._line_start = chunk_start + end
        return chunk[end:]

    def _lines(self, lines: list[bytes], eol: int, style: int, out: list[SSEEvent]) -> None:
        """Interpret complete ``lines``, each followed by a line ending of ``eol`` bytes in ``style``.

        The hot loop: blank lines and valid ``data:`` lines within the size limit are handled here with the
        event state in locals; every other line goes through :meth:`_line` with the state synced to ``self``.
        """
        if style and not (self._styles & style):
            # First line ending in this style: note it after the line's content, at the line ending.
            self._lines(lines[:1], eol, 0, out)
            self._note_style(style, self._line_start - eol, self._lineno - 1)
            lines = lines[1:]
        pos = self._line_start
        lineno = self._lineno
        maxb = self._max
        make = _make_event
        emit = out.append
        data = self._data
        ev_pos = self._ev_pos
        ev_line = self._ev_line
        ev_bytes = self._ev_bytes
        skipping = self._skipping
        index = self._index
        for line in lines:
            n = len(line)
            if not n:
                # Blank line: dispatch the event if its data buffer is not empty; reset the event state.
                if ev_pos >= 0:
                    if data:
                        text = data[0] if len(data) == 1 else "\n".join(data)
                        if self._ev_extra:
                            emit(make(index, text, self._ev_type, self._ev_id, self._ev_retry, ev_pos, ev_line))
                        else:
                            emit(make(index, text, None, None, None, ev_pos, ev_line))
                        index += 1
                        data = []
                    elif skipping:
                        index += 1  # the event dropped as too large keeps its place in the numbering
                    if self._ev_extra:
                        self._ev_extra = False
                        self._ev_type = self._ev_id = self._ev_retry = None
                    ev_pos = -1
                    ev_bytes = 0
                    skipping = False
            elif skipping:
                pass
            else:
                if ev_bytes + n <= maxb and line.startswith(b"data:"):
                    try:
                        text = (line[6:] if line[5:6] == b" " else line[5:]).decode()
                    except UnicodeDecodeError:
                        pass  # the slow path reports it
                    else:
                        if ev_pos < 0:
                            ev_pos = pos
                            ev_line = lineno
                        ev_bytes += n
                        data.append(text)
                        pos += n + eol
                        lineno += 1
                        continue
                self._data = data
                self._ev_pos = ev_pos
                self._ev_line = ev_line
                self._ev_bytes = ev_bytes
                self._skipping = skipping
                self._index = index
                self._line(line, pos, lineno)
                data = self._data
                ev_pos = self._ev_pos
                ev_line = self._ev_line
                ev_bytes = self._ev_bytes
                skipping = self._skipping
            pos += n + eol
            lineno += 1
        self._data = data
        self._ev_pos = ev_pos
        self._ev_line = ev_line
        self._ev_bytes = ev_bytes
        self._skipping = skipping
        self._index = index
        self._line_start = pos
        self._lineno = lineno

    def _bad_utf8(self, line: bytes, pos: int, lineno: int) -> None:
        try:
            line.decode()
        except UnicodeDecodeError as exc:
            where = exc.start
        else:  # pragma: no cover - only called for invalid lines
            where = 0
        self._report(
            INVALID_UTF8,
            f"Line {lineno} is not valid UTF-8 (bad byte 0x{line[where]:02x} at offset {pos + where});"
            " decoded with U+FFFD replacement characters.",
            pos,
            lineno,
            self._index,
        )

    def _line(self, line: bytes, pos: int, lineno: int) -> None:
        """Interpret one non-blank line outside a skipped event, with the event state in ``self``."""
        n = len(line)
        if n > self._max:
            self._oversized(LINE_TOO_LONG, pos, lineno)
            return
        if line[0] == _COLON:
            self.comments += 1
            if not line.isascii():
                try:
                    line.decode()
                except UnicodeDecodeError:
                    self._bad_utf8(line, pos, lineno)
            return
        if self._ev_pos < 0:
            self._ev_pos = pos
            self._ev_line = lineno
        self._ev_bytes += n
        if self._ev_bytes > self._max:
            self._oversized(EVENT_TOO_LARGE, pos, lineno)
            return
        if not line.isascii():
            try:
                line.decode()
            except UnicodeDecodeError:
                self._bad_utf8(line, pos, lineno)
        name, colon, raw = line.partition(b":")
        if colon and raw[:1] == b" ":
            raw = raw[1:]
        if name == b"data":
            self._data.append(raw.decode("utf-8", "replace"))
        elif name == b"event":
            self._ev_type = raw.decode("utf-8", "replace")
            self._ev_extra = True
        elif name == b"id":
            if raw.find(b"\0") >= 0:
                self._report(
                    NUL_IN_ID,
                    f"The id field on line {lineno} contains a NUL character; it was ignored.",
                    pos,
                    lineno,
                    self._index,
                )
            else:
                self._ev_id = self.last_event_id = raw.decode("utf-8", "replace")
                self._ev_extra = True
        elif name == b"retry":
            value: int | None = None
            if raw.isdigit():  # bytes.isdigit() is ASCII-only, and False for b""
                try:
                    value = int(raw)
                except ValueError:  # more digits than int() accepts (sys.int_info.str_digits_check_threshold)
                    value = None
            if value is None:
                self._report(
                    INVALID_RETRY,
                    f"The retry field on line {lineno} is {_show(raw)}, not ASCII digits; it was ignored.",
                    pos,
                    lineno,
                    self._index,
                )
            else:
                self._ev_retry = self.retry = value
                self._ev_extra = True
        else:
            self._report(
                UNKNOWN_FIELD,
                f"Unknown field {_show(name)} on line {lineno} was ignored.",
                pos,
                lineno,
                self._index,
            )


def parse_sse(data: bytes | str) -> tuple[list[SSEEvent], list[SSEAnomaly]]:
    """Parse a whole event stream at once: the dispatched events and the anomalies met.

    A ``str`` is encoded as UTF-8 first (lone surrogates pass through, and are then reported as invalid
    UTF-8).
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    parser = SSEParser()
    events = parser.feed(raw)
    events += parser.close()
    return events, parser.anomalies


def looks_like_sse(text: str | bytes) -> bool:
    """Cheap sniff: whether ``text`` starts like an event stream.

    True when, after an optional BOM and blank lines, the first line starts with ``data:``, ``event:``,
    ``id:``, ``retry:`` or ``:`` (a comment).
    """
    head = text[:4096]
    raw = head.encode("utf-8", "surrogatepass") if isinstance(head, str) else head
    if raw.startswith(_BOM_BYTES):
        raw = raw[3:]
    return raw.lstrip(b"\r\n").startswith(_SNIFF_PREFIXES)
