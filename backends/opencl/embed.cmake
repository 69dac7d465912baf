# Embed one OpenCL C source as a C array. Run as a script:
#   cmake -DSRC=kernels/opencl/x.cl -DDST=build/.../tfb_cl_x.c -DNAME=x -P embed.cmake
# writes `const unsigned char tfb_cl_<NAME>[]` (the bytes, NUL-terminated) and
# `const size_t tfb_cl_<NAME>_len` (without the NUL).
file(READ "${SRC}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR n "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
# Break the initializer into lines of 16 bytes so compilers and diffs stay happy.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " body "${body}")
file(WRITE "${DST}.tmp"
  "/* Generated from ${SRC} by backends/opencl/embed.cmake; do not edit. */\n"
  "#include <stddef.h>\n"
  "const unsigned char tfb_cl_${NAME}[] = {\n    ${body}0x00};\n"
  "const size_t tfb_cl_${NAME}_len = ${n};\n")
file(RENAME "${DST}.tmp" "${DST}")
