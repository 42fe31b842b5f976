// The vault: per-owner data keys (a patient, or a facility for non-patient resources), sealing and
// opening of resource bodies, and blind indexes for identifiers.
//
// Data keys are created inside write transactions and wrapped by the master key before they are
// stored. Unwrapped keys are cached in memory, but only keys read from committed data: a key
// created in a write that later rolls back must never be used again.
//
// Thread-safety: safe from any thread.
#pragma once

#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/status.h"
#include "crypto/aead.h"
#include "crypto/envelope.h"
#include "store/store.h"

namespace hb::services {

class Vault {
 public:
  explicit Vault(crypto::MasterKey master, std::size_t cache_entries = 100000);

  // The owner of a resource's data key: the patient id, or "facility:<id>" when the resource is in
  // no patient compartment.
  static std::string owner_for(const std::string& patient_id, const std::string& facility_id) {
    return patient_id.empty() ? "facility:" + facility_id : patient_id;
  }

  // Inside a write: the owner's key, created and stored if it has none yet.
  Result<crypto::Aead256> key_for_write(store::Writer& w, const std::string& owner);
  // On a committed read: the owner's key (kInternal if it has none: the data would be unreadable).
  Result<crypto::Aead256> key_for_read(store::Reader& r, const std::string& owner);

  static std::string aad(const store::ResourceRow& row);
  std::string blind(std::string_view domain, std::string_view value) const {
    return master_.blind_index(domain, value);
  }

 private:
  std::optional<std::string> cached(const std::string& owner);
  void remember(const std::string& owner, const std::string& key);

  crypto::MasterKey master_;
  std::size_t capacity_;
  std::mutex mu_;
  std::list<std::pair<std::string, std::string>> lru_;  // guarded by mu_
  std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator>
      index_;  // guarded by mu_
};

}  // namespace hb::services
