#include "documents/deflate.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>

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

// This thread's inflate stream for raw (-15) or zlib (15) DEFLATE, reset for a new input.
// inflateInit2 allocates about 7 kB of state, past the allocator's per-thread cache, and
// inflateEnd frees it: on every card a verifier inflates. A reset stream is as good as new.
z_stream* inflater(int window_bits) {
  thread_local ZStream raw(ZStream::Mode::kInflate, -15);
  thread_local ZStream wrapped(ZStream::Mode::kInflate, 15);
  ZStream& zs = window_bits == -15 ? raw : wrapped;
  if (!zs.ok() || inflateReset(zs.get()) != Z_OK) return nullptr;
  return zs.get();
}

Result<std::string> inflate_with(std::string_view data, std::size_t max_output, int window_bits,
                                 const char* what) {
  // zlib counts input in uInt; card payloads are far below that, anything bigger is hostile.
  if (data.size() > UINT_MAX / 2) return Status(Code::kTooLarge, "compressed data too large");
  z_stream* z = inflater(window_bits);
  if (!z) return internal("inflateInit2 failed");
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z->avail_in = static_cast<uInt>(data.size());

  // Inflate straight into the result, sized from a guess (cards compress about 2:1), asking for the
  // whole stream at once (Z_FINISH): when it fits, zlib neither keeps a 32 kB sliding window nor
  // copies the output into one. Growing the buffer continues the stream as Z_NO_FLUSH would.
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
    if (produced > max_output) {
      return Status(Code::kTooLarge, std::string(what) + " output exceeds the limit of " +
                                         std::to_string(max_output) + " bytes");
    }
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
  return inflate_with(data, max_output, -15, "raw inflate");
}

Result<std::string> inflate_zlib(std::string_view data, std::size_t max_output) {
  return inflate_with(data, max_output, 15, "zlib inflate");
}

}  // namespace hb::documents
