#include "services/principal.h"

#include <algorithm>
#include <map>

namespace hb::services {
namespace {

constexpr std::string_view kOrder = "cruds";

std::string normalise_perms(std::string_view p) {
  std::string out;
  for (char c : kOrder) {
    if (p.find(c) != std::string_view::npos) out.push_back(c);
  }
  return out;
}

bool valid_type_name(std::string_view t) {
  if (t == "*") return true;
  if (t.empty() || !(t[0] >= 'A' && t[0] <= 'Z')) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

}  // namespace

Result<Scopes> Scopes::parse(std::string_view text) {
  Scopes s;
  std::map<std::string, std::string> merged;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j == i) break;
    std::string_view scope = text.substr(i, j - i);
    i = j;
    if (scope.rfind("system/", 0) != 0) continue;  // not a system resource scope: grants nothing
    std::string_view rest = scope.substr(7);
    auto dot = rest.find('.');
    if (dot == std::string_view::npos) return invalid("malformed scope \"" + std::string(scope) + "\"");
    std::string_view type = rest.substr(0, dot);
    std::string_view perm = rest.substr(dot + 1);
    // SMART v2 allows "?param=value" restrictions; we do not support them, so refuse clearly.
    if (perm.find('?') != std::string_view::npos) {
      return invalid("scope restrictions (\"?\") are not supported: \"" + std::string(scope) + "\"");
    }
    if (!valid_type_name(type)) return invalid("malformed scope \"" + std::string(scope) + "\"");
    std::string p;
    if (perm == "read") {
      p = "rs";
    } else if (perm == "write") {
      p = "cud";
    } else if (perm == "*") {
      p = "cruds";
    } else {
      if (perm.empty()) return invalid("malformed scope \"" + std::string(scope) + "\"");
      // v2 permissions must appear in c, r, u, d, s order, each at most once.
      size_t pos = 0;
      for (char c : perm) {
        auto at = kOrder.find(c, pos);
        if (at == std::string_view::npos) return invalid("malformed scope \"" + std::string(scope) + "\"");
        pos = at + 1;
      }
      p = std::string(perm);
    }
    merged[std::string(type)] = normalise_perms(merged[std::string(type)] + p);
  }
  for (auto& [t, p] : merged) s.grants_.push_back({t, p});
  return s;
}

bool Scopes::allows(std::string_view type, char permission) const {
  for (const auto& g : grants_) {
    if ((g.type == "*" || g.type == type) && g.permissions.find(permission) != std::string::npos) {
      return true;
    }
  }
  return false;
}

Scopes Scopes::intersect(const Scopes& other) const {
  Scopes out;
  std::map<std::string, std::string> merged;
  for (const auto& a : grants_) {
    for (const auto& b : other.grants_) {
      std::string type;
      if (a.type == b.type) type = a.type;
      else if (a.type == "*") type = b.type;
      else if (b.type == "*") type = a.type;
      else continue;
      std::string p;
      for (char c : a.permissions) {
        if (b.permissions.find(c) != std::string::npos) p.push_back(c);
      }
      if (!p.empty()) merged[type] = normalise_perms(merged[type] + p);
    }
  }
  for (auto& [t, p] : merged) out.grants_.push_back({t, p});
  return out;
}

std::string Scopes::to_string() const {
  std::string s;
  for (const auto& g : grants_) {
    if (!s.empty()) s.push_back(' ');
    s += "system/" + g.type + "." + g.permissions;
  }
  return s;
}

Principal Principal::operator_principal() {
  Principal p;
  p.kind = Kind::kOperator;
  p.client_id = "operator";
  return p;
}

}  // namespace hb::services

namespace hb::services {

bool Resident::may(ResidentRight right) const {
  if (!proxy) return true;
  if (proxy->kind == "guardian") return true;
  switch (right) {
    case ResidentRight::kViewRecords:
      return proxy->view_records;
    case ResidentRight::kManageShares:
      return proxy->manage_shares;
    case ResidentRight::kPersonal:
      return false;  // a carer never changes the person's consent or settings
  }
  return false;
}

Status require_right(const Resident& who, ResidentRight right) {
  if (who.may(right)) return Status::ok();
  switch (right) {
    case ResidentRight::kViewRecords:
      return forbidden("you may not view this person's records");
    case ResidentRight::kManageShares:
      return forbidden("you may not manage this person's shares");
    case ResidentRight::kPersonal:
      return forbidden("only the person or their guardian may do this");
  }
  return forbidden("not allowed");
}

}  // namespace hb::services
