#include "ledger/note.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "ledger/test_util.h"

namespace hb::ledger {
namespace {

constexpr const char* kTesseraVkey =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

std::string tessera(const std::string& name) {
  return testing::read_file(testing::tlog_data("tessera-log/" + name));
}

TEST(NoteVerifier, ParsesTesseraKey) {
  auto v = NoteVerifier::parse(kTesseraVkey);
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  EXPECT_EQ(v->name(), "example.com/log/testdata");
  EXPECT_EQ(v->key_id(), 0x33d7b496u);  // recomputed from name and key, then compared
  EXPECT_EQ(v->vkey(), kTesseraVkey);
}

TEST(NoteVerifier, RejectsMalformedKeys) {
  std::string k = kTesseraVkey;
  for (const std::string& bad : {
           std::string(
               "example.com/log/testdata+33d7b497+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"),
           std::string(
               "example.com/log/testdata+33D7B496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"),
           std::string("other+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"),
           std::string(
               "example.com/log/testdata+33d7b496+AuHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"),
           std::string(
               "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkk"),
           std::string("example.com/log/testdata+33d7b496"),
           k + "+extra",
           std::string(""),
       }) {
    EXPECT_FALSE(NoteVerifier::parse(bad).is_ok()) << bad;
  }
}

TEST(Note, VerifiesEveryTesseraCheckpoint) {
  auto v = NoteVerifier::parse(kTesseraVkey).value();
  for (int n = 0; n <= 15; ++n) {
    auto cp = open_checkpoint(tessera("checkpoint." + std::to_string(n)), v);
    ASSERT_TRUE(cp.is_ok()) << n << ": " << cp.status().to_string();
    EXPECT_EQ(cp->size, static_cast<uint64_t>(n));
    EXPECT_EQ(cp->origin, "example.com/log/testdata");
  }
  auto latest = open_checkpoint(tessera("checkpoint"), v);
  ASSERT_TRUE(latest.is_ok());
  EXPECT_EQ(latest->size, 15u);
  EXPECT_EQ(crypto::base64_encode(latest->root), "rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=");
  EXPECT_FALSE(open_checkpoint(tessera("checkpoint"), v, "example.com/other").is_ok());
}

TEST(Note, SignsAndVerifiesRoundTrip) {
  auto s = NoteSigner::generate("healthbook.example/log");
  ASSERT_TRUE(s.is_ok());
  auto again = NoteSigner::parse(s->skey());
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(again->vkey(), s->vkey());
  auto v = NoteVerifier::parse(s->vkey()).value();

  std::string text = "Healthbook\nsecond line\n\nafter a blank line\n";
  auto note = sign_note(text, {&*s});
  ASSERT_TRUE(note.is_ok());
  auto opened = open_note(*note, {v});
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  EXPECT_EQ(opened->text, text);
  ASSERT_EQ(opened->verified_by.size(), 1u);

  // A changed text fails; a different key is "unknown" and so not enough.
  std::string tampered = *note;
  tampered[0] = 'h';
  EXPECT_EQ(open_note(tampered, {v}).status().code(), Code::kUnauthorized);
  auto other = NoteSigner::generate("healthbook.example/log").value();
  EXPECT_EQ(open_note(*note, {other.verifier()}).status().code(), Code::kUnauthorized);
}

TEST(Note, IgnoresUnknownSignaturesButRejectsBadKnownOnes) {
  auto log = NoteSigner::generate("log.example").value();
  auto witness = NoteSigner::generate("witness.example").value();
  std::string text = "log.example\n1\n" + crypto::base64_encode(leaf_hash("a")) + "\n";
  auto both = sign_note(text, {&log, &witness}).value();
  // Only the log key is known: the witness line is ignored.
  auto opened = open_note(both, {log.verifier()});
  ASSERT_TRUE(opened.is_ok());
  EXPECT_EQ(opened->signatures.size(), 2u);
  EXPECT_EQ(opened->verified_by, std::vector<std::string>{"log.example"});
  // A known key whose signature is broken rejects the whole note, even next to a good one.
  std::string broken = sign_note(text, {&witness}).value();
  std::string wsig_line = broken.substr(broken.rfind("\xE2\x80\x94"));
  auto raw = crypto::base64_decode(wsig_line.substr(wsig_line.find(' ', 4) + 1,
                                                    wsig_line.size() - wsig_line.find(' ', 4) - 2))
                 .value();
  raw[10] ^= 1;
  std::string bad_line = "\xE2\x80\x94 witness.example " + crypto::base64_encode(raw) + "\n";
  std::string note = sign_note(text, {&log}).value() + bad_line;
  EXPECT_TRUE(open_note(note, {log.verifier()}).is_ok());
  EXPECT_EQ(open_note(note, {log.verifier(), witness.verifier()}).status().code(),
            Code::kUnauthorized);
}

TEST(Note, RejectsMalformedNotes) {
  auto s = NoteSigner::generate("k").value();
  std::string good = sign_note("hello\n", {&s}).value();
  ASSERT_TRUE(parse_note(good).is_ok());
  std::string sig = good.substr(good.find("\n\n") + 2);
  for (const std::string& bad : {
           std::string("hello\n") + sig,      // no blank line
           std::string("hello\n\n"),          // no signatures
           good.substr(0, good.size() - 1),   // no final newline
           std::string("hel\tlo\n\n") + sig,  // control character
           std::string("hel\xff"
                       "lo\n\n") +
               sig,                                              // invalid UTF-8
           std::string("hello\n\n- k AAAAAAA=\n"),               // hyphen, not em dash
           std::string("hello\n\n\xE2\x80\x94 k\n"),             // no signature
           std::string("hello\n\n\xE2\x80\x94 k AAAA\n"),        // shorter than key id + 1
           std::string("hello\n\n\xE2\x80\x94 k+1 AAAAAAA=\n"),  // '+' in key name
           std::string("hello\n\n\xE2\x80\x94  AAAAAAA=\n"),     // empty key name
           std::string("hello\n\n\xE2\x80\x94 k AAAAAAA\n"),     // bad padding
           std::string("hello\n\n\xE2\x80\x94 k AAAAAAA= \n"),   // trailing space
           good + "\n",                                          // blank line after signatures
       }) {
    EXPECT_FALSE(parse_note(bad).is_ok()) << bad;
  }
}

TEST(Checkpoint, FormatsAndParses) {
  Checkpoint c{"example.com/log", 20852163, leaf_hash("x"), {"ext one"}};
  std::string text = format_checkpoint(c);
  auto back = parse_checkpoint(text);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, c);
  std::string root = crypto::base64_encode(leaf_hash("x"));
  for (const std::string& bad : std::vector<std::string>{
           "o\n01\n" + root + "\n", "o\n-1\n" + root + "\n", "o\n1\n" + root,
           "o\n1\n" + root + "\n\n", "\n1\n" + root + "\n", std::string("o\n1\nAAAA\n"),
           "o\n18446744073709551616\n" + root + "\n", std::string("o\n1\n"),
           "o\n0\n" + root + "\n",  // size 0 must carry SHA-256("")
       }) {
    EXPECT_FALSE(parse_checkpoint(bad).is_ok()) << bad;
  }
  EXPECT_TRUE(parse_checkpoint("o\n0\n" + crypto::base64_encode(empty_root()) + "\n").is_ok());
  EXPECT_TRUE(parse_checkpoint("o\n18446744073709551615\n" + root + "\n").is_ok());
}

TEST(KeyName, FollowsSpec) {
  EXPECT_TRUE(is_valid_key_name("example.com/log"));
  EXPECT_TRUE(is_valid_key_name("h\xC3\xA9llo"));
  EXPECT_FALSE(is_valid_key_name(""));
  EXPECT_FALSE(is_valid_key_name("a b"));
  EXPECT_FALSE(is_valid_key_name("a+b"));
  EXPECT_FALSE(
      is_valid_key_name("a\xC2\xA0"
                        "b"));  // no-break space
  EXPECT_FALSE(
      is_valid_key_name("a\xE3\x80\x80"
                        "b"));  // ideographic space
  EXPECT_FALSE(NoteSigner::generate("bad name").is_ok());
}

}  // namespace
}  // namespace hb::ledger
