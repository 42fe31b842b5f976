// R4 date / dateTime / instant -> the period it covers (see date_period in search_params.h).
//
// Grammar accepted (R4's regexes, with two allowances for search values):
//   YYYY | YYYY-MM | YYYY-MM-DD | YYYY-MM-DDThh:mm[:ss[.f+]][Z|(+|-)hh:mm]
// - years 0001..9999, months 01..12, days checked against the month (leap years included),
//   hours 00..23 (R4 has no 24:00), minutes 00..59, seconds 00..60 (a leap second is taken as :59),
//   zone offsets -14:00..+14:00 with hours 00..13 or exactly 14:00;
// - allowances: a time without a zone is taken as UTC (R4 requires a zone on dateTime), and a time
//   without seconds ("2024-05-01T10:30") covers that minute; both occur in search query values.
// The period is as wide as the precision given: a year, a month, a day, a minute, a second, or
// 100/10/1 ms for one/two/three or more fraction digits (digits past the millisecond truncate).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "fhir/calendar.h"
#include "fhir/search_params.h"

namespace hb::fhir {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;
// Longer input cannot be a valid date (fraction digits aside, which nobody sends by the hundred).
constexpr std::size_t kMaxDateLength = 64;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Reads exactly `n` ASCII digits at `pos`; -1 if they are not there.
int read_digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

Status bad(std::string_view text, const char* why) {
  std::string shown(text.substr(0, kMaxDateLength));
  if (text.size() > kMaxDateLength) shown += "...";
  return invalid("invalid date '" + shown + "': " + why);
}

}  // namespace

Result<std::pair<int64_t, int64_t>> date_period(std::string_view s) {
  if (s.size() > kMaxDateLength) return bad(s, "too long");
  const int year = read_digits(s, 0, 4);
  if (year < 0) return bad(s, "expected a four-digit year");
  if (year == 0) return bad(s, "year 0000 does not exist");
  if (s.size() == 4) {
    const int64_t lo = days_from_civil(year, 1, 1) * kMsPerDay;
    return std::pair{lo, days_from_civil(year + 1, 1, 1) * kMsPerDay - 1};
  }
  if (s[4] != '-') return bad(s, "expected '-' after the year");
  const int month = read_digits(s, 5, 2);
  if (month < 1 || month > 12) return bad(s, "month must be 01..12");
  if (s.size() == 7) {
    const int64_t lo = days_from_civil(year, month, 1) * kMsPerDay;
    const int64_t hi = (month == 12 ? days_from_civil(year + 1, 1, 1)
                                    : days_from_civil(year, month + 1, 1)) * kMsPerDay - 1;
    return std::pair{lo, hi};
  }
  if (s[7] != '-') return bad(s, "expected '-' after the month");
  const int day = read_digits(s, 8, 2);
  if (day < 1 || day > days_in_month(year, month)) return bad(s, "no such day in that month");
  const int64_t day_start = days_from_civil(year, month, day) * kMsPerDay;
  if (s.size() == 10) return std::pair{day_start, day_start + kMsPerDay - 1};

  if (s[10] != 'T') return bad(s, "expected 'T' before the time");
  const int hour = read_digits(s, 11, 2);
  if (hour < 0 || hour > 23) return bad(s, "hour must be 00..23");
  if (s.size() < 14 || s[13] != ':') return bad(s, "expected hh:mm");
  const int minute = read_digits(s, 14, 2);
  if (minute < 0 || minute > 59) return bad(s, "minute must be 00..59");
  std::size_t pos = 16;
  int64_t local = day_start + hour * kMsPerHour + minute * kMsPerMinute;
  int64_t width = kMsPerMinute;
  if (pos < s.size() && s[pos] == ':') {
    const int second = read_digits(s, pos + 1, 2);
    if (second < 0 || second > 60) return bad(s, "second must be 00..60");
    local += (second == 60 ? 59 : second) * kMsPerSecond;
    width = kMsPerSecond;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      std::size_t digits = 0;
      int64_t fraction_ms = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 3) {
          fraction_ms = fraction_ms * 10 + (s[pos] - '0');
          width /= 10;
        }
        ++digits;
        ++pos;
      }
      if (digits == 0) return bad(s, "expected digits after '.'");
      for (std::size_t i = digits; i < 3; ++i) fraction_ms *= 10;
      local += fraction_ms;
    }
  }
  int64_t offset = 0;
  if (pos < s.size()) {
    const char z = s[pos];
    if (z == 'Z') {
      ++pos;
    } else if (z == '+' || z == '-') {
      const int oh = read_digits(s, pos + 1, 2);
      const bool colon = pos + 3 < s.size() && s[pos + 3] == ':';
      const int om = colon ? read_digits(s, pos + 4, 2) : -1;
      if (oh < 0 || om < 0 || om > 59 || oh > 14 || (oh == 14 && om != 0)) {
        return bad(s, "zone must be Z or +hh:mm / -hh:mm within 14:00");
      }
      offset = (oh * kMsPerHour + om * kMsPerMinute) * (z == '-' ? -1 : 1);
      pos += 6;
    } else {
      return bad(s, "unexpected character in the time");
    }
  }
  if (pos != s.size()) return bad(s, "unexpected characters after the zone");
  const int64_t lo = local - offset;
  return std::pair{lo, lo + width - 1};
}

}  // namespace hb::fhir
