#include "exporter/web_config.h"

#include <crypt.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <span>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "vrrp/file_read.h"
#include "vrrp/yaml_text.h"

namespace vrrp::exporter {

namespace {

// A web-config larger than this is a mistake (a certificate bundle passed as
// the config, a log file), and reading it whole would only waste memory.
constexpr size_t kMaxFileSize = 1 << 20;

// exporter-toolkit keys we know but do not implement: they get a clearer
// message than "unknown key".
constexpr std::string_view kTopLevelKeys[] = {"tls_server_config",
                                              "basic_auth_users"};
constexpr std::string_view kTopLevelUnsupported[] = {"http_server_config",
                                                     "rate_limit"};
constexpr std::string_view kTlsKeys[] = {"cert_file", "key_file", "min_version",
                                         "client_auth_type", "client_ca_file"};
constexpr std::string_view kTlsUnsupported[] = {"cert",
                                                "key",
                                                "client_ca",
                                                "max_version",
                                                "cipher_suites",
                                                "curve_preferences",
                                                "prefer_server_cipher_suites",
                                                "client_allowed_sans"};

std::string Join(std::span<const std::string_view> words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += ", ";
    out += words[i];
  }
  return out;
}

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// 0 if `path` is a regular file we can open for reading, else an errno.
// Opening (not access()) is the real test: it also sees ACLs and LSMs.
int CheckReadable(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return errno;
  struct stat st {};
  int error = 0;
  if (::fstat(fd, &st) != 0) {
    error = errno;
  } else if (S_ISDIR(st.st_mode)) {
    error = EISDIR;
  } else if (!S_ISREG(st.st_mode)) {
    // A FIFO or device would block or never end when OpenSSL reads it.
    error = EINVAL;
  }
  ::close(fd);
  return error;
}

// bcrypt as crypt(3) writes it: "$2b$" cost "$" then 22 characters of salt
// and 31 of hash in bcrypt's base64 alphabet.
bool IsBcryptHash(std::string_view hash) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (hash.size() != 60 || hash.substr(0, 2) != "$2" || hash[3] != '$' ||
      hash[6] != '$' || !digit(hash[4]) || !digit(hash[5])) {
    return false;
  }
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  const bool alphabet = std::all_of(hash.begin() + 7, hash.end(), [&](char c) {
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '.' || c == '/';
  });
  // libxcrypt has the last word: a build without bcrypt would fail every
  // check at run time, so better say so at load.
  return alphabet &&
         crypt_checksalt(std::string(hash).c_str()) == CRYPT_SALT_OK;
}

// True if `yaml` has something besides blank lines, comments and document
// markers.
bool HasContent(std::string_view yaml) {
  while (!yaml.empty()) {
    const size_t end = yaml.find('\n');
    std::string_view line = yaml.substr(0, end);
    yaml = end == std::string_view::npos ? std::string_view()
                                         : yaml.substr(end + 1);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    line.remove_prefix(first);
    if (line.front() == '#' || line.starts_with("---") ||
        line.starts_with("...")) {
      continue;
    }
    return true;
  }
  return false;
}

// One "key: value" of a YAML map.
struct Entry {
  YAML::Node key;
  YAML::Node value;

  // yaml-cpp gives an empty value the mark of the next token (often the next
  // line), so point at the key then.
  YAML::Mark mark() const {
    return value.IsScalar() || value.IsMap() || value.IsSequence()
               ? value.Mark()
               : key.Mark();
  }
};

using Fields = std::map<std::string, Entry, std::less<>>;

const Entry* Find(const Fields& fields, std::string_view key) {
  auto it = fields.find(key);
  return it == fields.end() ? nullptr : &it->second;
}

std::string Path(std::string_view base, std::string_view key) {
  return base.empty() ? std::string(key)
                      : std::string(base) + "." + std::string(key);
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  Result<WebConfig, std::vector<ConfigError>> Load(std::string_view yaml);

 private:
  void Error(const YAML::Mark& mark, std::string field, std::string message) {
    errors_.push_back(
        ConfigError{Where(mark), std::move(field), std::move(message)});
  }
  SourceLocation Where(const YAML::Mark& mark) const {
    // yaml-cpp counts from 0 and uses -1 for "no position".
    return SourceLocation{file_, mark.line >= 0 ? mark.line + 1 : 0,
                          mark.column >= 0 ? mark.column + 1 : 0};
  }
  std::vector<ConfigError> TakeErrors();
  Fields ReadMap(const YAML::Node& map, const std::string& path,
                 std::span<const std::string_view> allowed,
                 std::span<const std::string_view> unsupported);
  std::optional<std::string> ReadString(const Entry& entry,
                                        const std::string& field);
  std::optional<std::string> ReadFilePath(const Entry& entry,
                                          const std::string& field);
  void LoadTls(const Entry& entry, WebConfig* config);
  void LoadUsers(const Entry& entry, WebConfig* config);

  std::string file_;
  std::vector<ConfigError> errors_;
};

std::vector<ConfigError> Loader::TakeErrors() {
  std::stable_sort(errors_.begin(), errors_.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::pair(a.location.line, a.location.column) <
                            std::pair(b.location.line, b.location.column);
                   });
  return std::move(errors_);
}

Fields Loader::ReadMap(const YAML::Node& map, const std::string& path,
                       std::span<const std::string_view> allowed,
                       std::span<const std::string_view> unsupported) {
  Fields fields;
  // The range-for keeps each key/value pair alive; yaml-cpp's operator->
  // returns a proxy that would dangle.
  for (const auto& pair : map) {
    const YAML::Node key = pair.first;
    if (!key.IsScalar()) {
      Error(key.Mark(), path,
            "keys must be plain words, got " + Describe(key) + " as a key");
      continue;
    }
    const std::string& name = key.Scalar();
    // A key is echoed in the field path; quote one with odd bytes so it
    // cannot garble the terminal.
    const bool plain = std::all_of(name.begin(), name.end(),
                                   [](char c) { return c > ' ' && c < 0x7f; });
    const std::string field = Path(path, plain ? name : Quote(name));
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      // Unknown keys are errors: a misspelt key would otherwise silently
      // keep the default, and for TLS that default is "no TLS".
      const bool known = std::find(unsupported.begin(), unsupported.end(),
                                   name) != unsupported.end();
      Error(key.Mark(), field,
            (known ? std::string("is an exporter-toolkit option that "
                                 "vrrp_exporter does not support")
                   : std::string("unknown key")) +
                "; allowed here: " + Join(allowed));
      continue;
    }
    if (auto previous = fields.find(name); previous != fields.end()) {
      // yaml-cpp keeps both; which one wins would be an accident.
      Error(key.Mark(), field,
            "is given twice (first at line " +
                std::to_string(Where(previous->second.key.Mark()).line) + ")");
      continue;
    }
    fields.emplace(name, Entry{key, pair.second});
  }
  return fields;
}

std::optional<std::string> Loader::ReadString(const Entry& entry,
                                              const std::string& field) {
  if (!entry.value.IsScalar()) {
    Error(entry.mark(), field,
          "must be a string, got " + Describe(entry.value));
    return std::nullopt;
  }
  if (entry.value.Scalar().empty()) {
    Error(entry.mark(), field, "must not be empty");
    return std::nullopt;
  }
  return entry.value.Scalar();
}

std::optional<std::string> Loader::ReadFilePath(const Entry& entry,
                                                const std::string& field) {
  auto text = ReadString(entry, field);
  if (!text) return std::nullopt;
  // exporter-toolkit resolves relative paths against the config file's
  // directory, so a config and its certificates can move together.
  const std::string path =
      (std::filesystem::path(file_).parent_path() / *text).string();
  if (const int error = CheckReadable(path); error != 0) {
    Error(entry.mark(), field,
          "cannot read " + Quote(path) + ": " + ErrnoText(error));
    return std::nullopt;
  }
  return path;
}

void Loader::LoadTls(const Entry& entry, WebConfig* config) {
  const std::string path = "tls_server_config";
  // As in exporter-toolkit, an empty section means plain HTTP.
  if (entry.value.IsNull()) return;
  if (!entry.value.IsMap()) {
    Error(entry.mark(), path, "must be a map, got " + Describe(entry.value));
    return;
  }
  const Fields fields = ReadMap(entry.value, path, kTlsKeys, kTlsUnsupported);
  TlsServerConfig tls;
  bool ok = true;
  for (const char* name : {"cert_file", "key_file"}) {
    const std::string field = Path(path, name);
    const Entry* file = Find(fields, name);
    if (file == nullptr) {
      Error(entry.key.Mark(), field, "is required when TLS is configured");
      ok = false;
      continue;
    }
    auto resolved = ReadFilePath(*file, field);
    if (!resolved) {
      ok = false;
      continue;
    }
    (std::string_view(name) == "cert_file" ? tls.cert_file : tls.key_file) =
        std::move(*resolved);
  }

  if (const Entry* version = Find(fields, "min_version")) {
    const std::string field = Path(path, "min_version");
    const std::string text =
        version->value.IsScalar() ? version->value.Scalar() : "";
    if (text == "TLS12") {
      tls.min_version = TlsVersion::kTls12;
    } else if (text == "TLS13") {
      tls.min_version = TlsVersion::kTls13;
    } else if (text == "TLS10" || text == "TLS11") {
      Error(version->mark(), field,
            "TLS 1.0 and 1.1 are not supported; use TLS12 or TLS13");
      ok = false;
    } else {
      Error(version->mark(), field,
            "must be TLS12 or TLS13, got " + Describe(version->value));
      ok = false;
    }
  }

  const Entry* auth = Find(fields, "client_auth_type");
  bool auth_ok = true;
  if (auth != nullptr) {
    const std::string field = Path(path, "client_auth_type");
    const std::string text = auth->value.IsScalar() ? auth->value.Scalar() : "";
    if (text == "NoClientCert") {
      tls.client_auth = ClientAuth::kNoClientCert;
    } else if (text == "RequireAndVerifyClientCert") {
      tls.client_auth = ClientAuth::kRequireAndVerifyClientCert;
    } else if (text == "RequestClientCert" || text == "RequireAnyClientCert" ||
               text == "VerifyClientCertIfGiven") {
      Error(auth->mark(), field,
            Quote(text) +
                " is not supported; use NoClientCert or "
                "RequireAndVerifyClientCert");
      auth_ok = false;
    } else {
      Error(auth->mark(), field,
            "must be NoClientCert or RequireAndVerifyClientCert, got " +
                Describe(auth->value));
      auth_ok = false;
    }
  }
  ok = ok && auth_ok;

  const Entry* ca = Find(fields, "client_ca_file");
  if (ca != nullptr) {
    auto resolved = ReadFilePath(*ca, Path(path, "client_ca_file"));
    if (resolved) {
      tls.client_ca_file = std::move(*resolved);
    } else {
      ok = false;
    }
  }
  // The same two checks as exporter-toolkit: each half without the other is
  // a configuration that does not do what its author meant.
  if (auth_ok && tls.client_auth == ClientAuth::kRequireAndVerifyClientCert &&
      ca == nullptr) {
    Error(auth->mark(), Path(path, "client_auth_type"),
          "RequireAndVerifyClientCert needs client_ca_file, the CA that "
          "signs client certificates");
    ok = false;
  }
  if (auth_ok && tls.client_auth == ClientAuth::kNoClientCert &&
      ca != nullptr) {
    Error(ca->key.Mark(), Path(path, "client_ca_file"),
          "is set but client_auth_type is NoClientCert; set client_auth_type: "
          "RequireAndVerifyClientCert to check client certificates");
    ok = false;
  }
  if (ok) config->tls = std::move(tls);
}

void Loader::LoadUsers(const Entry& entry, WebConfig* config) {
  const std::string path = "basic_auth_users";
  if (entry.value.IsNull()) return;
  if (!entry.value.IsMap()) {
    Error(entry.mark(), path,
          "must be a map of user name to bcrypt hash, got " +
              Describe(entry.value));
    return;
  }
  std::map<std::string, int, std::less<>> first_line;
  for (const auto& pair : entry.value) {
    const YAML::Node key = pair.first;
    const YAML::Node value = pair.second;
    if (!key.IsScalar() || key.Scalar().empty()) {
      Error(key.Mark(), path,
            "user names must be non-empty strings, got " + Describe(key));
      continue;
    }
    const std::string& user = key.Scalar();
    const std::string field = path + "." + Quote(user);
    if (user.find(':') != std::string::npos) {
      // Basic auth splits "user:password" at the first colon (RFC 7617), so
      // this user could never log in.
      Error(key.Mark(), field, "user names must not contain ':'");
      continue;
    }
    if (auto it = first_line.find(user); it != first_line.end()) {
      Error(
          key.Mark(), field,
          "is given twice (first at line " + std::to_string(it->second) + ")");
      continue;
    }
    first_line.emplace(user, Where(key.Mark()).line);
    // The value is not echoed: a plain-text password written here by mistake
    // should not end up in logs too.
    if (!value.IsScalar() || !IsBcryptHash(value.Scalar())) {
      Error(Entry{key, value}.mark(), field,
            "must be a bcrypt hash ($2y$, $2b$ or $2a$, as \"htpasswd -nBC 10 "
            "USER\" prints it); plain-text passwords are not accepted");
      continue;
    }
    config->basic_auth_users.emplace(user, value.Scalar());
  }
}

Result<WebConfig, std::vector<ConfigError>> Loader::Load(
    std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    Error(e.mark, "", "YAML syntax error: " + e.msg);
    return Err(TakeErrors());
  }
  WebConfig config;
  config.file = file_;
  // An empty file (or one with only comments) is the documented way to say
  // "defaults": plain HTTP, no authentication.
  if (root.IsNull()) {
    if (HasContent(yaml)) {
      // "~", "null" or stray punctuation: not the empty file it looks like
      // to YAML, and probably not what its author meant.
      Error(root.Mark(), "",
            "the file has content but no settings; leave it empty for "
            "plain HTTP without authentication");
      return Err(TakeErrors());
    }
    return config;
  }
  if (!root.IsMap()) {
    Error(root.Mark(), "",
          "the top level must be a map with tls_server_config: and/or "
          "basic_auth_users:, got " +
              Describe(root));
    return Err(TakeErrors());
  }
  const Fields fields = ReadMap(root, "", kTopLevelKeys, kTopLevelUnsupported);
  if (const Entry* tls = Find(fields, "tls_server_config")) {
    LoadTls(*tls, &config);
  }
  if (const Entry* users = Find(fields, "basic_auth_users")) {
    LoadUsers(*users, &config);
  }
  if (!errors_.empty()) return Err(TakeErrors());
  if (config.basic_auth_enabled()) {
    config.password_cache = std::make_shared<PasswordCache>();
    config.failure_cache = std::make_shared<PasswordCache>();
  }
  return config;
}

// ---------------------------------------------------------------------------
// Password checks

// Compares without an early exit, so the time does not tell how many leading
// characters of a guess were right.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // bcrypt output has a fixed length, so the length is no secret.
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

// crypt_r's state is 32 KiB: on the heap, not on a server thread's stack.
// Wiped afterwards, as it holds material derived from the password.
struct CryptData {
  CryptData() : data(std::make_unique<crypt_data>()) {}
  ~CryptData() { explicit_bzero(data.get(), sizeof(crypt_data)); }
  std::unique_ptr<crypt_data> data;
};

// Hashes `password` with the salt (and algorithm) of `setting`. Empty on
// failure: libxcrypt returns NULL or a string starting with '*' then.
std::string Crypt(const std::string& password, const std::string& setting) {
  CryptData state;
  const char* out =
      crypt_r(password.c_str(), setting.c_str(), state.data.get());
  if (out == nullptr || out[0] == '*') return std::string();
  return out;
}

std::mutex g_hash_mu;
std::atomic<uint64_t> g_hashes{0};
std::atomic<int> g_concurrent_hashes{0};
std::atomic<int> g_max_concurrent_hashes{0};

// One bcrypt at a time in the whole process. Queued callers sleep on the
// mutex (no CPU); each HTTP worker that waits is one that cannot serve, but
// the per-address failure limit (auth_limiter.h) keeps a flooding client
// from queuing more than a few.
std::string SingleFlightCrypt(const std::string& password,
                              const std::string& setting) {
  std::lock_guard lock(g_hash_mu);
  const int now = ++g_concurrent_hashes;
  int max = g_max_concurrent_hashes.load();
  while (now > max &&
         !g_max_concurrent_hashes.compare_exchange_weak(max, now)) {
  }
  ++g_hashes;
  std::string out = Crypt(password, setting);
  --g_concurrent_hashes;
  return out;
}

int BcryptCost(std::string_view hash) {
  if (hash.size() < 7 || hash[4] < '0' || hash[4] > '9' || hash[5] < '0' ||
      hash[5] > '9') {
    return 10;
  }
  // Valid hashes stop at 31; a larger cost in a hand-built config must not
  // make the dummy check run for days.
  return std::min((hash[4] - '0') * 10 + (hash[5] - '0'), 31);
}

// A bcrypt setting of the highest cost in use, for users that do not exist:
// checking against it takes as long as a real check. (crypt_r needs only the
// salt part; the hash part is never matched.)
std::string DummyHash(const WebConfig& config) {
  int cost = config.basic_auth_users.empty() ? 10 : 4;
  for (const auto& [user, hash] : config.basic_auth_users) {
    cost = std::max(cost, BcryptCost(hash));
  }
  std::string setting =
      "$2b$00$QiLTtP7elABnsqCNIBeejOSc7jqGD7HfMoRE.jDg6I3GxHw3BY9Ym";
  setting[4] = static_cast<char>('0' + cost / 10);
  setting[5] = static_cast<char>('0' + cost % 10);
  return setting;
}

}  // namespace

Result<WebConfig, std::vector<ConfigError>> LoadWebConfigString(
    std::string_view yaml, const std::string& file_name) {
  try {
    return Loader(file_name).Load(yaml);
  } catch (const std::exception& e) {
    // Only allocation failure gets here; the loader must still not throw.
    return Err(std::vector<ConfigError>{
        ConfigError{SourceLocation{file_name, 0, 0}, "",
                    std::string("cannot load the web config: ") + e.what()}});
  }
}

Result<WebConfig, std::vector<ConfigError>> LoadWebConfigFile(
    const std::string& path) {
  if (path.empty()) return WebConfig{};
  auto fail = [&](int error) {
    return Err(std::vector<ConfigError>{ConfigError{
        SourceLocation{path, 0, 0}, "",
        "cannot read the web config file: " + FileReadErrorText(error)}});
  };
  auto text = ReadSmallFile(path, kMaxFileSize);
  if (!text.ok()) return fail(text.error());
  return LoadWebConfigString(text.value(), path);
}

bool CheckPassword(const WebConfig& config, std::string_view user,
                   std::string_view password) {
  auto it = config.basic_auth_users.find(user);
  const bool known = it != config.basic_auth_users.end();
  const std::string stored = known ? it->second : DummyHash(config);
  // crypt_r takes a C string: "right\0anything" would pass as "right".
  const bool has_nul = password.find('\0') != std::string_view::npos;

  // Unknown users take the same path, cache lookup included, so the time
  // taken does not tell whether a user exists.
  PasswordCache* cache = config.password_cache.get();
  PasswordCache* failures = config.failure_cache.get();
  std::string key;
  if (cache != nullptr) {
    key = cache->Key(user, stored, password);
    if (!key.empty() && cache->Contains(key) && known && !has_nul) return true;
  }
  // Keys of the failure cache come from its own salt.
  std::string failure_key;
  if (failures != nullptr) {
    failure_key = failures->Key(user, stored, password);
    if (!failure_key.empty() && failures->Contains(failure_key)) return false;
  }
  std::string secret(password);
  const std::string computed = SingleFlightCrypt(secret, stored);
  explicit_bzero(secret.data(), secret.size());
  const bool match = !computed.empty() && ConstantTimeEquals(computed, stored);
  const bool ok = match && known && !has_nul;
  if (ok && cache != nullptr && !key.empty()) cache->Insert(std::move(key));
  // Keys are made from C strings, so "right\0x" has the key of "right":
  // its failure must not be remembered against the right password.
  if (!ok && !has_nul && failures != nullptr && !failure_key.empty()) {
    failures->Insert(std::move(failure_key));
  }
  return ok;
}

int UnknownUserHashCost(const WebConfig& config) {
  return BcryptCost(DummyHash(config));
}

uint64_t PasswordHashCount() { return g_hashes.load(); }
int MaxConcurrentPasswordHashes() { return g_max_concurrent_hashes.load(); }

// ---------------------------------------------------------------------------
// PasswordCache

struct PasswordCache::State {
  // A random salt per cache: keys from one process say nothing in another,
  // and no precomputed table matches them.
  std::string salt;
  mutable std::mutex mu;
  std::unordered_map<std::string, Clock::time_point> expiry;
  std::function<Clock::time_point()> now = [] { return Clock::now(); };
};

PasswordCache::PasswordCache() : state_(std::make_unique<State>()) {
  // SHA-256-crypt rather than a bare SHA-256: libxcrypt is linked already
  // (OpenSSL's libcrypto is not), and 1000 rounds, the minimum, cost about
  // half a millisecond. NULL random bytes: libxcrypt reads the OS's random.
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$5$", 1000, nullptr, 0, setting, sizeof(setting)) !=
      nullptr) {
    state_->salt = setting;
  }
}

PasswordCache::~PasswordCache() = default;

std::string PasswordCache::Key(std::string_view user,
                               std::string_view stored_hash,
                               std::string_view password) const {
  if (state_->salt.empty()) return std::string();
  std::string secret(password);
  std::string digest = Crypt(secret, state_->salt);
  explicit_bzero(secret.data(), secret.size());
  if (digest.empty()) return std::string();
  // Length-prefixed, so no two (user, hash) pairs give the same key.
  return std::to_string(user.size()) + ":" + std::string(user) +
         std::to_string(stored_hash.size()) + ":" + std::string(stored_hash) +
         digest;
}

bool PasswordCache::Contains(const std::string& key) {
  std::lock_guard lock(state_->mu);
  auto it = state_->expiry.find(key);
  if (it == state_->expiry.end()) return false;
  if (state_->now() >= it->second) {
    state_->expiry.erase(it);
    return false;
  }
  return true;
}

void PasswordCache::Insert(std::string key) {
  std::lock_guard lock(state_->mu);
  const Clock::time_point now = state_->now();
  auto& expiry = state_->expiry;
  if (expiry.size() >= kMaxEntries && !expiry.contains(key)) {
    std::erase_if(expiry,
                  [&](const auto& entry) { return entry.second <= now; });
    if (expiry.size() >= kMaxEntries) {
      // Still full of live entries: drop the one closest to expiring, the
      // least recently verified.
      expiry.erase(std::min_element(
          expiry.begin(), expiry.end(),
          [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
  }
  expiry[std::move(key)] = now + kLifetime;
}

size_t PasswordCache::size() const {
  std::lock_guard lock(state_->mu);
  return state_->expiry.size();
}

void PasswordCache::SetClockForTest(std::function<Clock::time_point()> now) {
  std::lock_guard lock(state_->mu);
  state_->now = std::move(now);
}

}  // namespace vrrp::exporter
