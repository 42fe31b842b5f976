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

}  // namespace
}  // namespace hb::ledger
