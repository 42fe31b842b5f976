#include "services/vault.h"

namespace hb::services {

Vault::Vault(crypto::MasterKey master, std::size_t cache_entries)
    : master_(std::move(master)), capacity_(cache_entries) {}

std::string Vault::aad(const store::ResourceRow& row) {
  return row.type + "/" + row.id + "/" + std::to_string(row.version);
}

std::optional<std::string> Vault::cached(const std::string& owner) {
  std::lock_guard lock(mu_);
  auto it = index_.find(owner);
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void Vault::remember(const std::string& owner, const std::string& key) {
  std::lock_guard lock(mu_);
  if (index_.count(owner)) return;
  lru_.emplace_front(owner, key);
  index_[owner] = lru_.begin();
  if (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

Result<crypto::Aead256> Vault::key_for_write(store::Writer& w, const std::string& owner) {
  if (auto k = cached(owner)) return crypto::Aead256::create(*k);
  HB_ASSIGN_OR_RETURN(auto wrapped, w.patient_key(owner));
  if (wrapped) {
    HB_ASSIGN_OR_RETURN(auto key, master_.unwrap(*wrapped, owner));
    return crypto::Aead256::create(key);
  }
  std::string key = master_.new_data_key();
  HB_RETURN_IF_ERROR(w.put_patient_key(owner, master_.wrap(key, owner)));
  return crypto::Aead256::create(key);
}

Result<crypto::Aead256> Vault::key_for_read(store::Reader& r, const std::string& owner) {
  if (auto k = cached(owner)) return crypto::Aead256::create(*k);
  HB_ASSIGN_OR_RETURN(auto wrapped, r.patient_key(owner));
  if (!wrapped) return internal("no data key for a stored resource");
  auto key = master_.unwrap(*wrapped, owner);
  if (!key) return internal("data key does not unwrap: wrong master key?");
  remember(owner, *key);
  return crypto::Aead256::create(*key);
}

}  // namespace hb::services
