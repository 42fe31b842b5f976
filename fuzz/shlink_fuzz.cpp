// libFuzzer target for SMART Health Links: shlink:/ payload decoding (bare and behind a viewer
// URL), JWE (dir + A256GCM, optional DEF inflated under a cap) and manifest JSON.
//
// Invariants: a decoded link re-encodes and decodes to the same payload; a JWE the fuzzer built
// with our encryptor decrypts back to its input; nothing decrypts under a key it was not sealed
// with.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.h"
#include "documents/shlink.h"

namespace {

using namespace hb::documents;

constexpr const char* kKey = "v7SjEf2oC4nbbkrhJJ1VAsnp4QaAmrzwIVQtxGM7AIc";

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto p = decode_shlink(in)) {
    // The bare link decodes alike. Behind a viewer it is what follows the first '#': the viewer
    // URL itself may hold "shlink:/" before that.
    const std::string_view bare = in.starts_with("shlink:/") ? in : in.substr(in.find('#') + 1);
    auto again = decode_shlink(bare);
    check(again.is_ok() && again->to_json() == p->to_json());
    if (auto link = encode_shlink(*p)) {
      auto back = decode_shlink(*link);
      check(back.is_ok() && back->to_json() == p->to_json());
    }
  }

  (void)decrypt_shl_file(kKey, in, 64 * 1024);

  if (auto j = hb::parse_json(in, hb::JsonLimits{64 * 1024, 16})) {
    if (auto m = ShlManifest::from_json(*j)) {
      auto back = ShlManifest::from_json(m->to_json());
      check(back.is_ok() && back->to_json() == m->to_json());
    }
    (void)ShlManifestRequest::from_json(*j);
    if (auto p = ShlPayload::from_json(*j)) (void)encode_shlink(*p);
  }

  if (size <= 4096) {
    for (bool zip : {false, true}) {
      auto jwe = encrypt_shl_file(kKey, in, "application/fhir+json", zip);
      check(jwe.is_ok());
      auto file = decrypt_shl_file(kKey, *jwe, 64 * 1024);
      check(file.is_ok() && file->plaintext == in);
      check(!decrypt_shl_file("lQPSuLGFjSkce1i63hckW3L9u-F94ti1gE_QvqbJc_g", *jwe).is_ok());
    }
  }
  return 0;
}
