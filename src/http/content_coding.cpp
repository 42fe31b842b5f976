#include "http/content_coding.h"

#include <zlib.h>

#include <cctype>
#include <climits>

#include "core/text.h"

namespace hb::http {
namespace {

// The weight of one Accept-Encoding member ("gzip;q=0.5") in thousandths: 1000 without a q
// parameter, 0 for a malformed one (a client that garbles its weights gets the identity coding).
// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
int q_weight(std::string_view params) {
  while (!params.empty()) {
    std::size_t semi = params.find(';');
    std::string_view p = trim_ows(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() < 2 || std::tolower(static_cast<unsigned char>(p[0])) != 'q' || p[1] != '=')
      continue;
    std::string_view v = trim_ows(p.substr(2));
    if (v.empty() || (v[0] != '0' && v[0] != '1')) return 0;
    int thousandths = v[0] == '1' ? 1000 : 0;
    if (v.size() == 1) return thousandths;
    if (v[1] != '.' || v.size() > 5) return 0;
    int scale = 100;
    for (char c : v.substr(2)) {
      if (c < '0' || c > '9' || (thousandths == 1000 && c != '0')) return 0;
      thousandths += (c - '0') * scale;
      scale /= 10;
    }
    return thousandths;
  }
  return 1000;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  std::string_view rest = accept_encoding;
  int gzip_q = -1, any_q = -1;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view member = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    std::size_t semi = member.find(';');
    std::string_view coding = trim_ows(member.substr(0, semi));
    int q = q_weight(semi == std::string_view::npos ? std::string_view{} : member.substr(semi + 1));
    const std::string name = ascii_lower(coding);
    if (name == "gzip" || name == "x-gzip") {
      gzip_q = q;
    } else if (coding == "*") {
      any_q = q;
    }
  }
  return gzip_q >= 0 ? gzip_q > 0 : any_q > 0;
}

Result<std::string> gzip(std::string_view data) {
  if (data.size() > UINT_MAX / 2) return Status(Code::kTooLarge, "too large to compress");
  z_stream z{};
  // 15 window bits + 16: a gzip header and trailer around the DEFLATE stream.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return internal("deflateInit2 failed");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return internal("gzip did not finish");
  return out;
}

}  // namespace hb::http
