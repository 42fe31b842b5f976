// The resident's sharing routes (docs/sharing.md): thin handlers over services::ShareService and
// services::AccessLogService.
//
//   GET    /api/v1/me/shares             the resident's shares and their accesses
//   POST   /api/v1/me/shares             make a share (201; the only answer with the link)
//   DELETE /api/v1/me/shares/<id>        revoke it
//   GET    /api/v1/me/access-log         who opened the resident's records, newest first
//   GET    /api/v1/me/notifications      access alerts chosen
//   PUT    /api/v1/me/notifications      choose them
//   POST   /shl/s/<token>                a share's SMART Health Link manifest, for any viewer
//
// /api/v1/me routes need a full resident session (the hb_session cookie, both factors); those that
// change state need the CSRF header (http/account_api.h). The manifest needs no account.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "http/server.h"
#include "services/access_log.h"
#include "services/accounts.h"
#include "services/proxies.h"
#include "services/shares.h"

namespace hb::http {

// `parts`: the path split at '/', starting {"api", "v1", "me", ...}.
Response share_api(services::AccountService& accounts, services::ProxyService* proxies,
                   services::ShareService& shares, services::AccessLogService& access_log,
                   const Config& config, const Request& req, const std::vector<std::string>& parts);

// POST /shl/s/<token>; `parts` starts {"shl", "s", ...}.
Response share_manifest_api(services::ShareService& shares, const Request& req,
                            const std::vector<std::string>& parts);

}  // namespace hb::http
