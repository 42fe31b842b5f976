// Helpers shared by the documents tests (not part of the library's API): test data paths, a
// fixed ES256 key, and the trusted issuer directory built from tests/data/shc/issuer.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/json.h"
#include "crypto/keys.h"
#include "documents/issuer_directory.h"

namespace hb::documents::testing {

inline std::filesystem::path shc_data(const std::string& rel = "") {
  const char* env = std::getenv("HB_SOURCE_DIR");
  std::filesystem::path root = env != nullptr ? env : HB_SOURCE_DIR;
  return root / "tests/data/shc" / rel;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline constexpr const char* kExampleIssuer = "https://spec.smarthealth.cards/examples/issuer";
inline constexpr const char* kBadJwksIssuer =
    "https://raw.githubusercontent.com/microsoft/health-cards-validation-SDK/main/testdata/badjwks";
inline constexpr const char* kExampleKid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";

// The examples' issuer with its published keys and CRL, plus a "bad JWKS" issuer whose key
// 3Kfdg... is really another key (kid is not its thumbprint): our stand-in for the broken key set
// the negative file test-example-00-e-file-bad_jwks points at.
inline Json test_directory_json() {
  Json jwks = Json::parse(read_file(shc_data("issuer/jwks.json")));
  Json crl = Json::parse(
      read_file(shc_data("issuer/crl-3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json")));
  Json bad_key = jwks["keys"][1];  // the EBKOr... key
  bad_key.erase("x5c");
  bad_key["kid"] = kExampleKid;
  return Json{{"issuers", Json::array({Json{{"iss", kExampleIssuer},
                                            {"name", "SMART Health Cards example issuer"},
                                            {"jwks", jwks},
                                            {"crls", Json::array({crl})}},
                                       Json{{"iss", kBadJwksIssuer},
                                            {"name", "Issuer with a broken key set"},
                                            {"jwks", Json{{"keys", Json::array({bad_key})}}}}})}};
}

inline const IssuerDirectory& test_directory() {
  static const IssuerDirectory dir = [] {
    auto d = IssuerDirectory::from_json(test_directory_json());
    if (!d) std::abort();
    return std::move(d).value();
  }();
  return dir;
}

// A fixed P-256 test key (generated for these tests only).
inline crypto::PrivateKey test_key() {
  static constexpr const char* kPem =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgpMYn9FuN4mzH6Wtz\n"
      "YvTmK9Sv1SuGStaCg75TmGagBTOhRANCAASAjZGvjzzOd04OqkkEHrAfl7//fi+N\n"
      "ZYI8KW7FON4U1VpE+raoN3wWrvRHdAhrM1RZf8eX/ddtyxcb0R3Losy8\n"
      "-----END PRIVATE KEY-----\n";
  auto k = crypto::PrivateKey::from_pem(kPem);
  if (!k) std::abort();
  return std::move(k).value();
}

}  // namespace hb::documents::testing
