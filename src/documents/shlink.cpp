#include "documents/shlink.h"

#include <exception>

#include "core/text.h"
#include "core/utf8.h"
#include "crypto/aead.h"
#include "crypto/encoding.h"
#include "crypto/random.h"

namespace hb::documents {
namespace {

constexpr std::string_view kScheme = "shlink:/";
constexpr std::size_t kMaxLinkChars = 8 * 1024;
constexpr std::size_t kMaxUrlChars = 128;
constexpr std::size_t kIvLen = 12;
constexpr std::size_t kTagLen = 16;

bool url_ok(std::string_view url) {
  if (url.starts_with("https://")) return url.size() > 8;
  // Development servers (the published samples use them): plain http on the loopback host only.
  for (std::string_view dev :
       {"http://localhost:", "http://localhost/", "http://127.0.0.1:", "http://127.0.0.1/"}) {
    if (url.starts_with(dev)) return true;
  }
  return false;
}

Result<std::string> decode_key(std::string_view key_b64) {
  if (key_b64.size() != 43) return invalid("SHL key must be 43 base64url characters");
  auto key = crypto::base64url_decode(key_b64);
  if (!key || key->size() != 32) return invalid("SHL key must be base64url of 32 bytes");
  return std::move(key).value();
}

}  // namespace

Json ShlPayload::to_json() const {
  Json j = {{"url", url}, {"key", key}};
  if (exp) j["exp"] = *exp;
  if (!flag.empty()) j["flag"] = flag;
  if (!label.empty()) j["label"] = label;
  if (v) j["v"] = *v;
  return j;
}

Result<ShlPayload> ShlPayload::from_json(const Json& j) {
  if (!j.is_object()) return invalid("SHL payload must be a JSON object");
  ShlPayload p;
  if (!j.contains("url") || !j["url"].is_string()) return invalid("SHL payload needs a \"url\"");
  p.url = j["url"].get<std::string>();
  if (p.url.size() > kMaxUrlChars) return invalid("SHL url is over 128 characters");
  if (!url_ok(p.url)) return invalid("SHL url must be https");
  if (!j.contains("key") || !j["key"].is_string()) return invalid("SHL payload needs a \"key\"");
  p.key = j["key"].get<std::string>();
  HB_RETURN_IF_ERROR(decode_key(p.key).status());
  if (j.contains("exp")) {
    const Json& e = j["exp"];
    if (!e.is_number() || e.get<double>() < 0 || e.get<double>() > 1e11) {
      return invalid("SHL exp must be a time in epoch seconds");
    }
    p.exp = static_cast<int64_t>(e.get<double>());
  }
  if (j.contains("flag")) {
    if (!j["flag"].is_string()) return invalid("SHL flag must be a string");
    p.flag = j["flag"].get<std::string>();
    for (std::size_t i = 0; i < p.flag.size(); ++i) {
      char c = p.flag[i];
      // Unknown letters are ignored as the spec requires; repeated or non-letters are malformed.
      if (c < 'A' || c > 'Z') return invalid("SHL flag holds a non-letter");
      if (p.flag.find(c, i + 1) != std::string::npos) return invalid("SHL flag repeats a letter");
    }
    if (p.direct() && p.passcode()) return invalid("SHL flag U cannot be combined with P");
  }
  if (j.contains("label")) {
    if (!j["label"].is_string()) return invalid("SHL label must be a string");
    p.label = j["label"].get<std::string>();
    if (utf8_length(p.label) > kMaxShlLabelChars) return invalid("SHL label is over 80 characters");
  }
  if (j.contains("v")) {
    if (!j["v"].is_number_integer()) return invalid("SHL v must be an integer");
    if (j["v"].get<int64_t>() != 1)
      return invalid("SHL version " + j["v"].dump() + " is not supported");
    p.v = 1;
  }
  return p;
}

Result<std::string> encode_shlink(const ShlPayload& payload) {
  // Flags are written in alphabetical order, as the spec asks.
  for (std::size_t i = 1; i < payload.flag.size(); ++i) {
    if (payload.flag[i - 1] >= payload.flag[i])
      return invalid("SHL flags must be in alphabetical order");
  }
  for (char c : payload.flag) {
    if (c != 'L' && c != 'P' && c != 'U') return invalid("SHL flags we issue are L, P and U");
  }
  Json j = payload.to_json();
  HB_RETURN_IF_ERROR(ShlPayload::from_json(j).status());
  return std::string(kScheme) + crypto::base64url_encode(dump_json(j));
}

Result<std::string> encode_shlink_with_viewer(std::string_view viewer_url,
                                              const ShlPayload& payload) {
  if (!url_ok(viewer_url) || viewer_url.find('#') != std::string_view::npos) {
    return invalid("viewer URL must be https (http only on localhost) and have no fragment");
  }
  HB_ASSIGN_OR_RETURN(std::string link, encode_shlink(payload));
  return std::string(viewer_url) + "#" + link;
}

Result<ShlPayload> decode_shlink(std::string_view text) {
  try {
    if (text.size() > kMaxLinkChars) return invalid("SHL link is too long");
    std::string_view link = text;
    if (!link.starts_with(kScheme)) {
      std::size_t hash = link.find('#');
      if (hash == std::string_view::npos || !link.substr(hash + 1).starts_with(kScheme)) {
        return invalid("not a SMART Health Link (\"shlink:/\" or \"<viewer>#shlink:/\")");
      }
      if (!link.starts_with("https://") && !link.starts_with("http://")) {
        return invalid("the viewer prefix must be an http(s) URL");
      }
      link = link.substr(hash + 1);
    }
    auto bytes = crypto::base64url_decode(link.substr(kScheme.size()));
    if (!bytes) return invalid("SHL payload is not base64url: " + bytes.error().message());
    auto j = parse_json(*bytes, JsonLimits{kMaxLinkChars, 8});
    if (!j) return invalid("SHL payload is not JSON: " + j.error().message());
    return ShlPayload::from_json(*j);
  } catch (const std::exception& e) {
    return internal(std::string("SHL decoding failed: ") + e.what());
  }
}

std::string new_shl_key() { return crypto::base64url_encode(crypto::random_bytes(32)); }

Result<std::string> encrypt_shl_file(std::string_view key_b64, std::string_view plaintext,
                                     std::string_view content_type, bool compress) {
  HB_ASSIGN_OR_RETURN(std::string key, decode_key(key_b64));
  HB_ASSIGN_OR_RETURN(crypto::Aead256 aead, crypto::Aead256::create(key));
  Json header = {{"alg", "dir"}, {"enc", "A256GCM"}};
  if (!content_type.empty()) header["cty"] = std::string(content_type);
  std::string body(plaintext);
  if (compress) {
    header["zip"] = "DEF";
    HB_ASSIGN_OR_RETURN(body, deflate_raw(plaintext));
  }
  const std::string header_b64 = crypto::base64url_encode(dump_json(header));
  // RFC 7516 5.1: the AAD is the ASCII of the encoded protected header.
  const std::string sealed = aead.seal(body, header_b64);  // iv || ciphertext || tag
  std::string_view s = sealed;
  return header_b64 + ".." + crypto::base64url_encode(s.substr(0, kIvLen)) + "." +
         crypto::base64url_encode(s.substr(kIvLen, s.size() - kIvLen - kTagLen)) + "." +
         crypto::base64url_encode(s.substr(s.size() - kTagLen));
}

Result<ShlFile> decrypt_shl_file(std::string_view key_b64, std::string_view jwe,
                                 std::size_t max_output) {
  try {
    HB_ASSIGN_OR_RETURN(std::string key, decode_key(key_b64));
    std::string_view parts[5];
    std::size_t start = 0;
    for (int i = 0; i < 5; ++i) {
      std::size_t dot = i < 4 ? jwe.find('.', start) : jwe.size();
      if (dot == std::string_view::npos) return invalid("a compact JWE has five parts");
      parts[i] = jwe.substr(start, dot - start);
      start = dot + 1;
    }
    if (jwe.find('.', parts[4].data() - jwe.data()) != std::string_view::npos) {
      return invalid("a compact JWE has five parts");
    }
    if (!parts[1].empty()) return invalid("JWE with alg \"dir\" has an empty encrypted key");
    auto header_bytes = crypto::base64url_decode(parts[0]);
    if (!header_bytes) return invalid("JWE header is not base64url");
    auto header = parse_json(*header_bytes, JsonLimits{4096, 8});
    if (!header || !header->is_object()) return invalid("JWE header is not a JSON object");
    if (header->value("alg", "") != "dir" || header->value("enc", "") != "A256GCM") {
      return invalid("SHL files use JWE alg \"dir\" with enc \"A256GCM\"");
    }
    if (header->contains("crit")) return invalid("JWE \"crit\" extensions are not supported");
    bool zip = false;
    if (header->contains("zip")) {
      if ((*header)["zip"] != "DEF") return invalid("JWE zip must be \"DEF\"");
      zip = true;
    }
    auto iv = crypto::base64url_decode(parts[2]);
    auto ct = crypto::base64url_decode(parts[3]);
    auto tag = crypto::base64url_decode(parts[4]);
    if (!iv || !ct || !tag) return invalid("a JWE part is not base64url");
    if (iv->size() != kIvLen) return invalid("A256GCM needs a 96-bit IV");
    if (tag->size() != kTagLen) return invalid("A256GCM needs a 128-bit tag");
    HB_ASSIGN_OR_RETURN(crypto::Aead256 aead, crypto::Aead256::create(key));
    HB_ASSIGN_OR_RETURN(std::string plain, aead.open(*iv + *ct + *tag, parts[0]));
    ShlFile out;
    if (header->contains("cty") && (*header)["cty"].is_string()) {
      out.content_type = (*header)["cty"].get<std::string>();
    }
    if (zip) {
      HB_ASSIGN_OR_RETURN(out.plaintext, inflate_raw(plain, max_output));
    } else {
      if (plain.size() > max_output) return Status(Code::kTooLarge, "SHL file is too large");
      out.plaintext = std::move(plain);
    }
    return out;
  } catch (const std::exception& e) {
    return internal(std::string("JWE decryption failed: ") + e.what());
  }
}

Json ShlManifestRequest::to_json() const {
  Json j = {{"recipient", recipient}};
  if (passcode) j["passcode"] = *passcode;
  if (embedded_length_max) j["embeddedLengthMax"] = *embedded_length_max;
  return j;
}

Result<ShlManifestRequest> ShlManifestRequest::from_json(const Json& j) {
  if (!j.is_object()) return invalid("manifest request must be a JSON object");
  ShlManifestRequest r;
  if (!j.contains("recipient") || !j["recipient"].is_string() ||
      j["recipient"].get<std::string>().empty()) {
    return invalid("manifest request needs a \"recipient\"");
  }
  r.recipient = j["recipient"].get<std::string>();
  if (j.contains("passcode")) {
    if (!j["passcode"].is_string()) return invalid("\"passcode\" must be a string");
    r.passcode = j["passcode"].get<std::string>();
  }
  if (j.contains("embeddedLengthMax")) {
    if (!j["embeddedLengthMax"].is_number_integer() || j["embeddedLengthMax"].get<int64_t>() < 0) {
      return invalid("\"embeddedLengthMax\" must be a non-negative integer");
    }
    r.embedded_length_max = j["embeddedLengthMax"].get<int64_t>();
  }
  return r;
}

Json ShlManifestFile::to_json() const {
  Json j = {{"contentType", content_type}};
  if (embedded) j["embedded"] = *embedded;
  if (location) j["location"] = *location;
  return j;
}

Result<ShlManifestFile> ShlManifestFile::from_json(const Json& j) {
  if (!j.is_object()) return invalid("manifest file entry must be a JSON object");
  ShlManifestFile f;
  if (!j.contains("contentType") || !j["contentType"].is_string()) {
    return invalid("manifest file entry needs a \"contentType\"");
  }
  f.content_type = j["contentType"].get<std::string>();
  const std::string type = media_type(f.content_type);
  if (type != kContentTypeHealthCard && type != kContentTypeFhir && type != kContentTypeApiAccess) {
    return invalid("unknown manifest contentType \"" + f.content_type + "\"");
  }
  const bool has_embedded = j.contains("embedded");
  const bool has_location = j.contains("location");
  if (has_embedded == has_location) {
    return invalid("manifest file entry needs exactly one of \"embedded\" and \"location\"");
  }
  if (has_embedded) {
    if (!j["embedded"].is_string()) return invalid("\"embedded\" must be a JWE string");
    f.embedded = j["embedded"].get<std::string>();
  } else {
    if (!j["location"].is_string() || !url_ok(j["location"].get<std::string>())) {
      return invalid("\"location\" must be an https URL");
    }
    f.location = j["location"].get<std::string>();
  }
  return f;
}

Json ShlManifest::to_json() const {
  Json files_json = Json::array();
  for (const ShlManifestFile& f : files) files_json.push_back(f.to_json());
  return Json{{"files", std::move(files_json)}};
}

Result<ShlManifest> ShlManifest::from_json(const Json& j) {
  if (!j.is_object() || !j.contains("files") || !j["files"].is_array()) {
    return invalid("manifest needs a \"files\" array");
  }
  ShlManifest m;
  for (std::size_t i = 0; i < j["files"].size(); ++i) {
    auto f = ShlManifestFile::from_json(j["files"][i]);
    if (!f) return invalid("files[" + std::to_string(i) + "]: " + f.error().message());
    m.files.push_back(std::move(f).value());
  }
  return m;
}

}  // namespace hb::documents
