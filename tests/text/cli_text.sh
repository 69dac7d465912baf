#!/usr/bin/env bash
# tokenize / detokenize / embed through the CLI on the committed fixtures, and the refusals: each
# malformed or unsupported tokenizer file (truncated, wrong types, huge counts, unknown model type,
# an unimplemented component) and each unimplemented sentence-transformers module or pooling mode is
# one stderr line naming it, exit 2.
set -u
tfb=$1 FIX=$2
. "$(dirname "$0")/../lib.sh"
BL=$FIX/bytelevel_bpe WP=$FIX/wordpiece
# ids and tokens; --ids alone; detokenize back
out=$("$tfb" tokenize --model "$WP" "Hello, world!") || fail "tokenize"
[ "$(echo "$out" | head -1)" = "$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))['lines'][1]['ids'])))" "$WP/expected.json")" ] ||
  fail "tokenize ids: $out"
echo "$out" | sed -n 2p | grep -q '^\["\[CLS\]",.*"\[SEP\]"\]$' || fail "tokenize tokens: $out"
[ "$("$tfb" tokenize --model "$WP" --ids "Hello, world!" | wc -l)" = 1 ] || fail "--ids prints more than the ids"
ids=$("$tfb" tokenize --model "$BL" --ids "café naïve résumé façade")
[ "$("$tfb" detokenize --model "$BL" "$ids")" = "café naïve résumé façade" ] || fail "detokenize of $ids"
# tokenizer.model alone: <s> first (LlamaTokenizer), or as tokenizer_config.json's add_bos_token /
# add_eos_token say
mkdir -p "$tmp/llama" && cp "$FIX/spm_bpe/tokenizer.model" "$tmp/llama/"
raw=$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))['lines'][1]['ids'])))" "$FIX/spm_bpe/expected.json")
[ "$("$tfb" tokenize --model "$tmp/llama" --ids "Hello, world!")" = "1,$raw" ] || fail "tokenizer.model: not <s> + ids"
echo '{"add_bos_token": false, "add_eos_token": true}' >"$tmp/llama/tokenizer_config.json"
[ "$("$tfb" tokenize --model "$tmp/llama" --ids "Hello, world!")" = "$raw,2" ] || fail "tokenizer.model: add_bos/eos_token ignored"
# invalid UTF-8 on the command line: decoded as errors="replace" (fixture line 28 is "bad \xff byte")
want=$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))['lines'][27]['ids'])))" "$BL/expected.json")
[ "$("$tfb" tokenize --model "$BL" --ids $'bad \xff byte')" = "$want" ] || fail "invalid UTF-8 not tokenized as U+FFFD"
# run --prompt / --source on the tiny transformers checkpoints (GPT-2, Llama, Marian), given a word-level tokenizer over
# their 96 ids ("w0".."w95"): the prompt's ids are fed as --tokens would be, and the generated ids
# are printed, then their text, which must be the detokenize of those ids
HF=$(dirname "$FIX")/../hf/fixtures
wl() { # DIR: copy of a fixture with a WordLevel tokenizer.json of n ids
  python3 - "$1" <<'PY'
import json, sys
v = {"w%d" % i: i for i in range(96)}
json.dump({"version": "1.0", "added_tokens": [], "normalizer": None,
           "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": None, "decoder": None,
           "model": {"type": "WordLevel", "vocab": v, "unk_token": "w3"}}, open(sys.argv[1] + "/tokenizer.json", "w"))
PY
}
for fam in gpt2 llama_gqa marian; do
  cp -r "$HF/$fam" "$tmp/$fam" && wl "$tmp/$fam"
done
for fam in gpt2 llama_gqa; do
  "$tfb" run --model "$tmp/$fam" --prompt "w5 w7 w11 w13" --n-gen 4 >"$tmp/g.out" 2>&1 || fail "$fam run --prompt: $(cat "$tmp/g.out")"
  "$tfb" run --model "$tmp/$fam" --tokens 5,7,11,13 --n-gen 4 >"$tmp/g.ids" 2>&1 || fail "$fam run --tokens"
  [ "$(head -1 "$tmp/g.out")" = "$(cat "$tmp/g.ids")" ] ||
    fail "$fam run --prompt ids $(head -1 "$tmp/g.out") differ from --tokens $(cat "$tmp/g.ids")"
  [ "$(sed -n 2p "$tmp/g.out")" = "$("$tfb" detokenize --model "$tmp/$fam" "$(head -1 "$tmp/g.out")")" ] ||
    fail "$fam run --prompt text '$(sed -n 2p "$tmp/g.out")' is not the text of its ids"
done
"$tfb" run --model "$tmp/marian" --source "w5 w7 w11" --n-gen 3 >"$tmp/m.out" 2>&1 || fail "run --source: $(cat "$tmp/m.out")"
"$tfb" run --model "$tmp/marian" --source-tokens 5,7,11 --n-gen 3 >"$tmp/m.ids" 2>&1 || fail "run --source-tokens"
[ "$(head -1 "$tmp/m.out")" = "$(cat "$tmp/m.ids")" ] || fail "run --source ids differ from --source-tokens"
[ "$(wc -l <"$tmp/m.out")" = 2 ] || fail "run --source printed no text: $(cat "$tmp/m.out")"
# truncation as the file says, either direction (ids from tokenizers with enable_truncation(6))
python3 - "$WP/tokenizer.json" "$tmp" <<'PY'
import json, os, sys
for d in ("Right", "Left"):
    t = json.load(open(sys.argv[1]))
    t["truncation"] = {"direction": d, "max_length": 6, "strategy": "LongestFirst", "stride": 0}
    os.makedirs(os.path.join(sys.argv[2], "trunc" + d), exist_ok=True)
    json.dump(t, open(os.path.join(sys.argv[2], "trunc" + d, "tokenizer.json"), "w"))
PY
[ "$("$tfb" tokenize --model "$tmp/truncRight" --ids "the quick brown fox jumps over the lazy dog")" = 2,316,269,400,363,3 ] ||
  fail "truncation Right: $("$tfb" tokenize --model "$tmp/truncRight" --ids "the quick brown fox jumps over the lazy dog")"
[ "$("$tfb" tokenize --model "$tmp/truncLeft" --ids "the quick brown fox jumps over the lazy dog")" = 2,399,316,323,249,3 ] ||
  fail "truncation Left: $("$tfb" tokenize --model "$tmp/truncLeft" --ids "the quick brown fox jumps over the lazy dog")"
# pre-tokenizer split behaviors (pieces as tokenizers 0.19's pre_tokenize_str gives them), through
# a word-level vocabulary of every string over "ab .1" and U+0301 up to 5 characters
pt() { # NAME PRE_TOKENIZER_JSON TEXT WANT_TOKENS_JSON
  mkdir -p "$tmp/pt_$1"
  python3 - "$tmp/pt_$1/tokenizer.json" "$2" <<'PY'
import itertools, json, sys
v = {"[UNK]": 0}
for n in range(1, 6):
    for t in itertools.product("ab .1\u0301", repeat=n):
        v.setdefault("".join(t), len(v))
json.dump({"version": "1.0", "added_tokens": [], "normalizer": None, "pre_tokenizer": json.loads(sys.argv[2]),
           "post_processor": None, "decoder": None, "model": {"type": "WordLevel", "vocab": v, "unk_token": "[UNK]"}},
          open(sys.argv[1], "w"))
PY
  got=$("$tfb" tokenize --model "$tmp/pt_$1" "$3" | sed -n 2p)
  [ "$got" = "$4" ] || fail "pre-tokenizer $1 on '$3': $got, tokenizers gives $4"
}
pt whitespace '{"type": "Whitespace"}' "a. .b" '["a",".",".","b"]'
pt whitespace_mark '{"type": "Whitespace"}' $'a\xcc\x81b.b 1' $'["a\xcc\x81b",".","b","1"]'
pt whitespace2 '{"type": "Whitespace"}' "..a" '["..","a"]'
pt prev '{"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": false}' "a  b" '["a "," ","b"]'
pt next '{"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithNext", "invert": false}' "a  b" '["a"," "," b"]'
pt contig_inv '{"type": "Split", "pattern": {"String": " "}, "behavior": "Contiguous", "invert": true}' "a  b" '["a","  ","b"]'
pt punct_prev '{"type": "Punctuation", "behavior": "MergedWithPrevious"}' "..a" '[".",".","a"]'
pt punct_prev2 '{"type": "Punctuation", "behavior": "MergedWithPrevious"}' "a1 .1b" '["a1 .","1b"]'
# refusals
expect_error 2 "no tokenizer" -- tokenize --model "$tmp" "x"
expect_error 2 "needs a model directory" -- tokenize --model gpt2-tiny "x"
expect_error 2 "needs a model directory" -- run --model gpt2-tiny --prompt "x"
expect_error 2 "not in the vocabulary" -- detokenize --model "$WP" 1,999999
bad() { # NAME PATTERN PYTHON-EDIT: a copy of wordpiece/tokenizer.json changed by the edit must be refused
  mkdir -p "$tmp/$1"
  python3 - "$WP/tokenizer.json" "$tmp/$1/tokenizer.json" "$3" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], 'w').write(json.dumps(t))
PY
  expect_error 2 "$2" -- tokenize --model "$tmp/$1" "hello"
}
mkdir -p "$tmp/truncated"
head -c 2000 "$WP/tokenizer.json" >"$tmp/truncated/tokenizer.json"
expect_error 2 "tokenizer.json: not valid JSON" -- tokenize --model "$tmp/truncated" "hello"
cp -r "$FIX/marian" "$tmp/marian_sep" && cp "$FIX/marian/vocab.json" "$tmp/marian_sep/target_vocab.json"
expect_error 2 "target_vocab.json: separate source and target vocabularies are not supported" -- tokenize --model "$tmp/marian_sep" "x"
spm_bad() { # NAME PATTERN MODE: spm_unigram's spiece.model with its charsmap's root unit pointing far past
  # the trie (charsmap; libsentencepiece would read there unchecked), or a group field appended (group)
  mkdir -p "$tmp/$1"
  python3 - "$FIX/spm_unigram/spiece.model" "$tmp/$1/spiece.model" "$3" <<'PY'
import sys
def varint(b, i):
    v = sh = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7F) << sh; sh += 7
        if not c & 0x80: return v, i
data, mode, i = bytearray(open(sys.argv[1], 'rb').read()), sys.argv[3], 0
while mode == 'charsmap' and i < len(data):
    key, j = varint(data, i)
    assert key & 7 in (0, 2)
    n, k = varint(data, j)
    if key == (3 << 3 | 2):  # normalizer_spec
        q = k
        while q < k + n:
            key2, r = varint(data, q)
            n2, s = varint(data, r)
            if key2 == (2 << 3 | 2):  # precompiled_charsmap: trie size, then the root unit
                data[s + 4:s + 8] = (0x7FFFFC00 | data[s + 4]).to_bytes(4, 'little')
                mode = 'done'
                break
            q = s + n2 if key2 & 7 == 2 else r
    i = k + n if key & 7 == 2 else k
assert mode != 'charsmap'
if mode == 'group':
    data += bytes([0x0b, 0x1a, 0x00, 0x0c])
open(sys.argv[2], 'wb').write(data)
PY
  expect_error 2 "$2" -- tokenize --model "$tmp/$1" "hello"
}
spm_bad spm_charsmap 'spiece.model: tokenizer: not a SentencePiece model this loader accepts: normalizer_spec is malformed' charsmap
spm_bad spm_group 'the model proto is malformed' group
mkdir -p "$tmp/notutf8"
printf '{"model": {"type": "WordLevel", "vocab": {"\xff": 0}}}' >"$tmp/notutf8/tokenizer.json"
expect_error 2 "tokenizer.json: not valid UTF-8" -- tokenize --model "$tmp/notutf8" "hello"
bad trunc_dir 'truncation direction "Up" is not supported' "t['truncation'] = {'max_length': 4, 'strategy': 'LongestFirst', 'stride': 0, 'direction': 'Up'}"
bad model_type 'model "Foo" is not supported' "t['model']['type'] = 'Foo'"
bad pretok 'pre_tokenizer "UnicodeScripts" is not supported' "t['pre_tokenizer'] = {'type': 'UnicodeScripts'}"
bad norm 'normalizer "Nmt" is not supported' "t['normalizer'] = {'type': 'Sequence', 'normalizers': [{'type': 'Nmt'}]}"
bad decoder 'decoder "CTC" is not supported' "t['decoder'] = {'type': 'CTC'}"
bad post 'post_processor "Foo" is not supported' "t['post_processor'] = {'type': 'Foo'}"
bad vocab_type 'model WordPiece: "vocab" is not an object' "t['model']['vocab'] = [1, 2]"
bad vocab_id 'is not an id below' "t['model']['vocab']['hello'] = 'x'"
bad huge_id 'not an id below' "t['model']['vocab']['hello'] = 10**9"
bad added_huge 'added_tokens\[0\]' "t['added_tokens'][0]['id'] = 10**12"
bad seq_count 'is not an array of at most 64' "t['normalizer'] = {'type': 'Sequence', 'normalizers': [{'type': 'NFC'}] * 100}"
bad added_count 'is not an array of at most 65536' "t['added_tokens'] = [dict(t['added_tokens'][0], id=i, content='x%d' % i) for i in range(70000)]"
bad template_count 'bad ids of' "t['post_processor']['special_tokens']['[CLS]']['ids'] = [2] * 100"
bad added_type '"added_tokens" is not an array' "t['added_tokens'] = {'a': 1}"
bad model_missing '"model" is not an object' "t['model'] = 3"
bad regex 'pattern "(": missing closing parenthesis' "t['pre_tokenizer'] = {'type': 'Split', 'pattern': {'Regex': '('}, 'behavior': 'Isolated', 'invert': False}"
bad seq_deep 'nested deeper' "
p = {'type': 'BertPreTokenizer'}
for _ in range(20): p = {'type': 'Sequence', 'pretokenizers': [p]}
t['pre_tokenizer'] = p"
bad template 'special token "\[XYZ\]" is not defined' "t['post_processor']['single'][0] = {'SpecialToken': {'id': '[XYZ]', 'type_id': 0}}"
# embed: modules and pooling modes that are not implemented are named
mkdir -p "$tmp/st/1_Pooling"
cp "$WP/tokenizer.json" "$tmp/st/"
echo '[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
 {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
 {"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"}]' >"$tmp/st/modules.json"
echo '{"word_embedding_dimension": 8, "pooling_mode_mean_tokens": true}' >"$tmp/st/1_Pooling/config.json"
expect_error 2 'module "sentence_transformers.models.Dense" is not supported' -- embed --model "$tmp/st" "x"
echo '[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
 {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]' >"$tmp/st/modules.json"
echo '{"word_embedding_dimension": 8, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}' >"$tmp/st/1_Pooling/config.json"
expect_error 2 'pooling_mode_cls_token is not supported' -- embed --model "$tmp/st" "x"
finish cli_text
