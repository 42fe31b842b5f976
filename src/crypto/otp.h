// One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238) with HMAC-SHA-1, as authenticator apps
// implement them, and the base32 (RFC 4648) text that carries their secrets in otpauth:// URIs.
//
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace hb::crypto {

// RFC 4648 base32, upper case, without '=' padding (what authenticator apps expect).
std::string base32_encode(std::string_view bytes);
// Accepts upper or lower case, optional '=' padding; rejects anything else.
Result<std::string> base32_decode(std::string_view text);

// The HOTP value of `counter` as a zero-padded decimal string of `digits` (6 to 8) digits.
std::string hotp(std::string_view secret, uint64_t counter, int digits = 6);

// TOTP: the time step of `t` (unix seconds / period, T0 = 0).
uint64_t totp_step(Time t, int period_seconds = 30);
std::string totp(std::string_view secret, Time t, int digits = 6, int period_seconds = 30);

// The step within ±`window` steps of `t` whose code is `code`, or -1 when none is. Compares in
// constant time per step.
int64_t totp_match(std::string_view secret, std::string_view code, Time t, int window = 1,
                   int digits = 6, int period_seconds = 30);

// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30
// (Google Authenticator's Key Uri Format); issuer and account are percent-encoded.
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace hb::crypto
