// The proleptic Gregorian calendar that FHIR's date types use (years 0001-9999).
//
// Thread-safety: pure functions.
#pragma once

namespace hb::fhir {

constexpr bool is_leap_year(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

// Days in `month` (1-12) of `year`.
constexpr int days_in_month(int year, int month) {
  constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

static_assert(days_in_month(2024, 2) == 29 && days_in_month(1900, 2) == 28 &&
              days_in_month(2000, 2) == 29);

}  // namespace hb::fhir
