#include "documents/deflate.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

namespace hb::documents {
namespace {

// Owns a z_stream set up for inflating or deflating; ends it on destruction.
class ZStream {
 public:
  enum class Mode { kInflate, kDeflate };

  ZStream(Mode mode, int window_bits) : mode_(mode) {
    int rc = mode == Mode::kInflate ? inflateInit2(&z_, window_bits)
                                    : deflateInit2(&z_, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits,
                                                   9, Z_DEFAULT_STRATEGY);
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

Result<std::string> inflate_with(std::string_view data, std::size_t max_output, int window_bits,
                                 const char* what) {
  // zlib counts input in uInt; card payloads are far below that, anything bigger is hostile.
  if (data.size() > UINT_MAX / 2) return Status(Code::kTooLarge, "compressed data too large");
  ZStream zs(ZStream::Mode::kInflate, window_bits);
  if (!zs.ok()) return internal("inflateInit2 failed");
  z_stream* z = zs.get();
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z->avail_in = static_cast<uInt>(data.size());

  std::string out;
  char buf[16 * 1024];
  for (;;) {
    z->next_out = reinterpret_cast<Bytef*>(buf);
    z->avail_out = sizeof(buf);
    int rc = inflate(z, Z_NO_FLUSH);
    std::size_t produced = sizeof(buf) - z->avail_out;
    if (out.size() + produced > max_output) {
      return Status(Code::kTooLarge, std::string(what) + " output exceeds the limit of " +
                                         std::to_string(max_output) + " bytes");
    }
    out.append(buf, produced);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && z->avail_in == 0) {
      return invalid(std::string(what) + " data is truncated");
    }
    const char* msg = z->msg ? z->msg : "corrupt data";
    return invalid(std::string(what) + " failed: " + msg);
  }
  if (z->avail_in != 0) return invalid(std::string(what) + " data has trailing bytes");
  return out;
}

}  // namespace

Result<std::string> deflate_raw(std::string_view data) {
  if (data.size() > UINT_MAX / 2) return Status(Code::kTooLarge, "data too large to deflate");
  ZStream zs(ZStream::Mode::kDeflate, -15);
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
