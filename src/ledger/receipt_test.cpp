#include "ledger/receipt.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"

namespace hb::ledger {
namespace {

struct Fixture {
  NoteSigner signer = NoteSigner::generate("example.com/log").value();
  MemoryTree tree;
  std::string checkpoint;
  Fixture() {
    for (int i = 0; i < 11; ++i) tree.append("e" + std::to_string(i));
    checkpoint =
        sign_note(format_checkpoint({"example.com/log", tree.size(), tree.root(), {}}), {&signer})
            .value();
  }
  Receipt receipt(uint64_t index) {
    return Receipt{std::nullopt, index, inclusion_proof(index, tree.size(), tree.nodes()).value(),
                   checkpoint};
  }
};

TEST(Receipt, FormatsParsesAndVerifies) {
  Fixture f;
  Receipt r = f.receipt(7);
  r.extra = "opaque";
  std::string text = format_receipt(r);
  EXPECT_EQ(text.rfind("c2sp.org/tlog-proof@v1\nextra b3BhcXVl\nindex 7\n", 0), 0u) << text;
  auto back = parse_receipt(text);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, r);
  auto cp = verify_receipt(text, "e7", f.signer.verifier());
  ASSERT_TRUE(cp.is_ok()) << cp.status().to_string();
  EXPECT_EQ(cp->size, 11u);
  EXPECT_FALSE(verify_receipt(text, "e6", f.signer.verifier()).is_ok());
  EXPECT_FALSE(verify_receipt(text, "e7", f.signer.verifier(), "example.com/other").is_ok());
}

TEST(Receipt, IndexMustBeInsideCheckpoint) {
  Fixture f;
  Receipt r = f.receipt(3);
  r.index = 11;
  EXPECT_EQ(verify_receipt(format_receipt(r), "e3", f.signer.verifier()).status().code(),
            Code::kUnauthorized);
}

TEST(Receipt, ParserIsStrict) {
  Fixture f;
  std::string good = format_receipt(f.receipt(2));
  ASSERT_TRUE(parse_receipt(good).is_ok());
  std::string body = good.substr(good.find("index 2\n") + 8);
  std::string h = crypto::base64_encode(leaf_hash("x"));
  for (const std::string& bad : {
           "c2sp.org/tlog-proof@v2\nindex 2\n" + body,
           "c2sp.org/tlog-proof@v1\nindex 02\n" + body,
           "c2sp.org/tlog-proof@v1\nindex -2\n" + body,
           "c2sp.org/tlog-proof@v1\nindex  2\n" + body,
           "c2sp.org/tlog-proof@v1\nextra \nindex 2\n" + body,
           "c2sp.org/tlog-proof@v1\nextra !!\nindex 2\n" + body,
           "c2sp.org/tlog-proof@v1\n" + body,
           "c2sp.org/tlog-proof@v1\nindex 2\n" + h.substr(0, 40) + "\n" + body,
           "c2sp.org/tlog-proof@v1\nindex 2\n" + h + " \n" + body,
           "c2sp.org/tlog-proof@v1\nindex 2\n" + h + "\n",  // no blank line, no checkpoint
           good.substr(0, good.size() - 1),                 // checkpoint note cut short
           "c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n" + body,
       }) {
    EXPECT_FALSE(parse_receipt(bad).is_ok()) << bad;
  }
  std::string many = "c2sp.org/tlog-proof@v1\nindex 2\n";
  for (int i = 0; i < 64; ++i) many += h + "\n";
  EXPECT_FALSE(parse_receipt(many + "\n" + f.checkpoint).is_ok());
}

// The cache skips the signature check only for the very note, key and origin that verified.
TEST(Receipt, CheckpointCacheRemembersOnlyWhatVerified) {
  Fixture f;
  CheckpointCache cache(2);
  const std::string r7 = format_receipt(f.receipt(7));
  const std::string r3 = format_receipt(f.receipt(3));
  ASSERT_TRUE(verify_receipt(r7, "e7", f.signer.verifier(), {}, &cache).is_ok());
  ASSERT_TRUE(verify_receipt(r3, "e3", f.signer.verifier(), {}, &cache).is_ok());
  // The proof is still checked on every call.
  EXPECT_FALSE(verify_receipt(r3, "e4", f.signer.verifier(), {}, &cache).is_ok());
  EXPECT_FALSE(verify_receipt(r7, "e7", f.signer.verifier(), "example.com/other", &cache).is_ok());
  NoteSigner other = NoteSigner::generate("example.com/log").value();
  EXPECT_FALSE(verify_receipt(r7, "e7", other.verifier(), {}, &cache).is_ok())
      << "a key of the same name must not reuse the other key's verdict";
  // A checkpoint with the same size and signature but another root fails.
  std::string forged = r7;
  const std::string root = crypto::base64_encode(f.tree.root());
  const std::string other_root = crypto::base64_encode(leaf_hash("forged"));
  forged.replace(forged.find(root), root.size(), other_root);
  EXPECT_FALSE(verify_receipt(forged, "e7", f.signer.verifier(), {}, &cache).is_ok());
  // Past its capacity the cache starts again, and verifies again.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(verify_receipt(r7, "e7", f.signer.verifier(), {}, &cache).is_ok());
  }
}

}  // namespace
}  // namespace hb::ledger
