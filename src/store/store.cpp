// The members of Reader and Writer that an engine may leave out (store.h says which): they refuse
// with kUnavailable, so a caller falls back to a path that does not need them.
#include "store/store.h"

namespace hb::store {
namespace {

Status unsupported(const char* what) {
  return Status(Code::kUnavailable, std::string("this store does not keep ") + what);
}

}  // namespace

Result<std::vector<AuditRecord>> Reader::audit_newest(const std::string&, int64_t, int) {
  return unsupported("a patient's audit events newest first");
}
Result<std::optional<Share>> Reader::share(const std::string&) { return unsupported("shares"); }
Result<std::optional<Share>> Reader::share_by_token(const std::string&) {
  return unsupported("shares");
}
Result<std::vector<Share>> Reader::shares_of(const std::string&, int) {
  return unsupported("shares");
}
Result<std::vector<ShareAccess>> Reader::share_accesses(const std::string&, int) {
  return unsupported("share accesses");
}
Result<std::optional<AccessAlerts>> Reader::access_alerts(const std::string&) {
  return unsupported("access alerts");
}
Result<std::optional<Time>> Reader::access_alert_sent(const std::string&, const std::string&) {
  return unsupported("access alerts");
}
Result<int64_t> Reader::access_alert_cursor() { return unsupported("access alerts"); }

Result<std::optional<ProxyGrant>> Reader::proxy_grant(const std::string&) {
  return unsupported("proxies");
}
Result<std::vector<ProxyGrant>> Reader::proxy_grants_of(const std::string&, int) {
  return unsupported("proxies");
}
Result<std::vector<ProxyGrant>> Reader::proxy_grants_held(const std::string&, int) {
  return unsupported("proxies");
}

Status Writer::put_share(const Share&) { return unsupported("shares"); }
Status Writer::add_share_access(const ShareAccess&) { return unsupported("share accesses"); }
Status Writer::put_access_alerts(const AccessAlerts&) { return unsupported("access alerts"); }
Status Writer::put_access_alert_sent(const std::string&, const std::string&, Time) {
  return unsupported("access alerts");
}
Status Writer::set_access_alert_cursor(int64_t) { return unsupported("access alerts"); }
Status Writer::put_proxy_grant(const ProxyGrant&) { return unsupported("proxies"); }

}  // namespace hb::store
