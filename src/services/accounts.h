// Resident accounts: a person proves who they are and gets an account linked to their Patient,
// then signs in with a password and a second factor. docs/accounts.md has the flows and numbers.
//
// Sign-up: national id + birth date; when both match a registered Patient, a 6-digit code goes by
// SMS to the phone a facility registered for them (Patient.telecom). The answer is the same whether
// or not anything matched (a challenge token either way), so sign-up cannot be used to find out
// who is registered. The code + the challenge + a new password create the account.
// Login: national id + password (Argon2id; the same work whether or not the account exists), which
// opens a half session; a TOTP code or an SMS code completes it.
//
// Secrets: challenge and session tokens are 256 random bits held by the client, stored only as
// SHA-256; codes are stored as HMAC-SHA256 under a key derived from the master key; the TOTP
// secret is sealed under the patient's data key. Nothing secret or clinical is logged or audited.
//
// Every guessable step is limited: codes die after kCodeTries wrong answers and kCodeLifetime;
// kWrongPerAccount wrong passwords or second factors within kLockWindow lock the account for
// kLockFor, each lock in a row twice as long as the one before (up to kLockForMost) until a whole
// sign-in, a password reset or a password change; wrong answers from one address and sign-ups per
// national id and per address are rate limited. Refusals that concern a guess are answers
// (AccountResult with a status), not errors.
//
// Thread-safety: safe from any number of threads; all durable state lives in the store.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "crypto/password.h"
#include "fhir/human_name.h"
#include "notify/outbox.h"
#include "services/principal.h"
#include "services/rate_limit.h"
#include "services/vault.h"
#include "store/store.h"

namespace hb::services {

struct AccountOptions {
  std::string
      codes_secret;  // HMAC key for one-time codes (derived from the master key), >= 32 bytes
  std::vector<std::string> national_id_systems;  // where a national id is looked up
  fhir::NameOrder name_order = fhir::NameOrder::kFamilyFirst;  // how a resident's name is written
  crypto::PasswordCost password_cost;
  std::chrono::seconds idle{std::chrono::minutes(30)};    // a session unused this long ends
  std::chrono::seconds lifetime{std::chrono::hours(12)};  // a session ends this long after login
};

// An answer for the HTTP layer: `status` with `body` (problem+json members when not 2xx).
struct AccountResult {
  int status = 200;
  Json body = Json::object();
  std::string session_token;   // non-empty: set the session cookie to this
  bool clear_session = false;  // remove the session cookie
  int retry_after = 0;         // seconds, with 429
};

// The mobile phone a facility registered for the person (Patient.telecom, E.164), "" when none.
// Codes and notices to residents go there.
std::string registered_mobile(const Json& patient);
// The name a person goes by in the app ("Given Family" of the first name), "" when none.
std::string person_display_name(const Json& patient, fhir::NameOrder order);

class AccountService {
 public:
  static constexpr int kCodeDigits = 6;
  static constexpr int kCodeTries = 5;
  static constexpr std::chrono::minutes kCodeLifetime{10};
  static constexpr int kWrongPerAccount = 5;
  static constexpr std::chrono::minutes kLockWindow{15};
  static constexpr std::chrono::minutes kLockFor{
      15};  // the first lock; each next one twice as long
  static constexpr std::chrono::hours kLockForMost{24};
  // How long the lock after `locks` locks in a row lasts: kLockFor, doubled for each, at most
  // kLockForMost.
  static std::chrono::minutes lock_length(int locks);
  static constexpr int kWrongPerAddress = 30;      // wrong passwords and codes per 15 minutes
  static constexpr int kSignupsPerId = 3;          // sign-up codes per national id per hour
  static constexpr int kSignupsPerAddress = 10;    // sign-up starts per address per hour
  static constexpr int kLoginCodesPerSession = 3;  // SMS codes one login may ask for
  static constexpr int kLoginCodesPerAccount = 10;  // login SMS codes to one account an hour
  static constexpr std::size_t kMinPassword = 10;
  static constexpr std::size_t kMaxPassword = 256;  // bytes
  // last_seen is written at most this often (a read does not always cost a write).
  static constexpr std::chrono::seconds kTouchEvery{60};

  // `outbox` sends the codes (may be null only in tests that send none).
  AccountService(store::Store& store, Vault& vault, const Clock& clock, AccountOptions options,
                 notify::Outbox* outbox);

  // POST signup/start: 202 with {"challenge", "expiresIn", "detail"} whether or not the details
  // matched; 429 when rate limited.
  Result<AccountResult> start_signup(std::string_view national_id, std::string_view birth_date,
                                     const std::string& address);
  // POST signup/verify: 201 and a full session; 401 wrong code {"remainingAttempts"}; 410 a code
  // that expired, was used or had too many tries; 409 the person already has an account;
  // kUnprocessable for a password that fails the policy (no attempt counted).
  Result<AccountResult> finish_signup(const std::string& challenge, std::string_view code,
                                      std::string_view password, const std::string& address);

  // POST reset/start: proof of the person for a forgotten (or never set) password, like sign-up:
  // 202 with {"challenge", "expiresIn", "detail"} whatever the details; the code goes out only
  // when they match a person who has an account. 429 when rate limited (its own budget).
  Result<AccountResult> start_reset(std::string_view national_id, std::string_view birth_date,
                                    const std::string& address);
  // POST reset/finish: the SMS code, a new password and, when the account has an authenticator
  // app, a code from it (401 authenticator-code-required without one, costing no try). Right:
  // 200 and a full session; the new Argon2id hash stored, the lock and strikes cleared, every
  // other session ended, an SMS saying the password changed. 401 wrong-code or
  // wrong-authenticator-code {"remainingAttempts"}; 410 a code that expired, was used or had too
  // many tries; kUnprocessable for a password that fails the policy (no try counted).
  Result<AccountResult> finish_reset(const std::string& challenge, std::string_view code,
                                     std::string_view password,
                                     std::string_view authenticator_code,
                                     const std::string& address);

  // POST login: 200 and a half session {"secondFactor": {"methods": [...], "smsSent"}}; 401 for a
  // wrong id or password (the same answer); 429 locked or rate limited.
  Result<AccountResult> login(std::string_view national_id, std::string_view password,
                              const std::string& address);
  // The national eID vouched for the person (an OpenID Connect login, services/oidc_login.h): a
  // full session at once, because the provider's own authentication (its eID card or app with a
  // PIN) counts as both factors. A person who has no account yet gets one, without a password;
  // password login stays refused for it (there is no password to check). A lock from wrong
  // passwords does not stop this login: it guards against guessing, and nothing is guessed here.
  // 200 {"signedIn", "accountCreated"} with a session token; 404 no-record (no token) when no
  // registered person carries the national id. Audited either way.
  Result<AccountResult> eid_sign_in(std::string_view national_id, const std::string& address);

  // POST login/sms: sends (again) an SMS code for the half session.
  Result<AccountResult> send_login_code(const std::string& session_token,
                                        const std::string& address);
  // POST login/second-factor: a TOTP or SMS code. 200 and a new full session token; 401 wrong
  // {"remainingAttempts"} (the session ends after kCodeTries); 429 locked.
  Result<AccountResult> second_factor(const std::string& session_token, std::string_view code,
                                      const std::string& address);

  // TOTP enrolment (full session): a new secret (base32 and otpauth:// URI), then a code from it.
  Result<AccountResult> totp_setup(const std::string& session_token, const std::string& address);
  Result<AccountResult> totp_confirm(const std::string& session_token, std::string_view code,
                                     const std::string& address);

  // GET me (full session): the account and the linked person's name. Audited.
  Result<AccountResult> me(const std::string& session_token, const std::string& address);

  // The resident behind a full session (refreshing its idle time), or the refusal to answer
  // (401 not-signed-in, session-expired or second-factor-required).
  Result<std::variant<Resident, AccountResult>> resident(const std::string& session_token,
                                                         const std::string& address);

  // POST password (full session): {"currentPassword", "newPassword"}. The current password is
  // checked like a login's (a wrong one is a strike towards the lock; 401 wrong-credentials,
  // 429 locked); a new one that fails the policy is kUnprocessable and costs no strike. Right:
  // 200, the new Argon2id hash stored, every OTHER session of the account ended, and an SMS to the
  // registered phone saying the password changed (no health data).
  Result<AccountResult> change_password(const std::string& session_token,
                                        std::string_view current_password,
                                        std::string_view new_password, const std::string& address);

  Result<AccountResult> logout(const std::string& session_token, const std::string& address);
  // Ends every session of the account (any session of it may ask).
  Result<AccountResult> logout_everywhere(const std::string& session_token,
                                          const std::string& address);

  // Password rules: kMinPassword to kMaxPassword, at least two of lower case, upper case, digits
  // and other characters, and not the national id. kUnprocessable naming the rule.
  static Status check_password(std::string_view password, std::string_view national_id);

 private:
  // Consecutive-failure state of an account, or of an unknown national id (kept in memory so that
  // it locks exactly like a real account).
  struct Strikes {
    int failures = 0;
    Time window_start{};
    Time locked_until{};
    int locks = 0;  // in a row, since the last whole sign-in
  };
  struct Person {
    std::string patient_id;
    std::string birth_date;
    std::string phone;  // E.164, "" when none
    std::string name;
    std::vector<std::string> national_ids;  // the values under options.national_id_systems
  };
  struct LiveSession {
    store::AccountSession session;
    store::Account account;
  };

  // A session for `a` under a new 256-bit token (returned; the session keeps its SHA-256). Full
  // when the second factor is done (or not needed).
  std::pair<std::string, store::AccountSession> new_session(const store::Account& a,
                                                            bool full) const;
  std::vector<std::string> id_indexes(std::string_view national_id) const;
  Result<std::optional<Person>> person_by_national_id(store::Reader& r,
                                                      std::string_view national_id);
  Result<Person> person(store::Reader& r, const std::string& patient_id);
  // The live session behind a cookie value; an AccountResult refusal (401) otherwise.
  Result<std::variant<LiveSession, AccountResult>> live_session(const std::string& token,
                                                                bool need_full,
                                                                const std::string& address);
  enum class Challenge { kSignup, kReset };
  Result<AccountResult> start_challenge(Challenge kind, std::string_view national_id,
                                        std::string_view birth_date, const std::string& address);
  // A sign-up or reset code that can still be answered: of `purpose`, unused, tries left, live.
  static bool answerable(const std::optional<store::OneTimeCode>& row, std::string_view purpose,
                         Time now);
  AccountResult code_gone() const;  // 410 code-expired
  // A wrong answer to a sign-up or reset challenge: one try used, and the address's `charge`
  // kept; `refusal` with {"remainingAttempts"}, or `gone` when that was the last try.
  Result<AccountResult> wrong_challenge_answer(const std::string& challenge_hash,
                                               const store::OneTimeCode& row, const char* event,
                                               const char* why, const AccountResult& gone,
                                               AccountResult refusal, const std::string& address,
                                               Charge& charge);
  // The SMS that says the password changed (no health data); nothing without a phone or outbox.
  Status queue_password_notice(store::Writer& w, const Person& p, const std::string& patient_id);
  // The SMS that says wrong second factors after the right password locked the account: someone
  // else may have the password (no health data; nothing without a phone or outbox).
  Status queue_lock_notice(store::Writer& w, const std::string& patient_id);
  std::string code_mac(const std::string& challenge_hash, std::string_view code) const;
  std::string new_code() const;
  Status queue_code_sms(store::Writer& w, const std::string& phone, const std::string& patient_id,
                        const std::string& code, const char* why);
  Result<std::string> open_totp(store::Reader& r, const store::Account& a,
                                const std::string& sealed);
  bool count_strike(Strikes& s) const;  // true when this strike locks
  bool strike(store::Account& a) const;  // count_strike on the account's own counters
  AccountResult locked(Time until) const;
  AccountResult refused(int status, const std::string& title, const std::string& detail) const;
  AccountResult limited(const std::string& detail, int retry_after) const;
  // 429 "busy": another attempt for the same account is being checked (see InFlight).
  AccountResult busy() const;
  // The account as stored now (read again under the account's claim).
  Result<store::Account> current_account(const std::string& id);
  store::AuditRecord audit_record(const char* event, const char* action, const char* outcome,
                                  const std::string& patient_id, const std::string& account_id,
                                  const std::string& address, std::string detail) const;
  void audit(const char* event, const char* outcome, const std::string& patient_id,
             const std::string& account_id, const std::string& address, std::string detail = "");
  // The Argon2id string for a new password, once it passes the rules for this person (their
  // national ids); `person_out` receives the person when asked for.
  Result<std::string> hash_new_password(const std::string& patient_id, std::string_view password,
                                        Person* person_out = nullptr);

  store::Store& store_;
  Vault& vault_;
  const Clock& clock_;
  AccountOptions options_;
  notify::Outbox* outbox_;
  std::string dummy_hash_;  // verified against when no account matched: the same work either way
  RateLimiter signups_by_id_;
  RateLimiter signups_by_address_;
  RateLimiter wrong_by_address_;
  // The attempts being checked: logins by national id, second factors and password changes by
  // account (they strike the same account).
  InFlight checking_;
  RateLimiter totp_confirms_;
  RateLimiter login_codes_;  // SMS codes per half session (by its hash)
  // Login SMS codes per account: each login is a new half session, and someone who has the
  // password could otherwise send the owner's phone a text with every one.
  RateLimiter login_codes_by_account_;
  std::mutex unknown_mu_;
  std::map<std::string, Strikes> unknown_;  // by national id index; guarded by unknown_mu_
};

}  // namespace hb::services
