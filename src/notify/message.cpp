#include "notify/message.h"

#include <vector>

namespace hb::notify {
namespace {

constexpr size_t kMaxSmsText = 640;      // four concatenated GSM-7 segments
constexpr size_t kMaxEmailText = 16384;  // a notice, not a letter
constexpr size_t kMaxSubject = 200;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// RFC 5322 atext.
bool is_atext(char c) {
  if (is_alnum(c)) return true;
  for (char x : std::string_view("!#$%&'*+-/=?^_`{|}~")) {
    if (c == x) return true;
  }
  return false;
}

bool has_control(std::string_view s, bool allow_newlines) {
  for (unsigned char c : s) {
    if (c == '\n' && allow_newlines) continue;
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

const char* channel_name(Channel c) { return c == Channel::kSms ? "sms" : "email"; }

bool is_e164(std::string_view p) {
  if (p.size() < 9 || p.size() > 16 || p[0] != '+' || p[1] == '0') return false;
  for (size_t i = 1; i < p.size(); ++i) {
    if (!is_digit(p[i])) return false;
  }
  return true;
}

bool is_email_address(std::string_view a) {
  if (a.size() > 254) return false;
  size_t at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  std::string_view local = a.substr(0, at);
  std::string_view domain = a.substr(at + 1);
  // Local part: dot-atom.
  if (local.front() == '.' || local.back() == '.') return false;
  for (size_t i = 0; i < local.size(); ++i) {
    if (local[i] == '.') {
      if (local[i + 1] == '.') return false;
    } else if (!is_atext(local[i])) {
      return false;
    }
  }
  // Domain: labels of letters, digits and hyphens, at least two of them.
  if (domain.empty() || domain.size() > 253) return false;
  int labels = 0;
  size_t start = 0;
  for (;;) {
    size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!is_alnum(c) && c != '-') return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

Status validate(const Message& m) {
  std::vector<Problem> problems;
  auto add = [&](const char* path, std::string msg) {
    problems.push_back({path, std::move(msg), "value"});
  };
  if (m.channel == Channel::kSms) {
    // The number itself is not echoed: it is personal data and errors get logged.
    if (!is_e164(m.recipient)) add("recipient", "is not an E.164 phone number (+ and 8-15 digits)");
    if (!m.subject.empty()) add("subject", "an SMS has no subject");
    if (m.text.size() > kMaxSmsText) {
      add("text", "is longer than " + std::to_string(kMaxSmsText) + " bytes");
    }
  } else {
    if (!is_email_address(m.recipient)) add("recipient", "is not an e-mail address");
    if (m.subject.empty()) add("subject", "an e-mail needs a subject");
    if (m.subject.size() > kMaxSubject) {
      add("subject", "is longer than " + std::to_string(kMaxSubject) + " bytes");
    }
    // A line break in a header would let the text write headers of its own.
    if (has_control(m.subject, false) || !is_valid_utf8(m.subject)) {
      add("subject", "must be one line of UTF-8 text");
    }
    if (m.text.size() > kMaxEmailText) {
      add("text", "is longer than " + std::to_string(kMaxEmailText) + " bytes");
    }
  }
  if (m.text.empty()) add("text", "is empty");
  if (!is_valid_utf8(m.text) || has_control(m.text, true)) {
    add("text", "must be UTF-8 text without control characters other than line breaks");
  }
  if (m.dedupe_key.size() > 200) add("dedupe_key", "is longer than 200 bytes");
  if (problems.empty()) return Status::ok();
  return Status(Code::kInvalid, "the notification is not valid", std::move(problems));
}

}  // namespace hb::notify
