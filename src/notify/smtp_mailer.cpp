#include "notify/smtp_mailer.h"

#include <cstring>
#include <ctime>

#include "core/ids.h"
#include "crypto/encoding.h"
#include "notify/curl_util.h"

namespace hb::notify {
namespace {

bool is_plain_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// A header value: as is when ASCII, else an RFC 2047 encoded-word per chunk of whole characters
// (each encoded-word at most 75 bytes: 45 bytes of UTF-8 give 60 of base64).
std::string encode_header(std::string_view v) {
  if (is_plain_ascii(v)) return std::string(v);
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    size_t end = std::min(v.size(), i + 45);
    // Do not split a character: back up over continuation bytes.
    while (end < v.size() && end > i && (static_cast<unsigned char>(v[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + crypto::base64_encode(v.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

// Text with every line break as CRLF.
std::string crlf_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') continue;  // validate() refuses lone CRs; a CRLF becomes one LF
    if (text[i] == '\n')
      out += "\r\n";
    else
      out.push_back(text[i]);
  }
  return out;
}

bool short_lines(std::string_view crlf_text) {
  size_t line = 0;
  for (char c : crlf_text) {
    line = c == '\n' ? 0 : line + 1;
    if (line > 998) return false;
  }
  return true;
}

struct Reader {
  const std::string* data;
  size_t at = 0;
};

size_t read_message(char* buf, size_t size, size_t n, void* user) {
  auto* r = static_cast<Reader*>(user);
  size_t len = std::min(size * n, r->data->size() - r->at);
  std::memcpy(buf, r->data->data() + r->at, len);
  r->at += len;
  return len;
}

std::string domain_of(const std::string& address) {
  size_t at = address.rfind('@');
  return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

}  // namespace

std::string rfc5322_date(Time t) {
  std::time_t secs = static_cast<std::time_t>(unix_seconds(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char out[64];
  std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return out;
}

Result<std::unique_ptr<SmtpMailer>> SmtpMailer::create(SmtpOptions o, const Clock& clock) {
  if (o.url.rfind("smtp://", 0) != 0 && o.url.rfind("smtps://", 0) != 0) {
    return invalid("email.url must start with smtp:// or smtps://");
  }
  if (!is_email_address(o.from)) return invalid("email.from must be an e-mail address");
  if (o.user.empty() && !o.password.empty()) return invalid("email.password needs email.user");
  if (o.connect_timeout.count() <= 0 || o.timeout.count() <= 0) {
    return invalid("email timeouts must be positive");
  }
  if (!detail::curl_ready()) return internal("libcurl failed to initialise");
  return std::unique_ptr<SmtpMailer>(new SmtpMailer(std::move(o), clock));
}

std::string SmtpMailer::render(const Outgoing& m, const std::string& message_id) const {
  const std::string body = crlf_lines(m.text);
  const bool seven_bit = is_plain_ascii(body) && short_lines(body);
  std::string out;
  out += "Date: " + rfc5322_date(clock_.now()) + "\r\n";
  out += "From: <" + options_.from + ">\r\n";
  out += "To: <" + m.to + ">\r\n";
  out += "Message-ID: <" + message_id + ">\r\n";
  out += "Subject: " + encode_header(m.subject) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += std::string("Content-Transfer-Encoding: ") + (seven_bit ? "7bit" : "base64") + "\r\n";
  out += "Auto-Submitted: auto-generated\r\n";  // RFC 3834: no auto-replies, please
  out += "\r\n";
  if (seven_bit) {
    out += body;
    if (body.size() < 2 || body.compare(body.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  } else {
    std::string b64 = crypto::base64_encode(m.text);
    for (size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
  }
  return out;
}

Status SmtpMailer::send(const Outgoing& m) {
  // Checked again here: the address goes into the envelope and a header.
  if (!is_email_address(m.to)) return invalid("not an e-mail address");
  const std::string message = render(m, new_uuid() + "@" + domain_of(options_.from));
  detail::CurlPtr curl(curl_easy_init());
  if (!curl) return internal("curl_easy_init failed");
  CURL* c = curl.get();
  detail::SlistPtr rcpt;
  if (!detail::slist_append(rcpt, "<" + m.to + ">")) return internal("out of memory");
  const std::string from = "<" + options_.from + ">";
  Reader reader{&message};
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  if (!options_.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
    curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  } else {
    curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt(c, CURLOPT_READDATA, &reader);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return Status::ok();
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  std::string what = std::string("SMTP: ") + curl_easy_strerror(rc);
  if (reply != 0) what += " (server replied " + std::to_string(reply) + ")";
  if (reply >= 550 && reply <= 553) return invalid(what);
  return Status(Code::kUnavailable, what);
}

}  // namespace hb::notify
