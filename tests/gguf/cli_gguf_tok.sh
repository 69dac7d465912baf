#!/bin/sh
# The tokenizer of GGUF metadata through the CLI (tests/gguf/fixtures/tok, gen_tok_fixtures.py):
# every malformed or unmodelled file refused in one line "tfbench: FILE: tokenizer: <what>", exit 2,
# nothing on stdout; a planted merge caught by the expectation check (test_text exits 1, not 0 or 2);
# tokenize and run --prompt on GGUF files; a model GGUF without a usable tokenizer still runs --tokens.
# usage: cli_gguf_tok.sh TFBENCH TEST_TEXT TOK_FIXTURES TEXT_FIXTURES MODEL_FIXTURES
set -u
CLI=$1 TT=$2 TOK=$3 TEXT=$4 MODELS=$5
fail=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

refused() { # FILE WHAT: tokenize must refuse FILE in one line containing WHAT
    "$CLI" tokenize --model "$1" "some text" >"$out" 2>"$err"
    rc=$?
    if [ $rc -ne 2 ] || [ -s "$out" ] || [ "$(wc -l <"$err")" -ne 1 ] ||
        ! grep -q "^tfbench: $1: tokenizer: .*$2" "$err"; then
        echo "FAIL $1: rc $rc, stderr: $(cat "$err")"
        fail=1
    else
        echo "ok   $(cat "$err")"
    fi
}
refused "$TOK/bad/no_tokenizer.gguf" "no tokenizer metadata"
refused "$TOK/bad/no_merges.gguf" "needs tokenizer.ggml.merges"
refused "$TOK/bad/unknown_pre.gguf" 'pre-tokenizer "no-such-pre"'
refused "$TOK/bad/merge_not_in_vocab.gguf" "not in the vocabulary"
refused "$TOK/bad/merge_not_two.gguf" "not two tokens"
refused "$TOK/bad/scores_count.gguf" "2 scores for 3 tokens"
refused "$TOK/bad/types_count.gguf" "4 token types for 3 tokens"
refused "$TOK/bad/bad_type.gguf" "type 9"
refused "$TOK/bad/unknown_model.gguf" 'model "rwkv"'
refused "$TOK/bad/bos_out_of_range.gguf" "bos_token_id"
refused "$TOK/bad/spm_no_unknown.gguf" "type unknown"

# The planted merge (the first merge moved last) must make the expectation check fail.
"$TT" "$TEXT/bytelevel_bpe" --gguf "$TOK/planted_merge.gguf" >"$out" 2>&1
rc=$?
if [ $rc -ne 1 ]; then
    echo "FAIL planted merge: test_text exit $rc (want 1)"; cat "$out"; fail=1
else
    echo "ok   planted merge caught: $(tail -1 "$out")"
fi

# tokenize through the CLI, tokens and ids
got=$("$CLI" tokenize --model "$TOK/wordpiece.gguf" "Hello, World!" 2>&1)
[ "$got" = '2,267,12,268,5,3
["[CLS]","hello",",","world","!","[SEP]"]' ] || { echo "FAIL tokenize wordpiece.gguf: $got"; fail=1; }
got=$("$CLI" tokenize --ids --model "$TOK/bytelevel_bpe.gguf" "Hello world" 2>&1)
want=$("$CLI" tokenize --ids --model "$TEXT/bytelevel_bpe" "Hello world" 2>&1)
[ "$got" = "$want" ] || { echo "FAIL tokenize --ids bytelevel_bpe.gguf: $got, directory: $want"; fail=1; }

# A model GGUF whose vocabulary is the fixtures' synthetic "<tN>" list (no unknown piece): --prompt
# is refused in one line, --tokens runs.
"$CLI" run --model "$MODELS/llama_gqa.f32.gguf" --prompt "hi" >"$out" 2>"$err"
rc=$?
if [ $rc -ne 2 ] || [ "$(wc -l <"$err")" -ne 1 ] || ! grep -q "tokenizer:" "$err"; then
    echo "FAIL run --prompt on a synthetic vocabulary: rc $rc: $(cat "$err")"; fail=1
else
    echo "ok   $(cat "$err")"
fi
"$CLI" run --model "$MODELS/llama_gqa.f32.gguf" --tokens 1,2,3 >"$out" 2>"$err" ||
    { echo "FAIL run --tokens on llama_gqa.f32.gguf: $(cat "$err")"; fail=1; }
# run --prompt on a whole model converted with its tokenizer.model (llama_spm.f32.gguf): the prompt's
# ids are the .model's (the directory's tokenizer), and the run equals run --tokens with those ids.
M="$TOK/llama_spm.f32.gguf"
ids=$("$CLI" tokenize --ids --model "$M" "Hello world" 2>&1)
dir_ids=$("$CLI" tokenize --ids --model "$TEXT/spm_bpe" "Hello world" 2>&1)
[ "$ids" = "$dir_ids" ] && [ -n "$ids" ] || { echo "FAIL llama_spm ids $ids, tokenizer.model gives $dir_ids"; fail=1; }
got=$("$CLI" run --model "$M" --prompt "Hello world" 2>&1) || { echo "FAIL run --prompt: $got"; fail=1; }
want=$("$CLI" run --model "$M" --tokens "$ids" 2>&1)
if [ "$(echo "$got" | head -1)" != "$want" ] || [ "$(echo "$got" | wc -l)" -ne 2 ]; then
    echo "FAIL run --prompt on llama_spm.f32.gguf: $got; run --tokens $ids: $want"; fail=1
else
    echo "ok   run --prompt = run --tokens $ids: $(echo "$got" | tail -1)"
fi
[ $fail -eq 0 ] && echo "cli_gguf_tok: all passed"
exit $fail
