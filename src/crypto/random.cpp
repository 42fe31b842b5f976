#include "crypto/random.h"

#include <algorithm>
#include <climits>

#include <openssl/rand.h>

#include "crypto/encoding.h"
#include "crypto/openssl_util.h"

namespace hb::crypto {

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<std::size_t>(n - done, INT_MAX));
    if (RAND_bytes(ossl::u8(out.data() + done), chunk) != 1) ossl::fatal("random_bytes");
    done += static_cast<std::size_t>(chunk);
  }
  return out;
}

std::string random_token(std::size_t bytes) {
  // A token users hold must not be guessable: below 128 bits is never what the caller wants.
  constexpr std::size_t kMinBytes = 16;
  return base64url_encode(random_bytes(std::max(bytes, kMinBytes)));
}

}  // namespace hb::crypto
