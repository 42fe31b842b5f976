#include "documents/deflate.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>

namespace hb::documents {
namespace {

// Owns a z_stream set up for inflating or deflating; ends it on destruction.
class ZStream {
 public:
  enum class Mode { kInflate, kDeflate };

  // mem_level only for deflating.
  ZStream(Mode mode, int window_bits, int mem_level = 9) : mode_(mode) {
    int rc = mode == Mode::kInflate ? inflateInit2(&z_, window_bits)
                                    : deflateInit2(&z_, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits,
                                                   mem_level, Z_DEFAULT_STRATEGY);
    ok_ = rc == Z_OK;
  }
  ~ZStream() {
    if (!ok_) return;
    if (mode_ == Mode::kInflate) {
      inflateEnd(&z_);
    } else {
      deflateEnd(&z_);
    }
  }
  ZStream(const ZStream&) = delete;
  ZStream& operator=(const ZStream&) = delete;

  bool ok() const { return ok_; }
  z_stream* get() { return &z_; }

 private:
  z_stream z_{};
  Mode mode_;
  bool ok_ = false;
};

Status too_large(const char* what, std::size_t max_output) {
  return Status(Code::kTooLarge, std::string(what) + " output exceeds the limit of " +
                                     std::to_string(max_output) + " bytes");
}

// This thread's inflate stream for raw (-15) or zlib (15) DEFLATE, reset for a new input.
// inflateInit2 allocates about 7 kB of state, past the allocator's per-thread cache, and
// inflateEnd frees it. A reset stream is as good as new.
z_stream* inflater(int window_bits) {
  thread_local ZStream raw(ZStream::Mode::kInflate, -15);
  thread_local ZStream wrapped(ZStream::Mode::kInflate, 15);
  ZStream& zs = window_bits == -15 ? raw : wrapped;
  if (!zs.ok() || inflateReset(zs.get()) != Z_OK) return nullptr;
  return zs.get();
}

// zlib's inflate, streaming into a growing buffer. Used to say why libdeflate refused a stream
// (truncated, or which defect): libdeflate only answers "bad data".
Result<std::string> zlib_inflate(std::string_view data, std::size_t max_output, int window_bits,
                                 const char* what) {
  z_stream* z = inflater(window_bits);
  if (!z) return internal("inflateInit2 failed");
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z->avail_in = static_cast<uInt>(data.size());
  // The buffer never exceeds max_output + 1 bytes, so reaching that size means "over the cap".
  const std::size_t cap = max_output == SIZE_MAX ? max_output : max_output + 1;
  std::string out(std::min(cap, std::max<std::size_t>(1024, 4 * data.size())), '\0');
  std::size_t produced = 0;
  for (;;) {
    const std::size_t room = std::min<std::size_t>(out.size() - produced, UINT_MAX / 2);
    z->next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z->avail_out = static_cast<uInt>(room);
    int rc = inflate(z, Z_FINISH);
    produced += room - z->avail_out;
    if (produced > max_output) return too_large(what, max_output);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_OK || (rc == Z_BUF_ERROR && z->avail_out == 0)) {
      // Out of room (more, up to the cap), or progress made: go on.
      if (z->avail_out == 0) out.resize(std::min(cap, out.size() * 2));
      continue;
    }
    if (rc == Z_BUF_ERROR && z->avail_in == 0) {
      return invalid(std::string(what) + " data is truncated");
    }
    const char* msg = z->msg ? z->msg : "corrupt data";
    return invalid(std::string(what) + " failed: " + msg);
  }
  if (z->avail_in != 0) return invalid(std::string(what) + " data has trailing bytes");
  out.resize(produced);
  return out;
}

// Whole-buffer inflation with libdeflate: a card's payload is a few hundred bytes, where setting
// up the Huffman tables is most of the work, and libdeflate takes about two thirds of zlib's time
// for it (3.7-4.1 against 5.4-6.9 us a payload, over the payloads of 2,000 issued cards; see
// docs/benchmarks.md, eighteenth session). The output buffer starts at four times the input
// and grows fourfold up to the cap; each try starts over, which only a payload that compresses
// better than 4:1 pays for.
Result<std::string> inflate_with(std::string_view data, std::size_t max_output, bool wrapped,
                                 const char* what) {
  // zlib counts input in uInt; card payloads are far below that, anything bigger is hostile.
  if (data.size() > UINT_MAX / 2) return Status(Code::kTooLarge, "compressed data too large");
  struct Free {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
  };
  thread_local std::unique_ptr<libdeflate_decompressor, Free> decompressor(
      libdeflate_alloc_decompressor());
  if (!decompressor) return internal("cannot allocate a DEFLATE decompressor");
  // Room for max_output + 1 bytes: filling it all means "over the cap".
  const std::size_t cap = max_output == SIZE_MAX ? max_output : max_output + 1;
  std::size_t room = std::min(cap, std::max<std::size_t>(1024, 4 * data.size()));
  std::string out;
  for (;;) {
    out.resize(room);
    std::size_t used = 0;
    std::size_t produced = 0;
    const libdeflate_result rc =
        wrapped ? libdeflate_zlib_decompress_ex(decompressor.get(), data.data(), data.size(),
                                                out.data(), out.size(), &used, &produced)
                : libdeflate_deflate_decompress_ex(decompressor.get(), data.data(), data.size(),
                                                   out.data(), out.size(), &used, &produced);
    if (rc == LIBDEFLATE_SUCCESS) {
      if (produced > max_output) return too_large(what, max_output);
      if (used != data.size()) return invalid(std::string(what) + " data has trailing bytes");
      out.resize(produced);
      return out;
    }
    if (rc == LIBDEFLATE_INSUFFICIENT_SPACE) {
      if (room >= cap) return too_large(what, max_output);
      room = room > cap / 4 ? cap : room * 4;
      continue;
    }
    // Bad data: zlib says what is wrong with it (the message callers show). Should zlib take
    // what libdeflate refused, the stream is still refused: the two must never disagree into a
    // card that verifies.
    auto why = zlib_inflate(data, max_output, wrapped ? 15 : -15, what);
    if (!why.is_ok()) return why.error();
    return invalid(std::string(what) + " failed: corrupt data");
  }
}

// The smallest window that holds the whole input (zlib keeps 262 bytes of it for look-ahead),
// 512 bytes to 32 KiB, and a hash table to match. With the full 32 KiB window and
// memLevel 9 deflateInit2 allocated and cleared about 400 KiB for each ~900-byte card payload;
// for inputs the window covers, the output is the same bytes (checked over 600 card payloads of
// 0.9 to 7 KB), and any window makes a valid raw DEFLATE stream for every inflater.
int window_bits_for(std::size_t n) {
  int bits = 9;
  while (bits < 15 && (std::size_t{1} << bits) < n + 262) ++bits;
  return bits;
}

}  // namespace

Result<std::string> deflate_raw(std::string_view data) {
  if (data.size() > UINT_MAX / 2) return Status(Code::kTooLarge, "data too large to deflate");
  const int bits = window_bits_for(data.size());
  ZStream zs(ZStream::Mode::kDeflate, -bits, bits <= 13 ? 4 : 9);
  if (!zs.ok()) return internal("deflateInit2 failed");
  z_stream* z = zs.get();
  std::string out(deflateBound(z, static_cast<uLong>(data.size())), '\0');
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z->avail_in = static_cast<uInt>(data.size());
  z->next_out = reinterpret_cast<Bytef*>(out.data());
  z->avail_out = static_cast<uInt>(out.size());
  if (deflate(z, Z_FINISH) != Z_STREAM_END) return internal("deflate did not finish");
  out.resize(z->total_out);
  return out;
}

Result<std::string> inflate_raw(std::string_view data, std::size_t max_output) {
  return inflate_with(data, max_output, false, "raw inflate");
}

Result<std::string> inflate_zlib(std::string_view data, std::size_t max_output) {
  return inflate_with(data, max_output, true, "zlib inflate");
}

}  // namespace hb::documents
