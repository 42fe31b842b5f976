#include "crypto/aead.h"

#include <algorithm>
#include <climits>

#include "core/ids.h"
#include "crypto/openssl_util.h"

namespace hb::crypto {
namespace {

constexpr std::size_t kKeyLen = 32;
constexpr std::size_t kNonceLen = 12;
constexpr std::size_t kTagLen = 16;
// EVP_*Update takes int lengths; feed large inputs in pieces well below INT_MAX.
constexpr std::size_t kChunk = std::size_t{1} << 30;

// Runs `update(out, in, len)` over `in` in chunks; returns false on the first failure.
template <typename Update>
bool update_all(Update update, unsigned char* out, std::string_view in) {
  std::size_t done = 0;
  while (done < in.size()) {
    std::size_t n = std::min(in.size() - done, kChunk);
    int written = 0;
    if (!update(out ? out + done : nullptr, &written, ossl::u8(in.data() + done),
                static_cast<int>(n))) {
      return false;
    }
    // GCM is a stream mode: OpenSSL writes exactly what it reads.
    if (out && static_cast<std::size_t>(written) != n) return false;
    done += n;
  }
  return true;
}

// AES-256-GCM, fetched from the provider once: EVP_aes_256_gcm() made every init look it up
// again. A context per thread, set up afresh (key and nonce) for each message.
const EVP_CIPHER* gcm() {
  static EVP_CIPHER* cipher = [] {
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (c == nullptr) ossl::fatal("aead: AES-256-GCM is not available");
    return c;
  }();
  return cipher;
}

EVP_CIPHER_CTX* thread_context() {
  thread_local ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) ossl::fatal("aead: context");
  return ctx.get();
}

}  // namespace

Result<Aead256> Aead256::create(std::string_view key) {
  if (key.size() != kKeyLen) return invalid("AES-256-GCM key must be 32 bytes");
  return Aead256(std::string(key));
}

std::string Aead256::seal(std::string_view plaintext, std::string_view aad) const {
  std::string out(kNonceLen + plaintext.size() + kTagLen, '\0');
  // A random 96-bit nonce, as NIST SP 800-38D allows: not secret. A data key seals one patient's
  // records and the master key one wrapped key a patient, far below the 2^32 messages a key may
  // seal with random nonces.
  fill_public_random(out.data(), kNonceLen);
  auto* body = ossl::u8(out.data() + kNonceLen);

  EVP_CIPHER_CTX* c = thread_context();
  if (EVP_EncryptInit_ex2(c, gcm(), ossl::u8(key_.data()), ossl::u8(out.data()), nullptr) != 1) {
    ossl::fatal("aead seal: init");
  }
  auto enc = [c](unsigned char* o, int* ol, const unsigned char* i, int il) {
    return EVP_EncryptUpdate(c, o, ol, i, il) == 1;
  };
  if (!update_all(enc, nullptr, aad) || !update_all(enc, body, plaintext))
    ossl::fatal("aead seal: update");
  int final_len = 0;
  if (EVP_EncryptFinal_ex(c, body + plaintext.size(), &final_len) != 1 || final_len != 0) {
    ossl::fatal("aead seal: final");
  }
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagLen),
                          body + plaintext.size()) != 1) {
    ossl::fatal("aead seal: tag");
  }
  return out;
}

Result<std::string> Aead256::open(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < kNonceLen + kTagLen) return invalid("sealed data too short");
  std::string_view nonce = sealed.substr(0, kNonceLen);
  std::string_view ciphertext = sealed.substr(kNonceLen, sealed.size() - kNonceLen - kTagLen);
  std::string tag(sealed.substr(sealed.size() - kTagLen));

  EVP_CIPHER_CTX* c = thread_context();
  if (EVP_DecryptInit_ex2(c, gcm(), ossl::u8(key_.data()), ossl::u8(nonce.data()), nullptr) != 1) {
    EVP_CIPHER_CTX_reset(c);
    ossl::clear_errors();
    return internal("aead open: init failed");
  }
  std::string plain(ciphertext.size(), '\0');
  auto dec = [c](unsigned char* o, int* ol, const unsigned char* i, int il) {
    return EVP_DecryptUpdate(c, o, ol, i, il) == 1;
  };
  int final_len = 0;
  bool ok =
      update_all(dec, nullptr, aad) && update_all(dec, ossl::u8(plain.data()), ciphertext) &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagLen), tag.data()) == 1 &&
      EVP_DecryptFinal_ex(c, ossl::u8(plain.data()) + plain.size(), &final_len) == 1;
  if (!ok) {
    EVP_CIPHER_CTX_reset(c);  // the next message starts from a clean context
    ossl::clear_errors();
    // Never hand back unauthenticated plaintext, not even in memory the caller might reuse.
    OPENSSL_cleanse(plain.data(), plain.size());
    return invalid("decryption failed");
  }
  return plain;
}

}  // namespace hb::crypto
