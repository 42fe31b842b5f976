#include "core/text.h"

#include <gtest/gtest.h>

namespace hb {
namespace {

TEST(Text, TrimsOptionalWhitespaceOnly) {
  EXPECT_EQ(trim_ows(" \t gzip ;q=1\t "), "gzip ;q=1");
  EXPECT_EQ(trim_ows(""), "");
  EXPECT_EQ(trim_ows(" \t "), "");
  EXPECT_EQ(trim_ows("\na\r"), "\na\r");  // not whitespace in HTTP's sense
}

TEST(Text, LowerCasesAsciiLettersOnly) {
  EXPECT_EQ(ascii_lower("Application/FHIR+json"), "application/fhir+json");
  EXPECT_EQ(ascii_lower("Ệ-Z@[`{"), "Ệ-z@[`{");  // other bytes stay as they are
}

TEST(Text, MediaTypeDropsParametersAndCase) {
  EXPECT_EQ(media_type("application/fhir+json;fhirVersion=4.0.1"), "application/fhir+json");
  EXPECT_EQ(media_type(" Application/JSON ; charset=UTF-8"), "application/json");
  EXPECT_EQ(media_type("text/plain"), "text/plain");
  EXPECT_EQ(media_type(";x=1"), "");
  EXPECT_EQ(media_type(""), "");
}

}  // namespace
}  // namespace hb
