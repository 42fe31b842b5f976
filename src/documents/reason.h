// Why a SMART Health Card was refused or flagged: the machine-readable reason codes of a verdict.
//
// Each code has a stable snake_case name (reason_name) that APIs and logs carry;
// docs/health-cards.md lists them. Codes describe one defect each; a verdict lists every defect it
// found.
//
// Thread-safety: plain values.
#pragma once

#include <string>

namespace hb::documents {

enum class Reason {
  kNone = 0,
  // Text and container
  kTrailingCharacters,   // whitespace or other bytes before/after the card text
  kUnsupportedInput,     // not shc:/ text, a compact JWS or a .smart-health-card file
  kMalformedFile,        // .smart-health-card JSON without a verifiableCredential array of strings
  kWrongFileExtension,   // a health card file not named *.smart-health-card
  kMultipleCredentials,  // a file with several cards given where one was expected
  // shc:/ numeric QR text
  kBadQrHeader,       // does not start with "shc:/"
  kMalformedNumeric,  // odd digit count, a digit pair over 77, or a non-digit
  kBadChunkHeader,    // "shc:/C/N/" with C outside 1..N, N < 2, duplicates, mixed totals
  kMissingChunk,      // a chunked card without all of its chunks
  kChunkTooSmall,     // chunks smaller than needed: the card fits in fewer QR codes
  kJwsTooLong,        // over 1195 characters: does not fit one version-22 QR code
  // JWS
  kMalformedJws,          // not three base64url parts, header not a JSON object, ...
  kMissingHeaderField,    // header lacks alg, kid or zip
  kUnsupportedAlgorithm,  // alg other than ES256, zip other than DEF
  kDerSignature,          // ECDSA signature in DER instead of the 64-byte r||s
  kBadSignature,          // the signature does not verify under the issuer's key
  kNotDeflated,           // payload is plain JSON, not raw DEFLATE
  kZlibNotRawDeflate,     // payload is zlib-wrapped DEFLATE instead of raw DEFLATE
  kInflateFailed,         // payload is not valid raw DEFLATE (or inflates past the size cap)
  kUtf8Bom,               // payload JSON starts with a byte order mark
  kMalformedPayload,      // payload is not a JSON object / lacks vc, credentialSubject, ...
  // Issuer and keys
  kBadIssuerUrl,   // iss not https, or with a trailing slash
  kUnknownIssuer,  // iss not in the trusted issuer directory
  kUnknownKid,     // the issuer has no key with the header's kid
  kKidMismatch,    // the issuer's key with this kid has a different RFC 7638 thumbprint
  // The key's X.509 certificate chain ("x5c"), when it has one
  kX5cMalformed,      // x5c is not an array of base64 DER certificates
  kX5cKeyMismatch,    // the first certificate holds another public key than the JWK
  kX5cSanMismatch,    // no subjectAltName URI of the leaf equals iss (warning without anchors)
  kX5cNotValidAtNbf,  // a certificate was expired or not yet valid at nbf (warning without anchors)
  kX5cUntrusted,      // the chain leads to none of the verifier's trust anchors
  // Claims
  kMissingClaim,        // no nbf, no vc.type, no credentialSubject, ...
  kNbfMilliseconds,     // nbf in milliseconds instead of seconds
  kExpMilliseconds,     // exp in milliseconds instead of seconds
  kNotYetValid,         // nbf in the future
  kExpired,             // exp in the past
  kExpBeforeNbf,        // exp not after nbf
  kVcTypeMissing,       // vc.type lacks https://smarthealth.cards#health-card
  kVcTypeUnknown,       // (warning) a type we do not know; the spec says to ignore it
  kVcTypeInconsistent,  // (warning) e.g. #covid19 without #immunization
  kBadFhirVersion,      // credentialSubject.fhirVersion is not "4.0.1"
  // FHIR bundle
  kFhirInvalid,             // fails FHIR R4 structural validation (hb_fhir)
  kFhirEmptyValue,          // empty object, array or string (not allowed in FHIR JSON)
  kFhirNotMinified,         // Resource.id, text, CodeableConcept.text, Coding.display present
  kFhirBadMeta,             // meta with anything but security, or malformed security codings
  kFhirBadReference,        // fullUrl / reference not a short resource:N URI, or dangling
  kFhirStatusNotCompleted,  // an Immunization whose status is not "completed"
  // Status
  kRevoked,               // listed in the issuer's revocation list (CRL)
  kCrlOutdated,           // (warning) the key's crlVersion is newer than the CRL we hold
  kNotInTransparencyLog,  // the transparency-log hook refused the card
};

// Stable snake_case name, e.g. "bad_signature".
const char* reason_name(Reason r);

enum class Severity { kError, kWarning };

// One defect found in a card.
struct Finding {
  Reason reason = Reason::kNone;
  Severity severity = Severity::kError;
  std::string message;
};

}  // namespace hb::documents
