// RAII owners for libcurl handles, shared by the HTTP and SMTP transports and by the eID login
// (services/oidc_login.cpp). Not a public interface of src/notify.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

namespace hb::notify::detail {

struct CurlEasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// Appends to a list, keeping ownership in `list`; false when out of memory.
inline bool slist_append(SlistPtr& list, const std::string& s) {
  curl_slist* next = curl_slist_append(list.get(), s.c_str());
  if (next == nullptr) return false;
  (void)list.release();
  list.reset(next);
  return true;
}

// curl_global_init, once per process (it is not thread-safe itself; a static makes it so).
inline bool curl_ready() {
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ready;
}

}  // namespace hb::notify::detail
