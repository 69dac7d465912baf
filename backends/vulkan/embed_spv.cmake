# cmake -DSPV=<file.spv> -DOUT=<file.c> -DNAME=<symbol suffix> -P embed_spv.cmake
# Writes `const unsigned char tfb_spv_<NAME>[]` and `tfb_spv_<NAME>_len` from a SPIR-V binary.
file(READ ${SPV} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE ${OUT} "/* Generated from ${SPV}; do not edit. */\n#include <stddef.h>\n"
     "const unsigned char tfb_spv_${NAME}[] = {\n${body}\n};\n"
     "const size_t tfb_spv_${NAME}_len = ${bytes};\n")
