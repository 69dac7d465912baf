// SentencePiece .model files through Debian's libsentencepiece (0.1.97): a small extern "C" shim,
// as harness/gbench wraps Google Benchmark. No exception or C++ type crosses into C.
#include <sentencepiece_processor.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// status.h declares a C11 _Noreturn function; C++ spells it [[noreturn]].
#define _Noreturn [[noreturn]]
extern "C" {
#include "text_impl.h"
}
#undef _Noreturn

namespace {
sentencepiece::SentencePieceProcessor *sp(void *p) { return static_cast<sentencepiece::SentencePieceProcessor *>(p); }
} // namespace

extern "C" void *tfb__tt_spm_load(const char *path, char *err, size_t errn) {
    char *data = nullptr;
    size_t n = 0;
    if (tfb__tt_read_file(path, &data, &n) != TFB_STATUS_OK) { // bounded read; its error is already set
        std::snprintf(err, errn, "%s", tfb_error_last());
        return nullptr;
    }
    void *p = tfb__tt_spm_load_proto(data, n, path, err, errn);
    std::free(data);
    return p;
}

extern "C" void tfb__tt_spm_free(void *p) { delete sp(p); }

extern "C" int tfb__tt_spm_encode(void *p, const char *s, size_t n, int32_t **ids) {
    try {
        std::vector<int> v;
        if (!sp(p)->Encode(std::string(s, n), &v).ok())
            return -1;
        *ids = static_cast<int32_t *>(std::malloc((v.size() + 1) * sizeof(int32_t)));
        if (!*ids)
            return -1;
        for (size_t i = 0; i < v.size(); i++)
            (*ids)[i] = v[i];
        return static_cast<int>(v.size());
    } catch (...) {
        return -1;
    }
}

extern "C" int tfb__tt_spm_encode_pieces(void *p, const char *s, size_t n, char **pieces, size_t *plen) {
    try {
        std::vector<std::string> v;
        if (!sp(p)->Encode(std::string(s, n), &v).ok())
            return -1;
        std::string all;
        for (auto &x : v) {
            all += x;
            all.push_back('\0');
        }
        *pieces = static_cast<char *>(std::malloc(all.size() + 1));
        if (!*pieces)
            return -1;
        std::memcpy(*pieces, all.data(), all.size());
        *plen = all.size();
        return static_cast<int>(v.size());
    } catch (...) {
        return -1;
    }
}

static char *dup(const std::string &s, size_t *len) {
    char *r = static_cast<char *>(std::malloc(s.size() + 1));
    *len = s.size();
    if (r) {
        std::memcpy(r, s.data(), s.size());
        r[s.size()] = 0;
    }
    return r;
}

extern "C" char *tfb__tt_spm_decode(void *p, const int32_t *ids, int n, size_t *len) {
    try {
        std::vector<int> v(ids, ids + n);
        std::string out;
        if (!sp(p)->Decode(v, &out).ok())
            return nullptr;
        return dup(out, len);
    } catch (...) {
        return nullptr;
    }
}

extern "C" char *tfb__tt_spm_decode_pieces(void *p, const char *pieces, size_t plen, int n, size_t *len) {
    try {
        std::vector<std::string> v;
        size_t at = 0;
        for (int i = 0; i < n && at <= plen; i++) {
            size_t len = std::strlen(pieces + at);
            v.emplace_back(pieces + at, len);
            at += len + 1;
        }
        std::string out;
        if (!sp(p)->Decode(v, &out).ok())
            return nullptr;
        return dup(out, len);
    } catch (...) {
        return nullptr;
    }
}

extern "C" int tfb__tt_spm_size(void *p) { return sp(p)->GetPieceSize(); }

extern "C" const char *tfb__tt_spm_piece(void *p, int id) {
    if (id < 0 || id >= sp(p)->GetPieceSize())
        return nullptr;
    return sp(p)->IdToPiece(id).c_str();
}

extern "C" int tfb__tt_spm_special(void *p, int *bos, int *eos, int *unk) {
    *bos = sp(p)->bos_id();
    *eos = sp(p)->eos_id();
    *unk = sp(p)->unk_id();
    return 0;
}

extern "C" bool tfb__tt_spm_is_control(void *p, int id) { return sp(p)->IsControl(id); }

// A serialized ModelProto: a .model file's bytes (tfb__tt_spm_load) or one built from GGUF tokenizer
// metadata (gguf_tok.c); label names it in messages.
extern "C" void *tfb__tt_spm_load_proto(const char *data, size_t n, const char *label, char *err, size_t errn) {
    // libsentencepiece reads a precompiled_charsmap's trie without bounds checks: a malformed one is
    // refused here, before it does.
    const char *where = "";
    int ok = tfb__tt_spm_proto_check(reinterpret_cast<const unsigned char *>(data), n, &where);
    if (ok < 0) {
        std::snprintf(err, errn, "%s: out of memory", label);
        return nullptr;
    }
    if (ok == 0) {
        std::snprintf(err, errn, "%s: tokenizer: not a SentencePiece model this loader accepts: %s is malformed (a "
                      "protobuf field it cannot walk, or a precompiled_charsmap whose trie reaches past itself)",
                      label, where);
        return nullptr;
    }
    auto *p = new (std::nothrow) sentencepiece::SentencePieceProcessor();
    if (!p) {
        std::snprintf(err, errn, "%s: out of memory", label);
        return nullptr;
    }
    try {
        auto st = p->LoadFromSerializedProto(std::string(data, n));
        if (!st.ok()) {
            std::snprintf(err, errn, "%s: tokenizer: not a SentencePiece model libsentencepiece accepts (%s)", label,
                          st.ToString().c_str());
            delete p;
            return nullptr;
        }
    } catch (const std::exception &e) {
        std::snprintf(err, errn, "%s: tokenizer: %s", label, e.what());
        delete p;
        return nullptr;
    }
    return p;
}
