// Server-assigned identifiers.
//
// Server-assigned ids are time-ordered UUIDs (RFC 9562 version 7, lower-case): 48 bits of Unix
// time in milliseconds, then 74 random bits. They are valid FHIR ids ([A-Za-z0-9\-\.]{1,64}),
// safe to generate on many app servers without coordination, and not guessable in practice; no
// access depends on an id being secret (secrets are crypto::random_token, 128+ bits).
//
// Why time-ordered: most ids are B-tree keys (resources, documents, audit events, patients'
// rows). Random ids land each new row on a random leaf page, so every write dirties, logs and
// later checkpoints one page per index; ids made in the same second share pages. Measured on
// document issuance: a third fewer bytes written and ~20 % more documents a second
// (docs/benchmarks.md). The cost: an id tells when it was made, to the millisecond, which
// for our records (a document's or a resource's creation time, itself in the record) is not
// a secret.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hb {

std::string new_uuid();
bool is_valid_fhir_id(std::string_view id);
// 8-4-4-4-12 hexadecimal digits (either case), whatever the version nibble: the form of an id a
// client may choose when it creates a resource by PUT (see docs/fhir-api.md, "Choosing ids").
bool is_uuid_shaped(std::string_view id);

// Random bytes for values that must not repeat but are not secret (ids, AEAD nonces): OpenSSL's
// generator, drawn 512 bytes at a time into a pool per thread. Secrets (keys, tokens) come from
// crypto::random_bytes, straight from the generator, so that they never wait in a pool.
void fill_public_random(void* out, std::size_t n);

}  // namespace hb
