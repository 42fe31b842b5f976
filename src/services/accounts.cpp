#include "services/accounts.h"

#include <algorithm>

#include "core/ids.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/otp.h"
#include "crypto/random.h"
#include "documents/request.h"
#include "notify/message.h"

namespace hb::services {
namespace {

constexpr const char* kClient = "resident-account";
constexpr const char* kTotpIssuer = "Healthbook";

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool is_code(std::string_view code) {
  return code.size() == static_cast<size_t>(AccountService::kCodeDigits) &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string totp_aad(const std::string& account_id) { return "account-totp/" + account_id; }

// The key of a login's SMS code: one per half session (asking again replaces it).
std::string login_code_key(const std::string& session_hash) {
  return crypto::sha256_hex("login\0" + session_hash);
}

int64_t seconds_until(Time now, Time then) {
  return std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(then - now).count() + 1);
}

// The phone a facility registered: Patient.telecom system=phone, a mobile one first; spaces,
// dots and hyphens dropped. "" when none is a valid E.164 number.
std::string registered_phone(const Json& patient) {
  if (!patient.contains("telecom") || !patient["telecom"].is_array()) return "";
  std::string first;
  for (const Json& t : patient["telecom"]) {
    if (!t.is_object() || t.value("system", "") != "phone" || !t.contains("value") ||
        !t["value"].is_string())
      continue;
    std::string v;
    for (char c : t["value"].get<std::string>()) {
      if (c != ' ' && c != '-' && c != '.') v.push_back(c);
    }
    if (!notify::is_e164(v)) continue;
    if (t.value("use", "") == "mobile") return v;
    if (first.empty()) first = v;
  }
  return first;
}

std::string display_name(const Json& patient, fhir::NameOrder order) {
  if (!patient.contains("name") || !patient["name"].is_array() || patient["name"].empty())
    return "";
  return fhir::written_name(patient["name"][0], order);
}

}  // namespace

AccountService::AccountService(store::Store& store, Vault& vault, const Clock& clock,
                               AccountOptions options, notify::Outbox* outbox)
    : store_(store),
      vault_(vault),
      clock_(clock),
      options_(std::move(options)),
      outbox_(outbox),
      signups_by_id_(clock, kSignupsPerId / 60.0, kSignupsPerId),
      signups_by_address_(clock, kSignupsPerAddress / 60.0, kSignupsPerAddress),
      wrong_by_address_(clock, kWrongPerAddress / 15.0, kWrongPerAddress),
      totp_confirms_(clock, kCodeTries / 15.0, kCodeTries),
      login_codes_(clock, kLoginCodesPerSession / 10.0, kLoginCodesPerSession),
      login_codes_by_account_(clock, kLoginCodesPerAccount / 60.0, kLoginCodesPerAccount) {
  // A hash of a password nobody knows, with the configured cost: a login for an unknown national
  // id verifies against it, so it takes as long as one for a real account.
  if (auto h = crypto::hash_password(crypto::random_token(16), options_.password_cost))
    dummy_hash_ = *h;
}

Status AccountService::check_password(std::string_view password, std::string_view national_id) {
  auto refuse = [](const std::string& why) {
    return Status(Code::kUnprocessable, "the password is too weak: " + why,
                  {{"password", why, "invalid"}});
  };
  size_t chars = 0;
  bool lower = false, upper = false, digit = false, other = false;
  for (unsigned char c : password) {
    if ((c & 0xC0) != 0x80) ++chars;
    if (c >= 'a' && c <= 'z')
      lower = true;
    else if (c >= 'A' && c <= 'Z')
      upper = true;
    else if (c >= '0' && c <= '9')
      digit = true;
    else
      other = true;
  }
  if (password.size() > kMaxPassword)
    return refuse("at most " + std::to_string(kMaxPassword) + " bytes");
  if (chars < kMinPassword)
    return refuse("at least " + std::to_string(kMinPassword) + " characters");
  if (!notify::is_valid_utf8(password)) return refuse("must be UTF-8 text");
  if (int(lower) + int(upper) + int(digit) + int(other) < 2) {
    return refuse("mix at least two of: lower case, upper case, digits, other characters");
  }
  if (!national_id.empty() && password.find(national_id) != std::string_view::npos) {
    return refuse("must not contain the national id");
  }
  return Status::ok();
}

std::pair<std::string, store::AccountSession> AccountService::new_session(
    const store::Account& a, bool full) const {
  const Time now = clock_.now();
  std::string token = crypto::random_token(32);
  store::AccountSession s{crypto::sha256_hex(token), a.id, a.patient_id, now, now, full, 0};
  return {std::move(token), std::move(s)};
}

std::vector<std::string> AccountService::id_indexes(std::string_view national_id) const {
  std::vector<std::string> out;
  for (const auto& system : options_.national_id_systems) {
    out.push_back(vault_.blind("person", system + "|" + std::string(national_id)));
  }
  return out;
}

Result<AccountService::Person> AccountService::person(store::Reader& r,
                                                      const std::string& patient_id) {
  HB_ASSIGN_OR_RETURN(auto row, r.current("Patient", patient_id));
  if (!row || row->deleted) return not_found("the person is no longer registered");
  HB_ASSIGN_OR_RETURN(auto key,
                      vault_.key_for_read(r, Vault::owner_for(row->patient_id, row->facility_id)));
  HB_ASSIGN_OR_RETURN(auto text, key.open(row->body, Vault::aad(*row)));
  HB_ASSIGN_OR_RETURN(Json j, parse_json(text));
  Person p;
  p.patient_id = patient_id;
  p.birth_date = j.value("birthDate", "");
  p.phone = registered_phone(j);
  p.name = display_name(j, options_.name_order);
  if (j.contains("identifier") && j["identifier"].is_array()) {
    for (const Json& i : j["identifier"]) {
      if (!i.is_object() || !i.contains("value") || !i["value"].is_string()) continue;
      const std::string system = i.value("system", "");
      for (const auto& s : options_.national_id_systems) {
        if (s == system) p.national_ids.push_back(i["value"].get<std::string>());
      }
    }
  }
  return p;
}

Result<std::optional<AccountService::Person>> AccountService::person_by_national_id(
    store::Reader& r, std::string_view national_id) {
  for (const auto& index : id_indexes(national_id)) {
    HB_ASSIGN_OR_RETURN(auto pid, r.patient_by_identifier(index));
    if (!pid) continue;
    auto p = person(r, *pid);
    if (!p) {
      if (p.error().code() == Code::kNotFound) return std::optional<Person>();
      return p.error();
    }
    return std::optional<Person>(std::move(*p));
  }
  return std::optional<Person>();
}

std::string AccountService::code_mac(const std::string& challenge_hash,
                                     std::string_view code) const {
  return crypto::hex_encode(
      crypto::hmac_sha256(options_.codes_secret, challenge_hash + '\0' + std::string(code)));
}

std::string AccountService::new_code() const {
  // Uniform over 000000..999999: draws above the largest multiple of 10^6 are thrown back.
  for (;;) {
    std::string b = crypto::random_bytes(4);
    uint32_t v = 0;
    for (unsigned char c : b) v = (v << 8) | c;
    if (v >= 4'294'000'000u) continue;
    std::string s = std::to_string(v % 1'000'000u);
    return std::string(6 - s.size(), '0') + s;
  }
}

Status AccountService::queue_code_sms(store::Writer& w, const std::string& phone,
                                      const std::string& patient_id, const std::string& code,
                                      const char* why) {
  if (!outbox_) return Status::ok();
  notify::Message sms;
  sms.channel = notify::Channel::kSms;
  sms.recipient = phone;
  sms.patient_id = patient_id;
  sms.text = "Healthbook " + std::string(why) + " code: " + code +
             ". It expires in 10 minutes. Never share it; Healthbook staff will never ask for it.";
  return outbox_->enqueue(w, sms).status();
}

Result<std::string> AccountService::open_totp(store::Reader& r, const store::Account& a,
                                              const std::string& sealed) {
  HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_read(r, a.patient_id));
  return key.open(sealed, totp_aad(a.id));
}

std::chrono::minutes AccountService::lock_length(int locks) {
  std::chrono::minutes d = kLockFor;
  for (int i = 0; i < locks && d < kLockForMost; ++i) d *= 2;
  return std::min<std::chrono::minutes>(d, kLockForMost);
}

bool AccountService::count_strike(Strikes& s) const {
  const Time now = clock_.now();
  if (now - s.window_start >= kLockWindow) {
    s.window_start = now;
    s.failures = 0;
  }
  ++s.failures;
  if (s.failures >= kWrongPerAccount) {
    // Locks in a row: a lock that ended a day or more ago no longer counts towards this one.
    if (s.locked_until != Time{} && now - s.locked_until >= kLockForMost) s.locks = 0;
    s.locked_until = now + lock_length(s.locks);
    ++s.locks;
    s.failures = 0;
    s.window_start = now;
    return true;
  }
  return false;
}

bool AccountService::strike(store::Account& a) const {
  Strikes s{a.failures, a.failures_window_start, a.locked_until, a.locks};
  const bool now_locked = count_strike(s);
  a.failures = s.failures;
  a.failures_window_start = s.window_start;
  a.locked_until = s.locked_until;
  a.locks = s.locks;
  return now_locked;
}

AccountResult AccountService::refused(int status, const std::string& title,
                                      const std::string& detail) const {
  AccountResult r;
  r.status = status;
  r.body = {{"type", "about:blank"}, {"status", status}, {"title", title}, {"detail", detail}};
  return r;
}

AccountResult AccountService::locked(Time until) const {
  AccountResult r = refused(429, "locked", "Too many wrong attempts. Try again later.");
  r.retry_after = static_cast<int>(seconds_until(clock_.now(), until));
  r.body["retryAfter"] = r.retry_after;
  return r;
}

Result<store::Account> AccountService::current_account(const std::string& id) {
  std::optional<store::Account> a;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(a, r.account(id));
    return Status::ok();
  }));
  if (!a) return internal("an account vanished");
  return std::move(*a);
}

AccountResult AccountService::busy() const {
  AccountResult r =
      refused(429, "busy", "Another attempt for this account is being checked. Try again.");
  r.retry_after = 1;
  r.body["retryAfter"] = 1;
  return r;
}

AccountResult AccountService::limited(const std::string& detail, int retry_after) const {
  AccountResult r = refused(429, "rate-limited", detail);
  r.retry_after = retry_after;
  r.body["retryAfter"] = retry_after;
  return r;
}

store::AuditRecord AccountService::audit_record(const char* event, const char* action,
                                                const char* outcome, const std::string& patient_id,
                                                const std::string& account_id,
                                                const std::string& address,
                                                std::string detail) const {
  store::AuditRecord a;
  a.id = new_uuid();
  a.time = clock_.now();
  a.action = action;
  a.outcome = outcome;
  a.event_type = event;
  a.client_id = kClient;
  a.patient_id = patient_id;
  a.entities = account_id.empty() ? "" : "Account/" + account_id;
  a.detail = std::move(detail);
  a.source_ip = address;
  return a;
}

void AccountService::audit(const char* event, const char* outcome, const std::string& patient_id,
                           const std::string& account_id, const std::string& address,
                           std::string detail) {
  store_.append_audit_async(
      audit_record(event, "E", outcome, patient_id, account_id, address, std::move(detail)));
}

Result<std::string> AccountService::hash_new_password(const std::string& patient_id,
                                                      std::string_view password, Person* person_out) {
  // The password must not hold the person's own national id (known only once the code is right;
  // refusing it costs no try, and the code stays good for another password).
  Person p;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(p, person(r, patient_id));
    return Status::ok();
  }));
  for (const auto& id : p.national_ids) HB_RETURN_IF_ERROR(check_password(password, id));
  if (person_out != nullptr) *person_out = std::move(p);
  // Argon2id off the writer thread; the caller's write then re-checks the code, so it is used once.
  return crypto::hash_password(password, options_.password_cost);
}

std::string registered_mobile(const Json& patient) { return registered_phone(patient); }

// ---- sign-up ------------------------------------------------------------------------------------

Result<AccountResult> AccountService::start_signup(std::string_view national_id,
                                                   std::string_view birth_date,
                                                   const std::string& address) {
  return start_challenge(Challenge::kSignup, national_id, birth_date, address);
}

Result<AccountResult> AccountService::start_reset(std::string_view national_id,
                                                  std::string_view birth_date,
                                                  const std::string& address) {
  return start_challenge(Challenge::kReset, national_id, birth_date, address);
}

// Sign-up and password reset both start with proof of the person: national id + birth date, then
// a code to the phone a facility registered. A reset code goes only to a person who has an account.
Result<AccountResult> AccountService::start_challenge(Challenge kind,
                                                      std::string_view national_id_in,
                                                      std::string_view birth_date,
                                                      const std::string& address) {
  const bool reset = kind == Challenge::kReset;
  const std::string national_id = trim(national_id_in);
  const std::string birth = documents::normalise_birth_date(trim(birth_date));
  std::vector<Problem> problems;
  if (national_id.empty() || national_id.size() > 64)
    problems.push_back({"nationalId", "required: 1 to 64 characters", "required"});
  if (birth.empty())
    problems.push_back({"birthDate", "required: a date such as 1990-04-12", "required"});
  if (!problems.empty())
    return Status(Code::kInvalid, "national id and birth date are needed", problems);
  if (options_.national_id_systems.empty())
    return Status(Code::kUnavailable, "no national id system is configured");

  const std::string key_prefix = reset ? "reset-" : "";
  if (!signups_by_address_.allow(key_prefix + address_key(address))) {
    return limited(reset ? "Too many password resets from this network. Try again later."
                         : "Too many sign-ups from this network. Try again later.",
                   60 * 60 / kSignupsPerAddress);
  }
  const std::vector<std::string> indexes = id_indexes(national_id);
  if (!signups_by_id_.allow(key_prefix + "id:" + indexes[0])) {
    return limited(reset ? "Too many reset codes for these details. Try again later."
                         : "Too many sign-up codes for these details. Try again later.",
                   60 * 60 / kSignupsPerId);
  }

  std::optional<Person> p;
  bool has_account = false;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(p, person_by_national_id(r, national_id));
    if (p && reset) {
      HB_ASSIGN_OR_RETURN(auto account, r.account_by_patient(p->patient_id));
      has_account = account.has_value();
    }
    return Status::ok();
  }));
  const bool match = p && !p->birth_date.empty() &&
                     crypto::equal_constant_time(p->birth_date, birth) && !p->phone.empty() &&
                     (!reset || has_account);

  // A challenge either way; without a match its code is never sent, so it can never be answered.
  const Time now = clock_.now();
  const std::string challenge = crypto::random_token(32);
  const std::string code = new_code();
  store::OneTimeCode row;
  row.challenge_hash = crypto::sha256_hex(challenge);
  row.purpose = reset ? "reset" : "signup";
  row.subject = match ? p->patient_id : "";
  row.code_mac = code_mac(row.challenge_hash, code);
  row.created = now;
  row.expires = now + kCodeLifetime;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_RETURN_IF_ERROR(w.put_one_time_code(row));
    if (match) {
      HB_RETURN_IF_ERROR(
          queue_code_sms(w, p->phone, p->patient_id, code, reset ? "password reset" : "sign-up"));
    }
    return Status::ok();
  }));
  if (match && outbox_) outbox_->wake();
  audit(reset ? "account-reset-start" : "account-signup-start", "0", match ? p->patient_id : "", "",
        address, match ? "code sent" : "no match");

  AccountResult out;
  out.status = 202;
  out.body = {
      {"challenge", challenge},
      {"expiresIn", std::chrono::seconds(kCodeLifetime).count()},
      {"detail",
       "If the details match a record, a code was sent to the phone the clinic registered."}};
  return out;
}

Result<AccountResult> AccountService::finish_signup(const std::string& challenge,
                                                    std::string_view code_in,
                                                    std::string_view password,
                                                    const std::string& address) {
  const std::string code = trim(code_in);
  HB_RETURN_IF_ERROR(check_password(password, ""));
  // The address pays before the code is checked, and is paid back unless it was wrong: codes sent
  // at once cannot all pass a check of the address's count made before any of them was counted.
  Charge charge(wrong_by_address_, address_key(address));
  if (!charge.charged()) {
    return limited("Too many wrong codes from this network. Try again later.", 60);
  }
  const Time now = clock_.now();
  const std::string hash = crypto::sha256_hex(challenge);
  std::optional<store::OneTimeCode> row;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(row, r.one_time_code(hash));
    return Status::ok();
  }));
  const AccountResult gone = code_gone();
  if (!answerable(row, "signup", now)) {
    audit("account-signup", "4", "", "", address, "expired, used or unknown code");
    return gone;
  }
  const bool right = is_code(code) && !row->subject.empty() &&
                     crypto::equal_constant_time(row->code_mac, code_mac(hash, code));
  if (!right) {
    return wrong_challenge_answer(hash, *row, "account-signup", "wrong code", gone,
                                  refused(401, "wrong-code", "That is not the code we sent."),
                                  address, charge);
  }

  HB_ASSIGN_OR_RETURN(std::string password_hash, hash_new_password(row->subject, password));
  store::Account account;
  account.id = new_uuid();
  account.patient_id = row->subject;
  account.password_hash = std::move(password_hash);
  account.created = now;
  const auto opened = new_session(account, true);
  const std::string& token = opened.first;
  const store::AccountSession& session = opened.second;
  enum class Outcome { kCreated, kUsed, kExists } outcome = Outcome::kCreated;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto cur, w.one_time_code(hash));
    if (!cur || cur->used || cur->attempts >= kCodeTries) {
      outcome = Outcome::kUsed;
      return Status::ok();
    }
    cur->used = true;
    HB_RETURN_IF_ERROR(w.put_one_time_code(*cur));
    HB_ASSIGN_OR_RETURN(auto existing, w.account_by_patient(account.patient_id));
    if (existing) {
      outcome = Outcome::kExists;
      return Status::ok();
    }
    HB_RETURN_IF_ERROR(w.put_account(account));
    HB_RETURN_IF_ERROR(w.put_account_session(session));
    return w.append_audit(audit_record("account-signup", "C", "0", account.patient_id, account.id,
                                       address, "account created; signed in"));
  }));
  if (outcome == Outcome::kUsed) return gone;
  if (outcome == Outcome::kExists) {
    audit("account-signup", "4", account.patient_id, "", address, "already has an account");
    return refused(409, "account-exists", "You already have an account. Log in instead.");
  }
  AccountResult out;
  out.status = 201;
  out.body = {{"account", {{"id", account.id}, {"created", format_instant(now)}}},
              {"signedIn", true}};
  out.session_token = token;
  return out;
}

bool AccountService::answerable(const std::optional<store::OneTimeCode>& row,
                                std::string_view purpose, Time now) {
  return row && row->purpose == purpose && !row->used && row->attempts < kCodeTries &&
         row->expires > now;
}

AccountResult AccountService::code_gone() const {
  return refused(410, "code-expired",
                 "This code no longer works (expired, used or too many tries). Start again.");
}

Result<AccountResult> AccountService::wrong_challenge_answer(
    const std::string& challenge_hash, const store::OneTimeCode& row, const char* event,
    const char* why, const AccountResult& gone, AccountResult refusal, const std::string& address,
    Charge& charge) {
  charge.keep();
  int attempts = 0;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto cur, w.one_time_code(challenge_hash));
    if (!cur) return internal("a one-time code vanished");
    attempts = ++cur->attempts;
    return w.put_one_time_code(*cur);
  }));
  audit(event, "4", row.subject, "", address, why);
  if (attempts >= kCodeTries) return gone;
  refusal.body["remainingAttempts"] = kCodeTries - attempts;
  return refusal;
}

// ---- password reset -----------------------------------------------------------------------------

Result<AccountResult> AccountService::finish_reset(const std::string& challenge,
                                                   std::string_view code_in,
                                                   std::string_view password,
                                                   std::string_view authenticator_code_in,
                                                   const std::string& address) {
  const std::string code = trim(code_in);
  const std::string authenticator_code = trim(authenticator_code_in);
  HB_RETURN_IF_ERROR(check_password(password, ""));
  Charge charge(wrong_by_address_, address_key(address));  // as at sign-up
  if (!charge.charged()) {
    return limited("Too many wrong codes from this network. Try again later.", 60);
  }
  const Time now = clock_.now();
  const std::string hash = crypto::sha256_hex(challenge);
  std::optional<store::OneTimeCode> row;
  std::optional<store::Account> account;
  std::string totp_secret;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(row, r.one_time_code(hash));
    if (!row || row->subject.empty()) return Status::ok();
    HB_ASSIGN_OR_RETURN(account, r.account_by_patient(row->subject));
    if (account && !account->totp_sealed.empty()) {
      HB_ASSIGN_OR_RETURN(totp_secret, open_totp(r, *account, account->totp_sealed));
    }
    return Status::ok();
  }));
  const AccountResult gone = code_gone();
  if (!answerable(row, "reset", now)) {
    audit("account-reset", "4", "", "", address, "expired, used or unknown code");
    return gone;
  }
  const bool right = is_code(code) && !row->subject.empty() && account.has_value() &&
                     crypto::equal_constant_time(row->code_mac, code_mac(hash, code));
  if (!right) {
    return wrong_challenge_answer(hash, *row, "account-reset", "wrong code", gone,
                                  refused(401, "wrong-code", "That is not the code we sent."),
                                  address, charge);
  }
  // With an authenticator app, the SMS code alone would make the phone the only factor: the app's
  // code is needed too. Asking for it costs no try (only the holder of the SMS code learns that
  // the account has one).
  int64_t totp_step = -1;
  if (!totp_secret.empty()) {
    if (authenticator_code.empty()) {
      return refused(401, "authenticator-code-required",
                     "Enter the code from your authenticator app as well.");
    }
    if (is_code(authenticator_code)) totp_step = crypto::totp_match(totp_secret, authenticator_code, now);
    if (totp_step < 0 || totp_step <= account->totp_last_step) {
      return wrong_challenge_answer(
          hash, *row, "account-reset", "wrong authenticator code", gone,
          refused(401, "wrong-authenticator-code", "That is not the code your app shows."), address,
          charge);
    }
  }

  Person p;
  HB_ASSIGN_OR_RETURN(std::string password_hash, hash_new_password(row->subject, password, &p));
  const auto opened = new_session(*account, true);
  bool used = false;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto cur, w.one_time_code(hash));
    HB_ASSIGN_OR_RETURN(auto acct, w.account(account->id));
    if (!cur || cur->used || cur->attempts >= kCodeTries || !acct ||
        (totp_step >= 0 && totp_step <= acct->totp_last_step)) {
      used = true;
      return Status::ok();
    }
    cur->used = true;
    HB_RETURN_IF_ERROR(w.put_one_time_code(*cur));
    acct->password_hash = password_hash;
    acct->failures = 0;
    acct->locked_until = Time{};
    acct->locks = 0;
    if (totp_step >= 0) acct->totp_last_step = totp_step;
    HB_RETURN_IF_ERROR(w.put_account(*acct));
    // Whoever was signed in with the old password is signed out.
    HB_RETURN_IF_ERROR(w.delete_account_sessions(acct->id));
    HB_RETURN_IF_ERROR(w.put_account_session(opened.second));
    HB_RETURN_IF_ERROR(queue_password_notice(w, p, acct->patient_id));
    return w.append_audit(audit_record("account-reset", "U", "0", acct->patient_id, acct->id,
                                       address, "password reset; other sessions ended; signed in"));
  }));
  if (used) return gone;
  if (outbox_) outbox_->wake();
  AccountResult out;
  out.body = {{"reset", true}, {"signedIn", true}};
  out.session_token = opened.first;
  return out;
}

Status AccountService::queue_password_notice(store::Writer& w, const Person& p,
                                             const std::string& patient_id) {
  if (!outbox_ || p.phone.empty()) return Status::ok();
  notify::Message sms;
  sms.channel = notify::Channel::kSms;
  sms.recipient = p.phone;
  sms.patient_id = patient_id;
  sms.text = "Healthbook: your password was changed. If this was not you, contact your clinic "
             "at once.";
  return outbox_->enqueue(w, sms).status();
}

Status AccountService::queue_lock_notice(store::Writer& w, const std::string& patient_id) {
  if (!outbox_) return Status::ok();
  HB_ASSIGN_OR_RETURN(Person p, person(w, patient_id));
  if (p.phone.empty()) return Status::ok();
  notify::Message sms;
  sms.channel = notify::Channel::kSms;
  sms.recipient = p.phone;
  sms.patient_id = patient_id;
  sms.text =
      "Healthbook: your account was locked after wrong sign-in codes were entered with your "
      "password. If this was not you, reset your password now (Forgot password? when you "
      "log in).";
  return outbox_->enqueue(w, sms).status();
}

// ---- the national eID ---------------------------------------------------------------------------

Result<AccountResult> AccountService::eid_sign_in(std::string_view national_id_in,
                                                  const std::string& address) {
  const std::string national_id = trim(national_id_in);
  if (national_id.empty() || national_id.size() > 64)
    return Status(Code::kInvalid, "the national id must be 1 to 64 characters");
  if (options_.national_id_systems.empty())
    return Status(Code::kUnavailable, "no national id system is configured");
  std::optional<Person> p;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(p, person_by_national_id(r, national_id));
    return Status::ok();
  }));
  if (!p) {
    audit("account-login-eid", "4", "", "", address, "no record for the national id");
    return refused(404, "no-record", "No health record carries this national id.");
  }
  const Time now = clock_.now();
  store::Account fresh;
  fresh.id = new_uuid();
  fresh.patient_id = p->patient_id;
  fresh.created = now;  // no password_hash: password login is refused for it
  bool created = false;
  std::string token;
  store::AccountSession session;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    // Looked up inside the write, so two first logins at once make one account.
    HB_ASSIGN_OR_RETURN(auto existing, w.account_by_patient(p->patient_id));
    created = !existing;
    const store::Account& account = existing ? *existing : fresh;
    if (created) HB_RETURN_IF_ERROR(w.put_account(account));
    auto opened = new_session(account, true);
    token = std::move(opened.first);
    session = std::move(opened.second);
    HB_RETURN_IF_ERROR(w.put_account_session(session));
    return w.append_audit(audit_record(
        "account-login-eid", created ? "C" : "E", "0", account.patient_id, account.id, address,
        created ? "national eID; account created; signed in" : "national eID; signed in"));
  }));
  AccountResult out;
  out.body = {{"signedIn", true}, {"accountCreated", created}};
  out.session_token = std::move(token);
  return out;
}

// ---- login --------------------------------------------------------------------------------------

Result<AccountResult> AccountService::login(std::string_view national_id_in,
                                            std::string_view password, const std::string& address) {
  const std::string national_id = trim(national_id_in);
  if (national_id.empty() || national_id.size() > 64 || password.empty() ||
      password.size() > kMaxPassword) {
    return Status(Code::kInvalid, "national id and password are needed",
                  {{"nationalId", "required: 1 to 64 characters", "required"},
                   {"password", "required", "required"}});
  }
  if (options_.national_id_systems.empty())
    return Status(Code::kUnavailable, "no national id system is configured");
  const std::string key = id_indexes(national_id)[0];
  // Attempts sent at once do not share one look at the counts (services/rate_limit.h): the
  // address pays before the password is checked, and one attempt for a national id (an account
  // or none: the same) is checked at a time, up to its durable count.
  Charge charge(wrong_by_address_, address_key(address));
  if (!charge.charged()) {
    return limited("Too many wrong attempts from this network. Try again later.", 60);
  }
  const InFlight::Claim claim = checking_.claim("login:" + key);
  if (!claim.held()) return busy();
  std::optional<store::Account> account;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    for (const auto& index : id_indexes(national_id)) {
      HB_ASSIGN_OR_RETURN(auto pid, r.patient_by_identifier(index));
      if (!pid) continue;
      HB_ASSIGN_OR_RETURN(account, r.account_by_patient(*pid));
      break;
    }
    return Status::ok();
  }));
  // The account's strikes are shared with its second factors and password changes: hold them too
  // (an unknown id holds a key of its own, for the same work).
  const InFlight::Claim account_claim =
      checking_.claim(account ? "account:" + account->id : "no-account:" + key);
  if (!account_claim.held()) return busy();
  const Time now = clock_.now();
  Strikes strikes;
  if (account) {
    strikes = {account->failures, account->failures_window_start, account->locked_until,
               account->locks};
  } else {
    std::lock_guard lock(unknown_mu_);
    if (auto it = unknown_.find(key); it != unknown_.end()) strikes = it->second;
  }
  if (strikes.locked_until > now) {
    audit("account-login", "4", account ? account->patient_id : "", account ? account->id : "",
          address, "locked");
    return locked(strikes.locked_until);
  }
  // The same Argon2id work whether or not there is an account.
  // An account made by the eID login has no password: it is checked against the dummy, and
  // refused like a wrong one.
  const bool has_password = account && !account->password_hash.empty();
  const bool right =
      crypto::verify_password(password, has_password ? account->password_hash : dummy_hash_) &&
      has_password;
  if (!right) {
    charge.keep();
    bool now_locked = false;
    if (account) {
      HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
        HB_ASSIGN_OR_RETURN(auto cur, w.account(account->id));
        if (!cur) return internal("an account vanished");
        now_locked = strike(*cur);
        strikes = {cur->failures, cur->failures_window_start, cur->locked_until, cur->locks};
        return w.put_account(*cur);
      }));
    } else {
      // A durable write's wait, as for a real account, then the count in memory.
      HB_RETURN_IF_ERROR(store_.write_sync([](store::Writer&) { return Status::ok(); }));
      std::lock_guard lock(unknown_mu_);
      if (unknown_.size() > 100000) unknown_.clear();  // bounded memory
      now_locked = count_strike(unknown_[key]);
      strikes = unknown_[key];
    }
    audit("account-login", "4", account ? account->patient_id : "", account ? account->id : "",
          address, now_locked ? "wrong password; locked" : "wrong password");
    if (now_locked) return locked(strikes.locked_until);
    return refused(401, "wrong-credentials", "The national ID or the password is wrong.");
  }

  // Password right: a half session, completed by the second factor.
  std::string new_hash;
  if (crypto::password_needs_rehash(account->password_hash, options_.password_cost)) {
    if (auto h = crypto::hash_password(password, options_.password_cost)) new_hash = *h;
  }
  Person p;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(p, person(r, account->patient_id));
    return Status::ok();
  }));
  const bool totp = !account->totp_sealed.empty();
  const bool sms = !p.phone.empty();
  const auto opened = new_session(*account, false);
  const std::string& token = opened.first;
  const store::AccountSession& session = opened.second;
  const bool send_sms = sms && !totp && login_codes_.allow(session.token_hash) &&
                        login_codes_by_account_.allow(account->id);
  const std::string code = new_code();
  std::optional<Time> locked_meanwhile;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto cur, w.account(account->id));
    if (!cur) return internal("an account vanished");
    // Locked since it was read (by another server process: this one holds the account's claim):
    // the right password does not get past the lock either.
    if (cur->locked_until > now) {
      locked_meanwhile = cur->locked_until;
      return Status::ok();
    }
    // The strikes stay until the second factor is right too: were a right password to clear them,
    // someone who has the password could guess codes without end, a login between every four.
    if (!new_hash.empty()) {
      cur->password_hash = new_hash;
      HB_RETURN_IF_ERROR(w.put_account(*cur));
    }
    HB_RETURN_IF_ERROR(w.put_account_session(session));
    if (send_sms) {
      const std::string k = login_code_key(session.token_hash);
      HB_RETURN_IF_ERROR(w.put_one_time_code(
          {k, "login", session.token_hash, code_mac(k, code), now, now + kCodeLifetime, 0, false}));
      HB_RETURN_IF_ERROR(queue_code_sms(w, p.phone, p.patient_id, code, "login"));
    }
    return Status::ok();
  }));
  if (locked_meanwhile) return locked(*locked_meanwhile);
  if (send_sms && outbox_) outbox_->wake();
  audit("account-login-password", "0", account->patient_id, account->id, address,
        "password right; second factor next");
  Json methods = Json::array();
  if (totp) methods.push_back("totp");
  if (sms) methods.push_back("sms");
  AccountResult out;
  // smsLimited: no code went out because the phone had as many login codes as an hour allows.
  out.body = {
      {"secondFactor",
       {{"methods", methods}, {"smsSent", send_sms}, {"smsLimited", sms && !totp && !send_sms}}}};
  out.session_token = token;
  return out;
}

Result<std::variant<AccountService::LiveSession, AccountResult>> AccountService::live_session(
    const std::string& token, bool need_full, const std::string& address) {
  using Out = std::variant<LiveSession, AccountResult>;
  AccountResult none = refused(401, "not-signed-in", "Log in first.");
  none.clear_session = !token.empty();
  if (token.empty() || token.size() > 128) return Out(none);
  const std::string hash = crypto::sha256_hex(token);
  std::optional<store::AccountSession> s;
  std::optional<store::Account> a;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(s, r.account_session(hash));
    if (!s) return Status::ok();
    HB_ASSIGN_OR_RETURN(a, r.account(s->account_id));
    return Status::ok();
  }));
  if (!s || !a) return Out(none);
  const Time now = clock_.now();
  // A half session lives only as long as a code; a full one until idle or at its absolute end.
  const bool expired = now - s->created >= options_.lifetime ||
                       now - s->last_seen >= options_.idle ||
                       (!s->second_factor && now - s->created >= kCodeLifetime);
  if (expired) {
    HB_RETURN_IF_ERROR(
        store_.write_sync([&](store::Writer& w) { return w.delete_account_session(hash); }));
    audit("account-session-expired", "0", s->patient_id, s->account_id, address, "");
    AccountResult r = refused(401, "session-expired", "Your session ended. Log in again.");
    r.clear_session = true;
    return Out(r);
  }
  if (need_full && !s->second_factor) {
    return Out(
        refused(401, "second-factor-required", "Finish logging in with your second factor."));
  }
  if (now - s->last_seen >= kTouchEvery) {
    HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
      HB_ASSIGN_OR_RETURN(auto cur, w.account_session(hash));
      if (!cur) return Status::ok();  // logged out meanwhile: stays out
      cur->last_seen = now;
      return w.put_account_session(*cur);
    }));
    s->last_seen = now;
  }
  return Out(LiveSession{std::move(*s), std::move(*a)});
}

// The live session of the request, or return its refusal (401) from the calling function.
#define HB_LIVE_SESSION(var, token, full, address)                                       \
  HB_ASSIGN_OR_RETURN(auto var##_or, live_session(token, full, address));                \
  if (auto* refusal = std::get_if<AccountResult>(&var##_or)) return std::move(*refusal); \
  LiveSession& var = std::get<LiveSession>(var##_or)

Result<AccountResult> AccountService::send_login_code(const std::string& session_token,
                                                      const std::string& address) {
  HB_LIVE_SESSION(live, session_token, false, address);
  if (live.session.second_factor) return AccountResult{200, {{"signedIn", true}}, "", false, 0};
  Person p;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(p, person(r, live.account.patient_id));
    return Status::ok();
  }));
  if (p.phone.empty()) {
    return Status(Code::kUnprocessable,
                  "no phone is registered for you; use your authenticator app");
  }
  const Time now = clock_.now();
  const std::string k = login_code_key(live.session.token_hash);
  const std::string code = new_code();
  // The login's own budget is taken back when the account's refuses: a refusal sends nothing.
  Charge for_login(login_codes_, live.session.token_hash);
  if (!for_login.charged()) {
    return limited("No more codes for this login. Log in again later.", 600);
  }
  if (!login_codes_by_account_.allow(live.account.id)) {
    return limited("Too many codes were sent to your phone. Try again later.", 600);
  }
  for_login.keep();
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_RETURN_IF_ERROR(w.put_one_time_code({k, "login", live.session.token_hash, code_mac(k, code),
                                            now, now + kCodeLifetime, 0, false}));
    return queue_code_sms(w, p.phone, p.patient_id, code, "login");
  }));
  if (outbox_) outbox_->wake();
  audit("account-login-code", "0", live.account.patient_id, live.account.id, address,
        "SMS code sent");
  return AccountResult{200, {{"smsSent", true}}, "", false, 0};
}

Result<AccountResult> AccountService::second_factor(const std::string& session_token,
                                                    std::string_view code_in,
                                                    const std::string& address) {
  HB_LIVE_SESSION(live, session_token, false, address);
  if (live.session.second_factor) return AccountResult{200, {{"signedIn", true}}, "", false, 0};
  const Time now = clock_.now();
  // As for a login: one attempt for the account's strikes at a time (a code here, the current
  // password when changing it), the address paying first.
  Charge charge(wrong_by_address_, address_key(address));
  if (!charge.charged()) {
    return limited("Too many wrong attempts from this network. Try again later.", 60);
  }
  const InFlight::Claim claim = checking_.claim("account:" + live.account.id);
  if (!claim.held()) return busy();
  // The account as it is now: an attempt that held the claim before this one may have locked it.
  HB_ASSIGN_OR_RETURN(const store::Account account_now, current_account(live.account.id));
  if (account_now.locked_until > now) return locked(account_now.locked_until);
  const std::string code = trim(code_in);
  const std::string session_hash = live.session.token_hash;
  const std::string k = login_code_key(session_hash);
  int64_t totp_step = -1;
  bool sms_right = false;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    if (!is_code(code)) return Status::ok();
    if (!account_now.totp_sealed.empty()) {
      HB_ASSIGN_OR_RETURN(auto secret, open_totp(r, account_now, account_now.totp_sealed));
      int64_t step = crypto::totp_match(secret, code, now);
      // A code whose time step was already accepted is a replay.
      if (step >= 0 && step > account_now.totp_last_step) totp_step = step;
    }
    HB_ASSIGN_OR_RETURN(auto row, r.one_time_code(k));
    sms_right = row && row->purpose == "login" && row->subject == session_hash && !row->used &&
                row->expires > now && crypto::equal_constant_time(row->code_mac, code_mac(k, code));
    return Status::ok();
  }));

  if (totp_step < 0 && !sms_right) {
    charge.keep();
    bool now_locked = false, ended = false;
    int remaining = 0;
    Time until{};
    HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
      HB_ASSIGN_OR_RETURN(auto acct, w.account(live.account.id));
      HB_ASSIGN_OR_RETURN(auto sess, w.account_session(session_hash));
      if (!acct) return internal("an account vanished");
      now_locked = strike(*acct);
      until = acct->locked_until;
      HB_RETURN_IF_ERROR(w.put_account(*acct));
      // Whoever got here had the password: if it was not the owner, they should know.
      if (now_locked) HB_RETURN_IF_ERROR(queue_lock_notice(w, acct->patient_id));
      if (!sess) {
        ended = true;
        return Status::ok();
      }
      ++sess->failures;
      // The login's own tries, or fewer when the account's strikes (kept across right passwords)
      // leave fewer before its lock.
      remaining = std::min(kCodeTries - sess->failures, kWrongPerAccount - acct->failures);
      if (remaining <= 0 || now_locked) {
        ended = true;
        return w.delete_account_session(session_hash);
      }
      return w.put_account_session(*sess);
    }));
    if (now_locked && outbox_) outbox_->wake();
    audit("account-login", "4", live.account.patient_id, live.account.id, address,
          now_locked ? "wrong second factor; locked" : "wrong second factor");
    if (now_locked) {
      AccountResult r = locked(until);
      r.clear_session = true;
      return r;
    }
    if (ended) {
      AccountResult r = refused(401, "start-again", "Too many wrong codes. Log in again.");
      r.clear_session = true;
      return r;
    }
    AccountResult r = refused(401, "wrong-code", "That code is not right.");
    r.body["remainingAttempts"] = remaining;
    return r;
  }

  // Right: the session becomes full under a new token (the half session's token stops working).
  const std::string token = crypto::random_token(32);
  store::AccountSession full = live.session;
  full.token_hash = crypto::sha256_hex(token);
  full.second_factor = true;
  full.failures = 0;
  full.last_seen = now;
  bool replayed = false;
  std::optional<Time> locked_meanwhile;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto acct, w.account(live.account.id));
    HB_ASSIGN_OR_RETURN(auto sess, w.account_session(session_hash));
    if (!acct || !sess) {
      replayed = true;
      return Status::ok();
    }
    if (acct->locked_until > now) {  // locked since it was read (by another server process)
      locked_meanwhile = acct->locked_until;
      return Status::ok();
    }
    if (totp_step >= 0) {
      if (totp_step <= acct->totp_last_step) {  // the same code, accepted a moment ago elsewhere
        replayed = true;
        return Status::ok();
      }
      acct->totp_last_step = totp_step;
    } else {
      HB_ASSIGN_OR_RETURN(auto row, w.one_time_code(k));
      if (!row || row->used) {
        replayed = true;
        return Status::ok();
      }
      row->used = true;
      HB_RETURN_IF_ERROR(w.put_one_time_code(*row));
    }
    acct->failures = 0;
    acct->failures_window_start = Time{};
    acct->locks = 0;
    HB_RETURN_IF_ERROR(w.put_account(*acct));
    HB_RETURN_IF_ERROR(w.delete_account_session(session_hash));
    return w.put_account_session(full);
  }));
  if (locked_meanwhile) {
    AccountResult r = locked(*locked_meanwhile);
    r.clear_session = true;
    return r;
  }
  if (replayed) {
    AccountResult r = refused(401, "start-again", "That code was already used. Log in again.");
    r.clear_session = true;
    return r;
  }
  audit("account-login", "0", live.account.patient_id, live.account.id, address,
        totp_step >= 0 ? "signed in (TOTP)" : "signed in (SMS code)");
  AccountResult out;
  out.body = {{"signedIn", true}};
  out.session_token = token;
  return out;
}

// ---- TOTP enrolment -----------------------------------------------------------------------------

Result<AccountResult> AccountService::totp_setup(const std::string& session_token,
                                                 const std::string& address) {
  HB_LIVE_SESSION(live, session_token, true, address);
  const std::string secret = crypto::random_bytes(20);  // 160 bits, as RFC 4226 recommends
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto key, vault_.key_for_write(w, live.account.patient_id));
    HB_ASSIGN_OR_RETURN(auto acct, w.account(live.account.id));
    if (!acct) return internal("an account vanished");
    acct->totp_pending_sealed = key.seal(secret, totp_aad(acct->id));
    return w.put_account(*acct);
  }));
  audit("account-totp-setup", "0", live.account.patient_id, live.account.id, address,
        "enrolment started");
  AccountResult out;
  out.body = {
      {"secret", crypto::base32_encode(secret)},
      {"uri", crypto::otpauth_uri(kTotpIssuer, "resident-" + live.account.id.substr(live.account.id.size() - 8), secret)},
      {"algorithm", "SHA1"},
      {"digits", 6},
      {"period", 30}};
  return out;
}

Result<AccountResult> AccountService::totp_confirm(const std::string& session_token,
                                                   std::string_view code_in,
                                                   const std::string& address) {
  HB_LIVE_SESSION(live, session_token, true, address);
  if (live.account.totp_pending_sealed.empty()) {
    return Status(Code::kUnprocessable,
                  "no authenticator enrolment is in progress; start one with totp/setup");
  }
  if (!totp_confirms_.allow("account:" + live.account.id)) {
    return limited("Too many codes. Try again in a few minutes.", 60 * 15 / kCodeTries);
  }
  const std::string code = trim(code_in);
  const Time now = clock_.now();
  int64_t step = -1;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(auto secret, open_totp(r, live.account, live.account.totp_pending_sealed));
    if (is_code(code)) step = crypto::totp_match(secret, code, now);
    return Status::ok();
  }));
  if (step < 0) {
    audit("account-totp-confirm", "4", live.account.patient_id, live.account.id, address,
          "wrong code");
    return refused(401, "wrong-code",
                   "That code is not right. Check the time on your phone and try again.");
  }
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto acct, w.account(live.account.id));
    if (!acct || acct->totp_pending_sealed != live.account.totp_pending_sealed) {
      return conflict("the enrolment changed meanwhile; start again");
    }
    acct->totp_sealed = acct->totp_pending_sealed;
    acct->totp_pending_sealed.clear();
    acct->totp_last_step = std::max(acct->totp_last_step, step);
    return w.put_account(*acct);
  }));
  audit("account-totp-confirm", "0", live.account.patient_id, live.account.id, address,
        "authenticator enrolled");
  return AccountResult{200, {{"totp", true}}, "", false, 0};
}

// ---- the account, logout ------------------------------------------------------------------------

Result<std::variant<Resident, AccountResult>> AccountService::resident(
    const std::string& session_token, const std::string& address) {
  using Out = std::variant<Resident, AccountResult>;
  HB_ASSIGN_OR_RETURN(auto live, live_session(session_token, true, address));
  if (auto* refusal = std::get_if<AccountResult>(&live)) return Out(std::move(*refusal));
  const LiveSession& l = std::get<LiveSession>(live);
  return Out(Resident{l.account.id, l.account.patient_id});
}

Result<AccountResult> AccountService::me(const std::string& session_token,
                                         const std::string& address) {
  HB_LIVE_SESSION(live, session_token, true, address);
  Person p;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(p, person(r, live.account.patient_id));
    return Status::ok();
  }));
  // Reading the person's record through their account is an access to their data.
  store::AuditRecord a = audit_record("account-me", "R", "0", live.account.patient_id,
                                      live.account.id, address, "read");
  a.entities += " Patient/" + live.account.patient_id;
  store_.append_audit_async(std::move(a));
  Json methods = Json::array();
  if (!live.account.totp_sealed.empty()) methods.push_back("totp");
  if (!p.phone.empty()) methods.push_back("sms");
  AccountResult out;
  out.body = {
      {"account",
       {{"id", live.account.id},
        {"created", format_instant(live.account.created)},
        {"hasPassword", !live.account.password_hash.empty()},  // false: made by the eID login
        {"secondFactors", methods}}},
      {"patient",
       {{"reference", "Patient/" + p.patient_id}, {"name", p.name}, {"birthDate", p.birth_date}}},
      {"session",
       {{"created", format_instant(live.session.created)},
        {"expires", format_instant(live.session.created + options_.lifetime)}}}};
  return out;
}

Result<AccountResult> AccountService::change_password(const std::string& session_token,
                                                      std::string_view current_password,
                                                      std::string_view new_password,
                                                      const std::string& address) {
  HB_LIVE_SESSION(live, session_token, true, address);
  // An account the eID login made has no password to prove: "wrong current password" would only
  // count strikes against the owner. Its first password is set by a reset (reset/start).
  if (live.account.password_hash.empty()) {
    return refused(409, "no-password",
                   "This account has no password yet: set one with \"Forgot your password?\" on "
                   "the login page, or log in with the national eID.");
  }
  if (current_password.empty() || current_password.size() > kMaxPassword) {
    return Status(Code::kInvalid, "the current password is needed",
                  {{"currentPassword", "required", "required"}});
  }
  Person p;
  HB_RETURN_IF_ERROR(store_.read([&](store::Reader& r) -> Status {
    HB_ASSIGN_OR_RETURN(p, person(r, live.account.patient_id));
    return Status::ok();
  }));
  // The policy first: a new password that fails it costs no strike (as at sign-up).
  const std::string national_id = p.national_ids.empty() ? std::string() : p.national_ids[0];
  HB_RETURN_IF_ERROR(check_password(new_password, national_id));
  // As for a login: one attempt for the account's strikes at a time, the address paying first.
  Charge charge(wrong_by_address_, address_key(address));
  if (!charge.charged()) {
    return limited("Too many wrong attempts from this network. Try again later.", 60);
  }
  const InFlight::Claim claim = checking_.claim("account:" + live.account.id);
  if (!claim.held()) return busy();
  HB_ASSIGN_OR_RETURN(const store::Account account_now, current_account(live.account.id));
  const Time now = clock_.now();
  if (account_now.locked_until > now) {
    audit("account-password", "4", live.account.patient_id, live.account.id, address, "locked");
    return locked(account_now.locked_until);
  }
  if (!crypto::verify_password(current_password, account_now.password_hash)) {
    charge.keep();
    bool now_locked = false;
    Time until{};
    HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
      HB_ASSIGN_OR_RETURN(auto cur, w.account(live.account.id));
      if (!cur) return internal("an account vanished");
      now_locked = strike(*cur);
      until = cur->locked_until;
      return w.put_account(*cur);
    }));
    audit("account-password", "4", live.account.patient_id, live.account.id, address,
          now_locked ? "wrong current password; locked" : "wrong current password");
    if (now_locked) return locked(until);
    return refused(401, "wrong-credentials", "The current password is wrong.");
  }
  HB_ASSIGN_OR_RETURN(std::string hash, crypto::hash_password(new_password, options_.password_cost));
  std::optional<Time> locked_meanwhile;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(auto cur, w.account(live.account.id));
    if (!cur) return internal("an account vanished");
    if (cur->locked_until > now) {  // locked since it was read (by another server process)
      locked_meanwhile = cur->locked_until;
      return Status::ok();
    }
    cur->password_hash = hash;
    cur->failures = 0;
    cur->locks = 0;
    HB_RETURN_IF_ERROR(w.put_account(*cur));
    // Whoever else was signed in with the old password is signed out; this session stays.
    HB_RETURN_IF_ERROR(w.delete_account_sessions(cur->id));
    HB_RETURN_IF_ERROR(w.put_account_session(live.session));
    return queue_password_notice(w, p, cur->patient_id);
  }));
  if (locked_meanwhile) return locked(*locked_meanwhile);
  if (outbox_) outbox_->wake();
  audit("account-password", "0", live.account.patient_id, live.account.id, address,
        "password changed; other sessions ended");
  AccountResult out;
  out.body = {{"changed", true}, {"otherSessionsEnded", true}};
  return out;
}

Result<AccountResult> AccountService::logout(const std::string& session_token,
                                             const std::string& address) {
  AccountResult out;
  out.body = {{"signedIn", false}};
  out.clear_session = true;
  if (session_token.empty() || session_token.size() > 128) return out;
  const std::string hash = crypto::sha256_hex(session_token);
  std::optional<store::AccountSession> gone;
  HB_RETURN_IF_ERROR(store_.write_sync([&](store::Writer& w) -> Status {
    HB_ASSIGN_OR_RETURN(gone, w.account_session(hash));
    return gone ? w.delete_account_session(hash) : Status::ok();
  }));
  if (gone)
    audit("account-logout", "0", gone->patient_id, gone->account_id, address, "this session");
  return out;
}

Result<AccountResult> AccountService::logout_everywhere(const std::string& session_token,
                                                        const std::string& address) {
  HB_LIVE_SESSION(live, session_token, true, address);
  HB_RETURN_IF_ERROR(store_.write_sync(
      [&](store::Writer& w) { return w.delete_account_sessions(live.account.id); }));
  audit("account-logout", "0", live.account.patient_id, live.account.id, address, "every session");
  AccountResult out;
  out.body = {{"signedIn", false}};
  out.clear_session = true;
  return out;
}

#undef HB_LIVE_SESSION

std::string person_display_name(const Json& patient, fhir::NameOrder order) {
  return display_name(patient, order);
}

}  // namespace hb::services
