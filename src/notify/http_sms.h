// HttpSmsGateway: sends SMS through an operator's HTTP gateway with one POST per message.
//
// Gateways differ in everything, so the request is configured: the URL, one header for
// authentication ("Authorization: Bearer ..." or "X-Api-Key: ..."), and a body template in which
// {to}, {text} and {id} are replaced by the number, the text and the outbox id, JSON-escaped
// (application/json: the template supplies the quotes) or percent-encoded
// (application/x-www-form-urlencoded). Any 2xx answer means accepted. 400, 413 and 422 mean the
// message itself is refused (kInvalid: not retried); anything else, and network errors and
// timeouts, are temporary (kUnavailable). The answer's body is read and dropped: gateways echo
// numbers, and errors must not carry them.
//
// Thread-safety: send() is safe from any thread, and sends run at once: each takes a curl handle of
// its own from a pool (guarded by mu_), whose connection stays open for the next send. The outbox
// sends through the gateway on up to policy.concurrency threads (sms.concurrency), so at most that
// many connections are kept.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "notify/curl_util.h"
#include "notify/message.h"

namespace hb::notify {

struct HttpSmsOptions {
  std::string url;                                // http:// or https://
  std::string auth_header;                        // "Name: value", sent as is; "" = none
  std::string body_template;                      // "" = the default for content_type (see below)
  std::string content_type = "application/json";  // or application/x-www-form-urlencoded
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds timeout{10000};  // the whole request
  // How the outbox retries (sms.retry_hours) and how many it sends at once (sms.concurrency).
  DeliveryPolicy policy{std::chrono::hours(24), 8};
};

// The default templates.
inline constexpr const char* kJsonSmsTemplate = R"({"to":"{to}","text":"{text}"})";
inline constexpr const char* kFormSmsTemplate = "to={to}&text={text}";

class HttpSmsGateway final : public Transport {
 public:
  // kInvalid naming what is wrong with the options.
  static Result<std::unique_ptr<HttpSmsGateway>> create(HttpSmsOptions options);

  Status send(const Outgoing& m) override;
  DeliveryPolicy policy() const override { return options_.policy; }

  // The request body for `m`.
  std::string render_body(const Outgoing& m) const;

 private:
  explicit HttpSmsGateway(HttpSmsOptions options) : options_(std::move(options)) {}

  // One POST on `c`, a handle of this send's own.
  Status post(CURL* c, const std::string& body) const;

  const HttpSmsOptions options_;
  bool json_ = true;
  std::mutex mu_;
  // Handles between sends, each with its connection left open; at most policy.concurrency.
  std::vector<detail::CurlPtr> idle_;  // guarded by mu_
};

// Helpers, public for tests.
std::string json_escape(std::string_view s);     // the inside of a JSON string, without quotes
std::string percent_encode(std::string_view s);  // RFC 3986 unreserved characters kept

}  // namespace hb::notify
