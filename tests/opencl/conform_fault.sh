#!/bin/sh
# A planted fault around the OpenCL backend must make `tfbench-faults conform` fail at the model level
# (the same faults and expectations as tests/conform's, which wrap the reference: a kernel that gets
# the semantics right on its own still runs each fault's rewritten nodes, so this proves the OpenCL
# run is checked as closely as the reference's).
#   conform_fault.sh TFBENCH_FAULTS FAULT EXPECTED_RC MODEL [PATTERN...]
# Each PATTERN (an extended regex) must match a line of stdout.
set -u
cli=$1 fault=$2 want=$3 model=$4
shift 4
out=$(TFB_FAULT=$fault TFB_FAULT_BASE=opencl "$cli" conform --backend fault --model "$model" --dtype f32 \
      --model-level-only 2>&1)
rc=$?
status=0
if [ "$rc" != "$want" ]; then
    echo "fault $fault on opencl: exit $rc, expected $want"
    status=1
fi
for p in "$@"; do
    if ! printf '%s\n' "$out" | grep -Eq -- "$p"; then
        echo "fault $fault on opencl: no line matches '$p'"
        status=1
    fi
done
[ $status = 0 ] && echo "fault $fault on opencl: exit $rc as expected" || printf '%s\n' "$out"
exit $status
