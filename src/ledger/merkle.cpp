#include "ledger/merkle.h"

#include <algorithm>
#include <bit>

#include "crypto/hash.h"

namespace hb::ledger {
namespace {

// The largest power of two strictly below n (n >= 2): the split point k of RFC 9162 2.1.1.
uint64_t split_point(uint64_t n) { return std::bit_floor(n - 1); }

Status proof_mismatch(std::string what) { return {Code::kUnauthorized, std::move(what)}; }

Status check_hash(std::string_view h, const char* what) {
  if (h.size() != kHashSize) {
    return invalid(std::string(what) + " must be " + std::to_string(kHashSize) + " bytes, got " +
                   std::to_string(h.size()));
  }
  return Status::ok();
}

Status check_proof_hashes(const std::vector<Hash>& proof) {
  for (std::size_t i = 0; i < proof.size(); ++i) {
    if (proof[i].size() != kHashSize) {
      return invalid("proof hash " + std::to_string(i) + " is " + std::to_string(proof[i].size()) +
                     " bytes, not 32");
    }
  }
  return Status::ok();
}

}  // namespace

Hash leaf_hash(std::string_view entry) {
  std::string buf;
  buf.reserve(entry.size() + 1);
  buf.push_back('\x00');
  buf.append(entry);
  return crypto::sha256(buf);
}

Hash node_hash(std::string_view left, std::string_view right) {
  std::string buf;
  buf.reserve(1 + left.size() + right.size());
  buf.push_back('\x01');
  buf.append(left);
  buf.append(right);
  return crypto::sha256(buf);
}

Hash empty_root() { return crypto::sha256(""); }

Hash root_from_leaf_hashes(const std::vector<Hash>& leaf_hashes) {
  if (leaf_hashes.empty()) return empty_root();
  // Pairwise reduction: an odd node at the end of a level is carried up unchanged, which gives
  // exactly the left-balanced shape of RFC 9162 (the right subtree is the smaller one).
  std::vector<Hash> level = leaf_hashes;
  while (level.size() > 1) {
    std::vector<Hash> up;
    up.reserve((level.size() + 1) / 2);
    for (std::size_t i = 0; i + 1 < level.size(); i += 2)
      up.push_back(node_hash(level[i], level[i + 1]));
    if (level.size() % 2 == 1) up.push_back(std::move(level.back()));
    level = std::move(up);
  }
  return level[0];
}

Result<Hash> range_hash(uint64_t begin, uint64_t end, const NodeSource& nodes) {
  if (begin >= end) return invalid("empty range has no subtree hash");
  uint64_t n = end - begin;
  if (std::has_single_bit(n)) {
    if (begin % n != 0) return invalid("range is not aligned to a subtree");
    return nodes(std::countr_zero(n), begin / n);
  }
  uint64_t k = split_point(n);
  if (begin % k != 0) return invalid("range is not aligned to a subtree");
  HB_ASSIGN_OR_RETURN(Hash left, nodes(std::countr_zero(k), begin / k));
  HB_ASSIGN_OR_RETURN(Hash right, range_hash(begin + k, end, nodes));
  return node_hash(left, right);
}

Result<Hash> tree_root(uint64_t size, const NodeSource& nodes) {
  if (size == 0) return empty_root();
  return range_hash(0, size, nodes);
}

Result<std::vector<Hash>> inclusion_proof(uint64_t index, uint64_t size, const NodeSource& nodes) {
  if (index >= size) {
    return invalid("index " + std::to_string(index) + " is not below tree size " +
                   std::to_string(size));
  }
  // Walk down from the root, collecting the sibling of each subtree that holds the leaf.
  std::vector<Hash> top_down;
  uint64_t a = 0, b = size, m = index;
  while (b - a > 1) {
    uint64_t k = split_point(b - a);
    if (m < k) {
      HB_ASSIGN_OR_RETURN(Hash h, range_hash(a + k, b, nodes));
      top_down.push_back(std::move(h));
      b = a + k;
    } else {
      HB_ASSIGN_OR_RETURN(Hash h, range_hash(a, a + k, nodes));
      top_down.push_back(std::move(h));
      a += k;
      m -= k;
    }
  }
  std::reverse(top_down.begin(), top_down.end());
  return top_down;
}

Result<std::vector<Hash>> consistency_proof(uint64_t size1, uint64_t size2,
                                            const NodeSource& nodes) {
  if (size1 > size2) {
    return invalid("old size " + std::to_string(size1) + " is above new size " +
                   std::to_string(size2));
  }
  std::vector<Hash> top_down;
  if (size1 == 0 || size1 == size2) return top_down;
  // SUBPROOF(m, D[a:b], complete) unrolled: each step records the subtree it does not descend into.
  uint64_t a = 0, b = size2, m = size1;
  bool complete = true;  // the old tree is still a whole subtree of the one we are in
  while (true) {
    uint64_t n = b - a;
    if (m == n) {
      if (!complete) {
        HB_ASSIGN_OR_RETURN(Hash h, range_hash(a, b, nodes));
        top_down.push_back(std::move(h));
      }
      break;
    }
    uint64_t k = split_point(n);
    if (m <= k) {
      HB_ASSIGN_OR_RETURN(Hash h, range_hash(a + k, b, nodes));
      top_down.push_back(std::move(h));
      b = a + k;
    } else {
      HB_ASSIGN_OR_RETURN(Hash h, range_hash(a, a + k, nodes));
      top_down.push_back(std::move(h));
      a += k;
      m -= k;
      complete = false;
    }
  }
  std::reverse(top_down.begin(), top_down.end());
  return top_down;
}

Status verify_inclusion(uint64_t index, uint64_t size, std::string_view leaf,
                        const std::vector<Hash>& proof, std::string_view root) {
  if (index >= size) {
    return invalid("index " + std::to_string(index) + " is not below tree size " +
                   std::to_string(size));
  }
  HB_RETURN_IF_ERROR(check_hash(leaf, "leaf hash"));
  HB_RETURN_IF_ERROR(check_proof_hashes(proof));
  uint64_t fn = index, sn = size - 1;
  Hash r(leaf);
  for (const Hash& p : proof) {
    if (sn == 0) return proof_mismatch("inclusion proof is longer than the tree is deep");
    if ((fn & 1) == 1 || fn == sn) {
      r = node_hash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return proof_mismatch("inclusion proof is too short for the tree size");
  if (!crypto::equal_constant_time(r, root)) {
    return proof_mismatch("inclusion proof does not lead to the root");
  }
  return Status::ok();
}

Status verify_consistency(uint64_t size1, uint64_t size2, const std::vector<Hash>& proof,
                          std::string_view root1, std::string_view root2) {
  if (size1 > size2) {
    return invalid("old size " + std::to_string(size1) + " is above new size " +
                   std::to_string(size2));
  }
  if (size1 == size2) {
    if (!proof.empty()) return proof_mismatch("equal sizes need an empty consistency proof");
    if (root1 != root2) return proof_mismatch("equal sizes but different roots");
    return Status::ok();
  }
  if (size1 == 0) {
    // tlog-witness: the proof from the empty tree MUST be empty, and is always consistent.
    if (!proof.empty()) return proof_mismatch("the consistency proof from size 0 must be empty");
    return Status::ok();
  }
  if (proof.empty()) return proof_mismatch("empty consistency proof between different sizes");
  HB_RETURN_IF_ERROR(check_hash(root1, "old root"));
  HB_RETURN_IF_ERROR(check_hash(root2, "new root"));
  HB_RETURN_IF_ERROR(check_proof_hashes(proof));

  // RFC 9162 2.1.4.2, step by step.
  std::vector<std::string_view> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(size1)) path.push_back(root1);
  for (const Hash& h : proof) path.push_back(h);
  uint64_t fn = size1 - 1, sn = size2 - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr(path[0]), sr(path[0]);
  for (std::size_t i = 1; i < path.size(); ++i) {
    std::string_view c = path[i];
    if (sn == 0) return proof_mismatch("consistency proof is longer than needed");
    if ((fn & 1) == 1 || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return proof_mismatch("consistency proof is too short");
  if (!crypto::equal_constant_time(fr, root1)) {
    return proof_mismatch("consistency proof does not lead to the old root");
  }
  if (!crypto::equal_constant_time(sr, root2)) {
    return proof_mismatch("consistency proof does not lead to the new root");
  }
  return Status::ok();
}

void MemoryTree::append_leaf_hash(Hash h) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(std::move(h));
  for (std::size_t l = 0; levels_[l].size() % 2 == 0; ++l) {
    if (levels_.size() == l + 1) levels_.emplace_back();
    const auto& lv = levels_[l];
    levels_[l + 1].push_back(node_hash(lv[lv.size() - 2], lv[lv.size() - 1]));
  }
}

Hash MemoryTree::root() const {
  auto r = tree_root(size(), nodes());
  return r.is_ok() ? std::move(r).value() : Hash();
}

NodeSource MemoryTree::nodes() const {
  return [this](int level, uint64_t index) -> Result<Hash> {
    if (level < 0 || static_cast<std::size_t>(level) >= levels_.size() ||
        index >= levels_[level].size()) {
      return not_found("no complete subtree at level " + std::to_string(level) + " index " +
                       std::to_string(index));
    }
    return levels_[level][index];
  };
}

}  // namespace hb::ledger
