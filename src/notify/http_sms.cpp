#include "notify/http_sms.h"

#include <nlohmann/json.hpp>

namespace hb::notify {
namespace {

constexpr size_t kMaxAnswer = 64 * 1024;

size_t drop_body(char*, size_t size, size_t n, void* user) {
  auto* seen = static_cast<size_t*>(user);
  *seen += size * n;
  return *seen > kMaxAnswer ? 0 : size * n;  // a gateway that talks on and on is cut off
}

}  // namespace

std::string json_escape(std::string_view s) {
  // nlohmann's serialiser escapes exactly what JSON needs; drop its quotes.
  std::string quoted =
      nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

std::string percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

Result<std::unique_ptr<HttpSmsGateway>> HttpSmsGateway::create(HttpSmsOptions o) {
  if (o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0) {
    return invalid("sms.url must start with http:// or https://");
  }
  bool json = true;
  if (o.content_type == "application/json") {
    json = true;
  } else if (o.content_type == "application/x-www-form-urlencoded") {
    json = false;
  } else {
    return invalid(
        "sms.content_type must be application/json or "
        "application/x-www-form-urlencoded");
  }
  if (o.body_template.empty()) o.body_template = json ? kJsonSmsTemplate : kFormSmsTemplate;
  if (o.body_template.find("{to}") == std::string::npos ||
      o.body_template.find("{text}") == std::string::npos) {
    return invalid("sms.body_template must contain {to} and {text}");
  }
  if (!o.auth_header.empty()) {
    size_t colon = o.auth_header.find(':');
    if (colon == std::string::npos || colon == 0 ||
        o.auth_header.find_first_of("\r\n") != std::string::npos) {
      return invalid("sms.auth_header must be one \"Name: value\" line");
    }
  }
  if (o.connect_timeout.count() <= 0 || o.timeout.count() <= 0) {
    return invalid("sms timeouts must be positive");
  }
  if (o.policy.concurrency < 1 || o.policy.concurrency > 64) {
    return invalid("sms.concurrency must be between 1 and 64");
  }
  if (!detail::curl_ready()) return internal("libcurl failed to initialise");
  auto g = std::unique_ptr<HttpSmsGateway>(new HttpSmsGateway(std::move(o)));
  g->json_ = json;
  return g;
}

std::string HttpSmsGateway::render_body(const Outgoing& m) const {
  auto enc = [&](std::string_view v) { return json_ ? json_escape(v) : percent_encode(v); };
  // One pass over the template, so a text that contains "{to}" is not expanded again.
  const std::string& t = options_.body_template;
  std::string out;
  size_t i = 0;
  while (i < t.size()) {
    if (t.compare(i, 4, "{to}") == 0) {
      out += enc(m.to);
      i += 4;
    } else if (t.compare(i, 6, "{text}") == 0) {
      out += enc(m.text);
      i += 6;
    } else if (t.compare(i, 4, "{id}") == 0) {
      out += std::to_string(m.id);
      i += 4;
    } else {
      out.push_back(t[i++]);
    }
  }
  return out;
}

Status HttpSmsGateway::send(const Outgoing& m) {
  const std::string body = render_body(m);
  detail::CurlPtr handle;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!idle_.empty()) {
      handle = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!handle) handle.reset(curl_easy_init());
  if (!handle) return internal("curl_easy_init failed");
  Status s = post(handle.get(), body);
  std::lock_guard<std::mutex> l(mu_);
  if (idle_.size() < static_cast<size_t>(options_.policy.concurrency)) {
    idle_.push_back(std::move(handle));
  }
  return s;
}

Status HttpSmsGateway::post(CURL* c, const std::string& body) const {
  curl_easy_reset(c);  // keeps the connection cache, drops the last request's options
  detail::SlistPtr headers;
  if (!detail::slist_append(headers, "Content-Type: " + options_.content_type) ||
      !detail::slist_append(headers, "Accept: */*") ||
      (!options_.auth_header.empty() && !detail::slist_append(headers, options_.auth_header))) {
    return internal("out of memory building the SMS request");
  }
  size_t answered = 0;
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "healthbook-notify");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answered);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  // Only the library's fixed text: the error buffer could quote what was sent.
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status != 0)) {
    return Status(Code::kUnavailable, std::string("SMS gateway: ") + curl_easy_strerror(rc));
  }
  if (status >= 200 && status < 300) return Status::ok();
  std::string what = "SMS gateway answered HTTP " + std::to_string(status);
  if (status == 400 || status == 413 || status == 422) return invalid(what);
  return Status(Code::kUnavailable, what);
}

}  // namespace hb::notify
