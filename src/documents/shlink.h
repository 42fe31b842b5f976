// SMART Health Links: the "shlink:/" payload, its encrypted files (compact JWE, "dir" +
// "A256GCM") and the manifest request/response.
//
// A link carries {url, key, exp?, flag?, label?, v?} as base64url JSON after "shlink:/",
// optionally behind a viewer URL ("https://viewer.example/#shlink:/..."). The 32-byte key
// decrypts every file the manifest lists; the server never sees it.
//
// Thread-safety: plain values and stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "documents/deflate.h"

namespace hb::documents {

// The longest label a link may carry, in characters (not bytes).
inline constexpr std::size_t kMaxShlLabelChars = 80;

struct ShlPayload {
  std::string url;             // manifest URL (or the file itself with flag U)
  std::string key;             // 43 characters: base64url of 32 random bytes
  std::optional<int64_t> exp;  // unix seconds
  std::string flag;            // "", or letters from L (long-term), P (passcode), U (direct)
  std::string label;           // at most 80 characters
  std::optional<int> v;        // payload version; 1 when present

  bool long_term() const { return flag.find('L') != std::string::npos; }
  bool passcode() const { return flag.find('P') != std::string::npos; }
  bool direct() const { return flag.find('U') != std::string::npos; }

  Json to_json() const;
  // kInvalid with the reason for anything outside the spec: missing url/key, a key that is not
  // 43 base64url characters of 32 bytes, unknown or repeated flag letters, U with P, a label over
  // 80 characters, a url that is not https (http only for localhost, for development), v != 1.
  static Result<ShlPayload> from_json(const Json& j);
};

// "shlink:/" + base64url(JSON). Validates first.
Result<std::string> encode_shlink(const ShlPayload& payload);
// "https://viewer.example/#shlink:/..." (the viewer must not already have a fragment).
Result<std::string> encode_shlink_with_viewer(std::string_view viewer_url,
                                              const ShlPayload& payload);
// Accepts "shlink:/..." or "<viewer>#shlink:/...". Strict: no surrounding whitespace.
Result<ShlPayload> decode_shlink(std::string_view text);

// A new 32-byte link key, base64url (43 characters).
std::string new_shl_key();

// Compact JWE with alg "dir" and enc "A256GCM" (RFC 7516): header..iv.ciphertext.tag, the
// base64url header as AAD. `content_type` goes in "cty"; `compress` adds "zip":"DEF" and
// raw-DEFLATEs the plaintext first.
Result<std::string> encrypt_shl_file(std::string_view key_b64, std::string_view plaintext,
                                     std::string_view content_type, bool compress = false);

struct ShlFile {
  std::string content_type;  // header "cty", may be empty
  std::string plaintext;
};
// Decrypts and (for "zip":"DEF") inflates under max_output. kInvalid for a malformed JWE, another
// alg/enc, an unknown zip, or a failed tag check ("decryption failed").
Result<ShlFile> decrypt_shl_file(std::string_view key_b64, std::string_view jwe,
                                 std::size_t max_output = kMaxInflatedBytes);

// POST body to the manifest URL.
struct ShlManifestRequest {
  std::string recipient;                // required: who is asking, e.g. "Example Clinic"
  std::optional<std::string> passcode;  // with flag P
  std::optional<int64_t> embedded_length_max;

  Json to_json() const;
  static Result<ShlManifestRequest> from_json(const Json& j);
};

inline constexpr std::string_view kContentTypeHealthCard = "application/smart-health-card";
inline constexpr std::string_view kContentTypeFhir = "application/fhir+json";
inline constexpr std::string_view kContentTypeApiAccess = "application/smart-api-access";
// What a manifest names a FHIR file (HL7 SMART Health Cards and Links STU1, "Manifest Response:
// files": servers SHOULD give the fhirVersion parameter; without it a viewer may assume 4.0.1).
inline constexpr std::string_view kContentTypeFhirR4 = "application/fhir+json;fhirVersion=4.0.1";

struct ShlManifestFile {
  std::string content_type;
  std::optional<std::string> embedded;  // the JWE itself
  std::optional<std::string> location;  // or a short-lived https URL to fetch it from

  Json to_json() const;
  // Exactly one of embedded/location; a known media type (parameters such as fhirVersion kept).
  static Result<ShlManifestFile> from_json(const Json& j);
};

struct ShlManifest {
  std::vector<ShlManifestFile> files;

  Json to_json() const;
  static Result<ShlManifest> from_json(const Json& j);
};

}  // namespace hb::documents
