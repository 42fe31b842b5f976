#include "cli/demo.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/ids.h"
#include "crypto/keys.h"
#include "services/facilities.h"
#include "services/records.h"
#include "services/vault.h"

namespace fs = std::filesystem;

namespace hb::cli {
namespace {

struct DemoFacility {
  const char* code;
  const char* name;
  const char* kind;
};

constexpr DemoFacility kFacilities[] = {
    {"01001", "Bach Mai Hospital", "public-hospital"},
    {"79002", "Saigon International Hospital", "private-hospital"},
    {"01015", "Hoan Kiem District Health Centre", "health-centre"},
};

// Types in the order their references need them.
constexpr const char* kLoadOrder[] = {"Organization", "Location", "Practitioner", "PractitionerRole",
                                      "Patient", "Encounter", "Condition", "AllergyIntolerance",
                                      "Immunization", "MedicationRequest", "Procedure",
                                      "DocumentReference"};

Result<std::vector<Json>> read_ndjson(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return not_found("cannot read " + file.string());
  std::vector<Json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    HB_ASSIGN_OR_RETURN(auto j, parse_json(line));
    out.push_back(std::move(j));
  }
  return out;
}

// A transaction of PUTs that keeps the sample's own ids.
std::string put_bundle(const std::vector<Json>& resources, size_t from, size_t to) {
  Json entries = Json::array();
  for (size_t i = from; i < to; ++i) {
    const Json& r = resources[i];
    std::string url = r["resourceType"].get<std::string>() + "/" + r["id"].get<std::string>();
    entries.push_back({{"resource", r}, {"request", {{"method", "PUT"}, {"url", url}}}});
  }
  return dump_json(Json{{"resourceType", "Bundle"}, {"type", "transaction"}, {"entry", entries}});
}

}  // namespace

Result<DemoSummary> load_demo(const Config& config, store::Store& store, const crypto::MasterKey& master,
                              const std::string& data_dir, const std::string& synthea_dir) {
  if (!fs::exists(fs::path(synthea_dir) / "Patient.000.ndjson")) {
    return not_found("no Synthea sample at " + synthea_dir + " (expected Patient.000.ndjson there)");
  }
  DemoSummary summary;
  SystemClock& clock = SystemClock::instance();
  services::FacilityService facilities(store, clock, config.facility_code_pattern);
  fs::create_directories(fs::path(data_dir) / "demo");
  std::map<std::string, services::Principal> principals;
  for (const auto& f : kFacilities) {
    HB_ASSIGN_OR_RETURN(auto fac, facilities.add({f.code, f.name, f.kind, ""}));
    ++summary.facilities;
    HB_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::generate(crypto::KeyType::kEcP384));
    Json pub = key.public_key().to_jwk();
    std::string kid = key.public_key().thumbprint();
    pub["kid"] = kid;
    pub["alg"] = "ES384";
    Json jwks = {{"keys", Json::array({pub})}};
    HB_ASSIGN_OR_RETURN(auto client, facilities.add_client({f.code, std::string(f.name) + " HIS", dump_json(jwks), "", "system/*.cruds"}));
    ++summary.clients;
    Json priv = key.to_private_jwk();
    priv["kid"] = kid;
    priv["alg"] = "ES384";
    Json file = {{"facility", f.code}, {"client_id", client.client_id}, {"token_url", config.token_url()},
                 {"private_jwk", priv}};
    fs::path out = fs::path(data_dir) / "demo" / (std::string(f.code) + "-client.json");
    std::ofstream(out) << file.dump(2) << "\n";
    fs::permissions(out, fs::perms::owner_read | fs::perms::owner_write);
    services::Principal p;
    p.kind = services::Principal::Kind::kFacilityClient;
    p.client_id = client.client_id;
    p.facility_id = fac.id;
    p.facility_code = fac.code;
    p.scopes = *services::Scopes::parse("system/*.cruds");
    p.remote_address = "demo";
    principals[f.code] = p;
  }
  summary.client_files = (fs::path(data_dir) / "demo").string();

  services::Vault vault(master);
  services::RecordsOptions ro;
  ro.base_url = config.base_url();
  ro.national_id_systems = config.national_id_systems;
  ro.insurance_systems = config.insurance_systems;
  ro.json_limits = {config.body_bytes, config.json_depth};
  ro.name_order = fhir::parse_name_order(config.name_order).value_or(fhir::NameOrder::kFamilyFirst);
  services::RecordService records(store, vault, clock, ro);

  const auto& hospital = principals["01001"];
  std::vector<Json> patients;
  for (const char* type : kLoadOrder) {
    fs::path file = fs::path(synthea_dir) / (std::string(type) + ".000.ndjson");
    if (!fs::exists(file)) continue;
    HB_ASSIGN_OR_RETURN(auto resources, read_ndjson(file));
    if (std::string(type) == "Patient") patients = resources;
    for (size_t from = 0; from < resources.size(); from += 200) {
      size_t to = std::min(resources.size(), from + 200);
      auto r = records.bundle(hospital, put_bundle(resources, from, to));
      if (!r) return Status(r.error().code(), std::string("loading ") + type + ": " + r.error().to_string());
      summary.resources += static_cast<int>(to - from);
    }
  }

  // The private hospital registers three of the same people (matched by national id, not
  // duplicated) and records a visit for each.
  const auto& clinic = principals["79002"];
  for (size_t i = 0; i < patients.size() && i < 3; ++i) {
    Json p = patients[i];
    p.erase("id");
    p.erase("meta");
    p.erase("text");
    p["identifier"].push_back({{"system", "urn:healthbook:79002:mrn"}, {"value", "SIH-" + std::to_string(1000 + i)}});
    auto created = records.create(clinic, "Patient", dump_json(p), std::nullopt);
    if (!created) return Status(created.error().code(), "registering a patient at 79002: " + created.error().to_string());
    std::string pid = patients[i]["id"];
    Json enc = {{"resourceType", "Encounter"},
                {"status", "finished"},
                {"class", {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "AMB"}}},
                {"subject", {{"reference", "Patient/" + pid}}},
                {"period", {{"start", "2026-11-02T09:00:00+07:00"}, {"end", "2026-11-02T09:40:00+07:00"}}}};
    auto e = records.create(clinic, "Encounter", dump_json(enc), std::nullopt);
    if (!e) return Status(e.error().code(), "recording a visit at 79002: " + e.error().to_string());
    summary.resources += 1;
  }
  return summary;
}

}  // namespace hb::cli
