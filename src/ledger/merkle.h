// RFC 9162 (section 2.1) Merkle tree hashing and proofs, with SHA-256.
//
// A hash is a std::string of 32 raw bytes. Leaf hash = SHA-256(0x00 || entry), interior node =
// SHA-256(0x01 || left || right), the empty tree's root = SHA-256("").
//
// Proof generation does not hold the tree: it asks a NodeSource for the hash of *complete*
// subtrees (2^level leaves, aligned), so the same code serves proofs from memory (MemoryTree) and
// from tlog-tiles (tiles.h).
//
// Consistency from size 0 (our rule, taken from C2SP tlog-witness): the empty tree is consistent
// with every tree, and the proof from size 0 to any size N > 0 MUST be empty. The old root is not
// consulted (a tree of size 0 has only one possible root, so it carries no information); checkpoint
// parsing checks that a size-0 checkpoint carries SHA-256(""). RFC 9162 leaves this case
// undefined, and some libraries refuse it; docs/transparency-log.md records the choice.
//
// Thread-safety: free functions are stateless. MemoryTree is not synchronised: one writer, or
// many readers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hb::ledger {

using Hash = std::string;  // 32 raw bytes
inline constexpr std::size_t kHashSize = 32;

Hash leaf_hash(std::string_view entry);
Hash node_hash(std::string_view left, std::string_view right);
Hash empty_root();  // SHA-256("")

// Root of a tree whose leaves have these (already computed) leaf hashes.
Hash root_from_leaf_hashes(const std::vector<Hash>& leaf_hashes);

// The hash of the complete subtree at `level` (covering 2^level leaves) with position `index` on
// that level, i.e. MTH(D[index * 2^level : (index + 1) * 2^level]). Callers only ask for subtrees
// that lie entirely inside the tree size they are working on.
using NodeSource = std::function<Result<Hash>(int level, uint64_t index)>;

// MTH(D[begin:end]) for a range that occurs in the RFC 9162 recursion (begin is a multiple of the
// largest power of two not below end - begin), built from complete subtrees. begin < end.
Result<Hash> range_hash(uint64_t begin, uint64_t end, const NodeSource& nodes);
// Root of the tree of `size` leaves (empty_root() for 0).
Result<Hash> tree_root(uint64_t size, const NodeSource& nodes);

// PATH(index, D[size]) of RFC 9162 2.1.3.1: sibling hashes from the leaf up. index < size.
Result<std::vector<Hash>> inclusion_proof(uint64_t index, uint64_t size, const NodeSource& nodes);
// PROOF(size1, D[size2]) of RFC 9162 2.1.4.1. size1 <= size2; empty when size1 is 0 or equal.
Result<std::vector<Hash>> consistency_proof(uint64_t size1, uint64_t size2,
                                            const NodeSource& nodes);

// RFC 9162 2.1.3.2. OK, or kUnauthorized saying why the proof does not hold (kInvalid for
// arguments that can never verify, such as index >= size or hashes that are not 32 bytes).
Status verify_inclusion(uint64_t index, uint64_t size, std::string_view leaf_hash,
                        const std::vector<Hash>& proof, std::string_view root);
// RFC 9162 2.1.4.2, plus: size1 == size2 needs an empty proof and equal roots; size1 == 0 < size2
// needs an empty proof (see the size-0 rule above).
Status verify_consistency(uint64_t size1, uint64_t size2, const std::vector<Hash>& proof,
                          std::string_view root1, std::string_view root2);

// An in-memory tree keeping every level, for tests and small tools; O(1) node lookups.
class MemoryTree {
 public:
  void append_leaf_hash(Hash h);
  void append(std::string_view entry) { append_leaf_hash(leaf_hash(entry)); }
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  Hash root() const;
  // Serves complete subtrees of the current tree (and so of every smaller one).
  NodeSource nodes() const;

 private:
  std::vector<std::vector<Hash>> levels_;  // levels_[l][i] = complete node (l, i)
};

}  // namespace hb::ledger
