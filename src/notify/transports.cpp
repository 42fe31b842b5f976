#include "notify/transports.h"

#include <filesystem>

#include "notify/http_sms.h"
#include "notify/smtp_mailer.h"

namespace hb::notify {

Result<Transports> make_transports(const Config& c, const Clock& clock) {
  Transports t;
  const std::filesystem::path data(c.data_dir);
  DeliveryPolicy sms_policy;
  sms_policy.give_up_after = std::chrono::hours(c.sms_retry_hours);
  sms_policy.concurrency = c.sms_concurrency;
  if (c.sms_transport == "http") {
    HttpSmsOptions o;
    o.url = c.sms_url;
    o.auth_header = c.sms_auth_header;
    o.body_template = c.sms_body_template;
    o.content_type = c.sms_content_type;
    o.policy = sms_policy;
    HB_ASSIGN_OR_RETURN(t.sms, HttpSmsGateway::create(std::move(o)));
  } else if (c.sms_transport == "sink") {
    HB_ASSIGN_OR_RETURN(
        auto sink,
        LocalSink::create({(data / "notify-sms.jsonl").string(), 100, sms_policy}, clock));
    t.sms_sink = sink.get();
    t.sms = std::move(sink);
  } else {
    return invalid("sms.transport must be sink or http");
  }
  if (c.email_transport == "smtp") {
    SmtpOptions o;
    o.url = c.email_url;
    o.from = c.email_from;
    o.user = c.email_user;
    o.password = c.email_password;
    HB_ASSIGN_OR_RETURN(t.email, SmtpMailer::create(std::move(o), clock));
  } else if (c.email_transport == "sink") {
    HB_ASSIGN_OR_RETURN(auto sink,
                        LocalSink::create({(data / "notify-email.jsonl").string(), 100}, clock));
    t.email_sink = sink.get();
    t.email = std::move(sink);
  } else {
    return invalid("email.transport must be sink or smtp");
  }
  return t;
}

}  // namespace hb::notify
