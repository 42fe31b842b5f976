// Byte encodings used on the wire: base64url (JOSE, tokens), base64 (tlog notes), hex.
// Decoders are strict: they reject characters outside the alphabet, bad padding and trailing bits.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace hb::crypto {

std::string base64url_encode(std::string_view bytes);            // no padding
Result<std::string> base64url_decode(std::string_view text);     // rejects '=' padding
std::string base64_encode(std::string_view bytes);               // with padding
Result<std::string> base64_decode(std::string_view text);        // requires correct padding
std::string hex_encode(std::string_view bytes);                  // lower case
Result<std::string> hex_decode(std::string_view text);

}  // namespace hb::crypto
