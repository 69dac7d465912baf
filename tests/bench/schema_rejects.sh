#!/bin/sh
# The schema validator accepts a good file and rejects broken copies of it, so the schema test can fail.
# usage: schema_rejects.sh VALIDATOR FIXTURES_DIR
set -eu
v=$1 fx=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$v" "$fx/base.json"
mutate() { # name, python statement over `d`
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2; json.dump(d, open(sys.argv[2], 'w'))" \
        "$fx/base.json" "$tmp/$1.json"
    if python3 "$v" "$tmp/$1.json" >/dev/null; then echo "validator accepted $1"; exit 1; fi
}
mutate no_schema "del d['schema']"
mutate old_schema "d['schema'] = 'tfbench-results/0'"
mutate no_env_commit "del d['environment']['git_commit']"
mutate no_samples "del d['results'][0]['samples']"
mutate string_threads "d['results'][0]['threads'] = '2'"
mutate wrong_median "d['results'][0]['median'] = 12345"
mutate bad_kind "d['results'][0]['kind'] = 'blended'"
mutate no_latency "del d['results'][1]['token_latency_s']"
mutate n_mismatch "d['results'][0]['n'] = 9"
mutate no_results "d['results'] = []"
mutate ratio_ci_reversed "d['results'][0]['metric'] = 'speedup'; d['results'][0]['ratio_ci95'] = [2.0, 1.0]"
mutate ratio_ci_on_rate "d['results'][0]['ratio_ci95'] = [1.0, 2.0]"
mutate number_hostname "d['environment']['hostname'] = 7"
# act: "q8" only, only on q8_0/q4_0 rows and skipped entries, and in agreement with environment.act.
mutate act_on_f32 "d['results'][0]['act'] = 'q8'"
mutate act_not_q8 "d['results'][0]['dtype'] = 'q4_0'; d['results'][0]['act'] = 'q4'"
mutate env_act_bogus "d['environment']['act'] = 'int8'"
mutate act_row_missing "d['environment']['act'] = 'q8'; d['results'][0]['dtype'] = 'q8_0'"
mutate act_in_f32_run "d['environment']['act'] = 'f32'; d['results'][0]['dtype'] = 'q4_0'; d['results'][0]['act'] = 'q8'"
mutate act_skipped_f32 "d['skipped'] = [dict(backend='opencl', model='gpt2-tiny', dtype='f32', act='q8', reason='x')]"
# ... and accepts a well-formed ratio interval, so the two rejections above are about the interval.
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['results'][0]['metric'] = 'speedup'
d['results'][0]['ratio_ci95'] = [1.0, 2.0]; json.dump(d, open(sys.argv[2], 'w'))" "$fx/base.json" "$tmp/ratio_ok.json"
python3 "$v" "$tmp/ratio_ok.json"
# ... and accepts act where it belongs, so the act rejections above are about where it was.
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['environment']['act'] = 'q8'
for r in d['results'][:2]: r['dtype'] = 'q4_0'; r['act'] = 'q8'
d['skipped'] = [dict(backend='opencl', model='gpt2-tiny', dtype='q8_0', act='q8', reason='x')]
json.dump(d, open(sys.argv[2], 'w'))" "$fx/base.json" "$tmp/act_ok.json"
python3 "$v" "$tmp/act_ok.json"
if python3 "$v" "$fx/base.json" --expect-kinds kv >/dev/null; then echo "validator missed an absent kind"; exit 1; fi
echo ok
