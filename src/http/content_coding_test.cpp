#include "http/content_coding.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace hb::http {
namespace {

TEST(ContentCoding, AcceptsGzipAsRfc9110Says) {
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("deflate, GZIP;q=0.5, br"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
  EXPECT_FALSE(accepts_gzip("*, gzip;q=0"));  // gzip named: its own weight counts
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=abc"));
  EXPECT_FALSE(accepts_gzip("gzip;q=2"));
  EXPECT_TRUE(accepts_gzip(" gzip ; q=1 "));
  EXPECT_TRUE(accepts_gzip("gzip;q=0.001"));
  EXPECT_TRUE(accepts_gzip("gzip;Q=1.000"));
  EXPECT_FALSE(accepts_gzip("gzip;q=1.001"));   // above 1
  EXPECT_FALSE(accepts_gzip("gzip;q=0.0001"));  // four decimals
  EXPECT_FALSE(accepts_gzip("gzip;q=.5"));
  EXPECT_FALSE(accepts_gzip("gzip;q="));
  EXPECT_TRUE(accepts_gzip("gzip;level=1;q=0.2"));  // other parameters are skipped
}

TEST(ContentCoding, GzipRoundTripsThroughZlib) {
  std::string data;
  for (int i = 0; i < 2000; ++i) data += "entry " + std::to_string(i) + "|issuer:01001|kind:mc\n";
  for (const std::string& input : {std::string(), data}) {
    auto packed = gzip(input);
    ASSERT_TRUE(packed.is_ok()) << packed.status().to_string();
    ASSERT_GE(packed->size(), 18u);
    EXPECT_EQ(static_cast<unsigned char>((*packed)[0]), 0x1f);  // the gzip magic
    EXPECT_EQ(static_cast<unsigned char>((*packed)[1]), 0x8b);
    z_stream z{};
    ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
    std::string back(input.size() + 16, '\0');
    z.next_in = reinterpret_cast<Bytef*>(packed->data());
    z.avail_in = static_cast<uInt>(packed->size());
    z.next_out = reinterpret_cast<Bytef*>(back.data());
    z.avail_out = static_cast<uInt>(back.size());
    EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
    back.resize(z.total_out);
    inflateEnd(&z);
    EXPECT_EQ(back, input);
  }
  EXPECT_LT(gzip(data)->size(), data.size() / 4);
}

}  // namespace
}  // namespace hb::http
