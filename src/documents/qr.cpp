#include "documents/qr.h"

#include <zlib.h>

#include <qrcodegen.hpp>

namespace hb::documents {
namespace {

void put_u32(std::string& out, uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

// length, type, data, CRC-32 over type and data.
void put_chunk(std::string& out, const char type[4], std::string_view data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  out += body;
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  put_u32(out, static_cast<uint32_t>(crc));
}

}  // namespace

namespace detail {

Result<std::string> encode_png_gray1(int width, int height, const std::vector<uint8_t>& rows) {
  uLongf bound = compressBound(static_cast<uLong>(rows.size()));
  std::string idat(bound, '\0');
  if (compress2(reinterpret_cast<Bytef*>(idat.data()), &bound, rows.data(),
                static_cast<uLong>(rows.size()), Z_BEST_COMPRESSION) != Z_OK) {
    return internal("PNG: zlib compression failed");
  }
  idat.resize(bound);

  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put_u32(ihdr, static_cast<uint32_t>(width));
  put_u32(ihdr, static_cast<uint32_t>(height));
  ihdr += '\x01';  // bit depth 1
  ihdr += '\x00';  // colour type 0: grayscale
  ihdr += '\x00';  // compression: deflate
  ihdr += '\x00';  // filter method 0
  ihdr += '\x00';  // no interlace
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", idat);
  put_chunk(png, "IEND", "");
  return png;
}

}  // namespace detail

Result<QrImage> make_shc_qr(std::string_view shc_text) {
  constexpr std::string_view kPrefix = "shc:/";
  if (!shc_text.starts_with(kPrefix)) return invalid("QR text must start with \"shc:/\"");
  std::string digits(shc_text.substr(kPrefix.size()));
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
    return invalid("an unchunked health card QR holds only digits after \"shc:/\"");
  }
  try {
    std::vector<qrcodegen::QrSegment> segs;
    segs.push_back(
        qrcodegen::QrSegment::makeBytes(std::vector<std::uint8_t>(kPrefix.begin(), kPrefix.end())));
    segs.push_back(qrcodegen::QrSegment::makeNumeric(digits.c_str()));
    // Mask chosen automatically (-1); the ECC level stays L as the spec asks (no boosting).
    qrcodegen::QrCode qr = qrcodegen::QrCode::encodeSegments(segs, qrcodegen::QrCode::Ecc::LOW, 1,
                                                             kMaxQrVersion, -1, false);
    const int n = qr.getSize();
    std::vector<bool> modules(static_cast<std::size_t>(n) * n);
    for (int y = 0; y < n; ++y) {
      for (int x = 0; x < n; ++x) modules[static_cast<std::size_t>(y) * n + x] = qr.getModule(x, y);
    }
    return QrImage(qr.getVersion(), n, std::move(modules));
  } catch (const qrcodegen::data_too_long&) {
    return Status(Code::kTooLarge,
                  "health card too large for one QR code (version 22 at "
                  "error correction level L)");
  } catch (const std::exception& e) {
    return internal(std::string("QR encoding failed: ") + e.what());
  }
}

Result<QrImage> make_text_qr(std::string_view text) {
  if (text.empty()) return invalid("nothing to encode in a QR code");
  try {
    std::vector<qrcodegen::QrSegment> segs;
    segs.push_back(qrcodegen::QrSegment::makeBytes(std::vector<std::uint8_t>(text.begin(), text.end())));
    qrcodegen::QrCode qr = qrcodegen::QrCode::encodeSegments(segs, qrcodegen::QrCode::Ecc::MEDIUM, 1, 40,
                                                             -1, false);
    const int n = qr.getSize();
    std::vector<bool> modules(static_cast<std::size_t>(n) * n);
    for (int y = 0; y < n; ++y) {
      for (int x = 0; x < n; ++x) modules[static_cast<std::size_t>(y) * n + x] = qr.getModule(x, y);
    }
    return QrImage(qr.getVersion(), n, std::move(modules));
  } catch (const qrcodegen::data_too_long&) {
    return Status(Code::kTooLarge, "text too long for one QR code");
  } catch (const std::exception& e) {
    return internal(std::string("QR encoding failed: ") + e.what());
  }
}

std::string qr_svg(const QrImage& qr) {
  const int dim = qr.size() + 2 * kQuietZone;
  std::string path;
  for (int y = 0; y < qr.size(); ++y) {
    for (int x = 0; x < qr.size(); ++x) {
      if (!qr.dark(x, y)) continue;
      path +=
          "M" + std::to_string(x + kQuietZone) + "," + std::to_string(y + kQuietZone) + "h1v1h-1z";
    }
  }
  std::string d = std::to_string(dim);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 " +
         d + " " + d + "\" stroke=\"none\" shape-rendering=\"crispEdges\">\n" +
         "<rect width=\"100%\" height=\"100%\" fill=\"#FFFFFF\"/>\n<path d=\"" + path +
         "\" fill=\"#000000\"/>\n</svg>\n";
}

Result<std::string> qr_png(const QrImage& qr, int scale) {
  if (scale < 1 || scale > 32) return invalid("PNG scale must be 1..32 pixels per module");
  const int dim = (qr.size() + 2 * kQuietZone) * scale;
  return encode_png_bilevel(dim, dim, [&](int x, int y) {
    return qr.dark(x / scale - kQuietZone, y / scale - kQuietZone);
  });
}

}  // namespace hb::documents
