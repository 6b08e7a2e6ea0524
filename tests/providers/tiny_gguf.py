"""Write a tiny random-weight llama GGUF model, deterministically.

Run INSIDE the llamacpp provider venv (it has ``gguf`` and ``numpy``)::

    python tiny_gguf.py OUT.gguf

The model is meaningless (random weights, fixed seed) but real: llama.cpp loads it, tokenizes with it and
samples from it, so llama-cpp-python's server answers every chat-completion request with genuine inference.

- architecture ``llama``: 2 layers, n_embd 64, 4 heads, feed-forward 128, context 2048, F32 tensors;
- a SentencePiece-style vocabulary: ``<unk> <s> </s>``, the ChatML control tokens, all 256 byte tokens
  (llama.cpp's byte fallback throws without them), printable ASCII pieces with and without the ``▁`` prefix,
  and a few hundred English words (with the ``▁`` prefixes that lead up to them, so the tokenizer's merges can
  reach them); longer pieces score higher; ``add_space_prefix`` is false;
- a ChatML chat template (``tokenizer.chat_template``);
- the output-projection rows of byte, control and unknown tokens (all but ``</s>``) are zero, so the model only
  emits whole text pieces: output is always valid UTF-8 (and llama-cpp-python's UTF-8 continuation handling,
  which can overrun ``max_tokens``, is never exercised).
"""

from __future__ import annotations

import sys

import gguf  # type: ignore[import-not-found]
import numpy as np

SEED = 20240517
N_LAYER = 2
N_EMBD = 64
N_HEAD = 4
N_FF = 128
N_CTX = 2048

SP = "\u2581"  # SentencePiece's word-boundary marker

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}{% endif %}"
    "{{ '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

WORDS = """
the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she
or an will my one all would there their what so up out if about who get which go me when make can like time no
just him know take people into year your good some could them see other than then now look only come its over
think also back after use two how our work first well way even new want because any these give day most us is
are was were been has had did said does hello world yes okay sure thanks thank please sorry help answer question
model test tool call weather city paris london tokyo berlin rome madrid today tomorrow sunny rainy cold warm hot
temperature celsius fahrenheit number string value name result error data json list item true false null
small large big little old young long short high low right left early late great best better more less many much
very too here where why again still never always often sometimes maybe perhaps each every both few several
water fire earth air light dark sun moon star sky sea river mountain tree flower bird fish dog cat house home
room door window table chair book paper pen word line page story song music art color red blue green yellow
black white one two three four five six seven eight nine ten hundred thousand first second third last next
open close start stop begin end run walk read write speak listen learn teach play stay move turn show hear
find tell ask feel try leave put mean keep let seem talk become hold bring happen provide sit stand lose pay
meet include continue set change lead understand watch follow create spend grow offer remember love consider
appear buy wait serve die send expect build fall cut reach kill remain suggest raise pass sell require report
decide pull chat assistant user system message content role function arguments response request stream token
""".split()


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and token types (ids: 0 <unk>, 1 <s>, 2 </s>, 3 <|im_start|>, 4 <|im_end|>)."""
    tt = gguf.TokenType
    tokens: list[str] = []
    scores: list[float] = []
    types: list[int] = []
    seen: set[str] = set()

    def add(piece: str, score: float, kind: int) -> None:
        if piece in seen:
            return
        seen.add(piece)
        tokens.append(piece)
        scores.append(score)
        types.append(int(kind))

    add("<unk>", 0.0, tt.UNKNOWN)
    add("<s>", 0.0, tt.CONTROL)
    add("</s>", 0.0, tt.CONTROL)
    add("<|im_start|>", 0.0, tt.CONTROL)
    add("<|im_end|>", 0.0, tt.CONTROL)
    for b in range(256):
        add(f"<0x{b:02X}>", 0.0, tt.BYTE)
    # Text pieces: longer pieces score higher so the tokenizer prefers them; ties broken by order.
    pieces: list[str] = [SP]
    for code in range(0x21, 0x7F):
        pieces += [chr(code), SP + chr(code)]
    for word in WORDS:
        marked = SP + word
        pieces += [marked[:n] for n in range(2, len(marked) + 1)]
        pieces.append(word)
    for i, piece in enumerate(pieces):
        add(piece, float(len(piece)) - i * 1e-5, tt.NORMAL)
    return tokens, scores, types


def write(path: str) -> None:
    tokens, scores, types = vocabulary()
    n_vocab = len(tokens)
    rng = np.random.default_rng(SEED)

    def randn(*shape: int, std: float) -> np.ndarray:
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def ones(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    w = gguf.GGUFWriter(path, arch="llama")
    w.add_name("chatcontract-tiny-random")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_vocab_size(n_vocab)

    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    w.add_chat_template(CHATML_TEMPLATE)

    # numpy shapes are (rows, cols) = ggml's ne reversed: token_embd ne {n_embd, n_vocab}, etc.
    w.add_tensor("token_embd.weight", randn(n_vocab, N_EMBD, std=1.0))
    for i in range(N_LAYER):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", ones(N_EMBD))
        w.add_tensor(p + "attn_q.weight", randn(N_EMBD, N_EMBD, std=0.1))
        w.add_tensor(p + "attn_k.weight", randn(N_EMBD, N_EMBD, std=0.1))
        w.add_tensor(p + "attn_v.weight", randn(N_EMBD, N_EMBD, std=0.1))
        w.add_tensor(p + "attn_output.weight", randn(N_EMBD, N_EMBD, std=0.1))
        w.add_tensor(p + "ffn_norm.weight", ones(N_EMBD))
        w.add_tensor(p + "ffn_gate.weight", randn(N_FF, N_EMBD, std=0.1))
        w.add_tensor(p + "ffn_up.weight", randn(N_FF, N_EMBD, std=0.1))
        w.add_tensor(p + "ffn_down.weight", randn(N_EMBD, N_FF, std=0.1))
    w.add_tensor("output_norm.weight", ones(N_EMBD))
    output = randn(n_vocab, N_EMBD, std=1.0)
    eos = 2
    for tok_id, kind in enumerate(types):
        if kind != int(gguf.TokenType.NORMAL) and tok_id != eos:
            output[tok_id, :] = 0.0
    w.add_tensor("output.weight", output)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tiny_gguf.py OUT.gguf")
    write(sys.argv[1])
