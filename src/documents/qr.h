// QR codes for SMART Health Cards, and their rendering as SVG and PNG.
//
// A card's QR has two segments, "shc:/" in byte mode and the digits in numeric mode, error
// correction level L, version at most 22 (105x105 modules, printable at 40 mm). Rendering adds
// the 4-module quiet zone the QR standard requires.
//
// Thread-safety: QrImage is an immutable value; functions are stateless.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hb::documents {

inline constexpr int kMaxQrVersion = 22;
inline constexpr int kQuietZone = 4;

class QrImage {
 public:
  QrImage(int version, int size, std::vector<bool> modules)
      : version_(version), size_(size), modules_(std::move(modules)) {}
  int version() const { return version_; }
  int size() const { return size_; }  // modules per side, without quiet zone
  bool dark(int x, int y) const {
    return x >= 0 && y >= 0 && x < size_ && y < size_ &&
           modules_[static_cast<std::size_t>(y) * size_ + x];
  }

 private:
  int version_;
  int size_;
  std::vector<bool> modules_;
};

// Encodes "shc:/<digits>" (an unchunked card). kInvalid if the text is not of that form;
// kTooLarge ("too large for one QR code") if it needs a version above 22.
Result<QrImage> make_shc_qr(std::string_view shc_text);

// Encodes any text (a link such as "https://host/s#shlink:/...") in byte mode at error correction
// level M, the smallest version 1..40 that holds it. kTooLarge when no version does.
Result<QrImage> make_text_qr(std::string_view text);

// SVG document, one unit per module, quiet zone included; black on white.
std::string qr_svg(const QrImage& qr);

// PNG, 1-bit grayscale, `scale` pixels per module (1..32), quiet zone included.
Result<std::string> qr_png(const QrImage& qr, int scale = 8);

// Minimal PNG encoder: 1-bit grayscale image, width x height, pixel (x, y) black when
// black(x, y). IHDR, one zlib-compressed IDAT, IEND, each with its CRC-32.
template <typename F>
Result<std::string> encode_png_bilevel(int width, int height, F black);

namespace detail {
Result<std::string> encode_png_gray1(int width, int height, const std::vector<uint8_t>& rows);
}

template <typename F>
Result<std::string> encode_png_bilevel(int width, int height, F black) {
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) {
    return invalid("PNG dimensions out of range");
  }
  const std::size_t stride = 1 + (static_cast<std::size_t>(width) + 7) / 8;  // filter byte + bits
  std::vector<uint8_t> rows(stride * static_cast<std::size_t>(height), 0);
  for (int y = 0; y < height; ++y) {
    uint8_t* row = rows.data() + stride * static_cast<std::size_t>(y);
    row[0] = 0;  // filter: none
    for (int x = 0; x < width; ++x) {
      // Gray 1-bit: 1 is white.
      if (!black(x, y)) row[1 + x / 8] |= static_cast<uint8_t>(0x80u >> (x % 8));
    }
  }
  return detail::encode_png_gray1(width, height, rows);
}

}  // namespace hb::documents
