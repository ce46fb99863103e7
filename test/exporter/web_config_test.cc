#include "exporter/web_config.h"

#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace vrrp {

// Lets gtest print errors readably when an expectation fails.
void PrintTo(const ConfigError& error, std::ostream* os) {
  *os << error.ToString();
}

namespace exporter {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// An error for `field` reported on line `line` of `file`.
MATCHER_P3(ErrorAt, file, field, line, "") {
  return arg.field == field && arg.location.line == line &&
         arg.location.file == file;
}

MATCHER_P(MessageHas, text, "") {
  return arg.message.find(text) != std::string::npos;
}

// A directory of its own per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "web_config_test-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

  // Writes `text` to `name` in this directory; returns the full path.
  std::string Write(const std::string& name, std::string_view text) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::string path_;
};

// A bcrypt hash of `password`, at the lowest cost unless told, so tests
// stay fast.
std::string Bcrypt(const std::string& password, const char* prefix = "$2b$",
                   int cost = 4) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(prefix, cost, nullptr, 0, setting, sizeof(setting)) ==
      nullptr) {
    ADD_FAILURE() << "crypt_gensalt_rn failed";
    return "";
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), setting, data.get());
  if (hash == nullptr || hash[0] == '*') {
    ADD_FAILURE() << "crypt_r failed";
    return "";
  }
  return hash;
}

class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("server.crt", "-----BEGIN CERTIFICATE-----\n");
    dir_.Write("server.key", "-----BEGIN PRIVATE KEY-----\n");
    dir_.Write("ca.crt", "-----BEGIN CERTIFICATE-----\n");
    file_ = dir_.path() + "/web.yml";
  }

  Result<WebConfig, std::vector<ConfigError>> Load(std::string_view yaml) {
    return LoadWebConfigString(yaml, file_);
  }

  TempDir dir_;
  std::string file_;
};

TEST_F(WebConfigTest, NoFileMeansPlainHttpWithoutAuth) {
  auto config = LoadWebConfigFile("");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->tls.has_value());
  EXPECT_FALSE(config->basic_auth_enabled());
}

TEST_F(WebConfigTest, EmptyFileMeansPlainHttpWithoutAuth) {
  const std::string path = dir_.Write("empty.yml", "# nothing yet\n");
  auto config = LoadWebConfigFile(path);
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->tls.has_value());
  EXPECT_FALSE(config->basic_auth_enabled());
  EXPECT_EQ(config->file, path);
}

TEST_F(WebConfigTest, CommentsAndMarkersOnlyIsEmpty) {
  auto config = Load("---\n# tls_server_config: later\n...\n");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->tls.has_value());
}

TEST_F(WebConfigTest, NullDocumentIsNotTakenForEmpty) {
  auto config = Load("~\n");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error(), ElementsAre(AllOf(ErrorAt(file_, "", 1),
                                                MessageHas("no settings"))));
}

TEST_F(WebConfigTest, EmptySectionsMeanDefaults) {
  // exporter-toolkit treats an empty tls_server_config as "no TLS".
  auto config = Load("tls_server_config:\nbasic_auth_users:\n");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->tls.has_value());
  EXPECT_FALSE(config->basic_auth_enabled());
}

TEST_F(WebConfigTest, LoadsFullConfigWithPathsRelativeToTheFile) {
  const std::string hash = Bcrypt("secret");
  const std::string hash_y = Bcrypt("other", "$2y$");
  const std::string path = dir_.Write("web.yml", R"(
tls_server_config:
  cert_file: server.crt
  key_file: )" + dir_.path() + R"(/server.key
  min_version: TLS13
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
basic_auth_users:
  prometheus: ')" + hash + R"('
  grafana: ')" + hash_y + R"('
)");
  auto config = LoadWebConfigFile(path);
  ASSERT_TRUE(config.ok()) << ::testing::PrintToString(config.error());
  ASSERT_TRUE(config->tls.has_value());
  EXPECT_EQ(config->tls->cert_file, dir_.path() + "/server.crt");
  EXPECT_EQ(config->tls->key_file, dir_.path() + "/server.key");
  EXPECT_EQ(config->tls->client_ca_file, dir_.path() + "/ca.crt");
  EXPECT_EQ(config->tls->min_version, TlsVersion::kTls13);
  EXPECT_EQ(config->tls->client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_THAT(config->basic_auth_users, SizeIs(2));
  EXPECT_EQ(config->basic_auth_users.at("prometheus"), hash);
  EXPECT_TRUE(config->basic_auth_enabled());
  EXPECT_NE(config->password_cache, nullptr);
}

TEST_F(WebConfigTest, TlsDefaults) {
  auto config = Load(R"(
tls_server_config:
  cert_file: server.crt
  key_file: server.key
)");
  ASSERT_TRUE(config.ok()) << ::testing::PrintToString(config.error());
  ASSERT_TRUE(config->tls.has_value());
  EXPECT_EQ(config->tls->min_version, TlsVersion::kTls12);
  EXPECT_EQ(config->tls->client_auth, ClientAuth::kNoClientCert);
  EXPECT_THAT(config->tls->client_ca_file, IsEmpty());
  EXPECT_FALSE(config->basic_auth_enabled());
}

TEST_F(WebConfigTest, UnknownKeysAreErrorsWithTheirLine) {
  auto config = Load(R"(tls_server_config:
  cert_file: server.crt
  key_file: server.key
  min_versoin: TLS13
basic_auth_user:
  x: y
)");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(
      config.error(),
      ElementsAre(AllOf(ErrorAt(file_, "tls_server_config.min_versoin", 4),
                        MessageHas("unknown key"), MessageHas("min_version")),
                  AllOf(ErrorAt(file_, "basic_auth_user", 5),
                        MessageHas("unknown key"))));
  EXPECT_THAT(config.error()[0].ToString(),
              HasSubstr(file_ + ":4:3: tls_server_config.min_versoin: "));
}

TEST_F(WebConfigTest, ExporterToolkitOptionsWeLackAreNamedAsSuch) {
  auto config = Load(R"(tls_server_config:
  cert_file: server.crt
  key_file: server.key
  max_version: TLS13
http_server_config:
  http2: false
)");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(
      config.error(),
      ElementsAre(AllOf(ErrorAt(file_, "tls_server_config.max_version", 4),
                        MessageHas("does not support")),
                  AllOf(ErrorAt(file_, "http_server_config", 5),
                        MessageHas("does not support"))));
}

TEST_F(WebConfigTest, MissingCertFileIsAnErrorAtLoad) {
  auto config = Load(R"(tls_server_config:
  cert_file: missing.crt
  key_file: server.key
)");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(
      config.error(),
      ElementsAre(AllOf(ErrorAt(file_, "tls_server_config.cert_file", 2),
                        MessageHas(dir_.path() + "/missing.crt"),
                        MessageHas("No such file or directory"))));
}

TEST_F(WebConfigTest, DirectoryInsteadOfFileIsAnError) {
  auto config = Load(R"(tls_server_config:
  cert_file: server.crt
  key_file: .
)");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error(),
              ElementsAre(AllOf(ErrorAt(file_, "tls_server_config.key_file", 3),
                                MessageHas("Is a directory"))));
}

TEST_F(WebConfigTest, CertAndKeyAreRequired) {
  auto config = Load(R"(tls_server_config:
  min_version: TLS12
)");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(
      config.error(),
      ElementsAre(AllOf(ErrorAt(file_, "tls_server_config.cert_file", 1),
                        MessageHas("required")),
                  AllOf(ErrorAt(file_, "tls_server_config.key_file", 1),
                        MessageHas("required"))));
}

TEST_F(WebConfigTest, BadMinVersion) {
  auto config = Load(R"(tls_server_config:
  cert_file: server.crt
  key_file: server.key
  min_version: TLS1.2
)");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(
      config.error(),
      ElementsAre(AllOf(ErrorAt(file_, "tls_server_config.min_version", 4),
                        MessageHas("must be TLS12 or TLS13, got \"TLS1.2\""))));
}

TEST_F(WebConfigTest, OldTlsVersionsAreRefused) {
  auto config = Load(R"(tls_server_config:
  cert_file: server.crt
  key_file: server.key
  min_version: TLS10
)");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(
      config.error(),
      ElementsAre(AllOf(ErrorAt(file_, "tls_server_config.min_version", 4),
                        MessageHas("not supported"))));
}

TEST_F(WebConfigTest, ClientAuthTypes) {
  auto unsupported = Load(R"(tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: VerifyClientCertIfGiven
  client_ca_file: ca.crt
)");
  ASSERT_FALSE(unsupported.ok());
  EXPECT_THAT(
      unsupported.error(),
      ElementsAre(AllOf(ErrorAt(file_, "tls_server_config.client_auth_type", 4),
                        MessageHas("not supported"))));

  auto without_ca = Load(R"(tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
)");
  ASSERT_FALSE(without_ca.ok());
  EXPECT_THAT(
      without_ca.error(),
      ElementsAre(AllOf(ErrorAt(file_, "tls_server_config.client_auth_type", 4),
                        MessageHas("needs client_ca_file"))));

  auto ca_without_auth = Load(R"(tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_ca_file: ca.crt
)");
  ASSERT_FALSE(ca_without_auth.ok());
  EXPECT_THAT(
      ca_without_auth.error(),
      ElementsAre(AllOf(ErrorAt(file_, "tls_server_config.client_ca_file", 4),
                        MessageHas("NoClientCert"))));
}

TEST_F(WebConfigTest, EveryErrorIsReported) {
  auto config = Load(R"(tls_server_config:
  cert_file: nope.crt
  key_file: nope.key
  min_version: SSL3
basic_auth_users:
  alice: hunter2
)");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error(),
              ElementsAre(ErrorAt(file_, "tls_server_config.cert_file", 2),
                          ErrorAt(file_, "tls_server_config.key_file", 3),
                          ErrorAt(file_, "tls_server_config.min_version", 4),
                          ErrorAt(file_, "basic_auth_users.\"alice\"", 6)));
}

TEST_F(WebConfigTest, PlainPasswordsAreRefusedWithoutBeingEchoed) {
  auto config = Load(R"(basic_auth_users:
  alice: hunter2
  bob: '$2b$10$tooshort'
)");
  ASSERT_FALSE(config.ok());
  ASSERT_THAT(config.error(), SizeIs(2));
  EXPECT_THAT(config.error()[0],
              ErrorAt(file_, "basic_auth_users.\"alice\"", 2));
  EXPECT_THAT(config.error()[0].message, HasSubstr("bcrypt"));
  EXPECT_THAT(config.error()[0].ToString(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(config.error()[1], ErrorAt(file_, "basic_auth_users.\"bob\"", 3));
}

// bcrypt's cost is 04..31 and its variants $2a$, $2b$, $2y$ (not the
// broken $2x$): anything else is refused at load.
TEST_F(WebConfigTest, BcryptCostAndVariantLimits) {
  const std::string hash = Bcrypt("x");  // $2b$04$...
  auto with = [&](const std::string& cost, char variant = 'b') {
    std::string h = hash;
    h[2] = variant;
    h.replace(4, 2, cost);
    return Load("basic_auth_users:\n  alice: '" + h + "'\n");
  };
  EXPECT_TRUE(with("04").ok());
  EXPECT_TRUE(with("31").ok());
  EXPECT_TRUE(with("04", 'a').ok());
  EXPECT_TRUE(with("04", 'y').ok());
  EXPECT_FALSE(with("03").ok());
  EXPECT_FALSE(with("00").ok());
  EXPECT_FALSE(with("32").ok());
  EXPECT_FALSE(with("04", 'x').ok());
  EXPECT_FALSE(with("04", 'c').ok());
}

TEST_F(WebConfigTest, BadUserNames) {
  const std::string hash = Bcrypt("x");
  auto config = Load("basic_auth_users:\n  'a:b': '" + hash + "'\n  c: '" +
                     hash + "'\n  c: '" + hash + "'\n");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error(),
              ElementsAre(AllOf(ErrorAt(file_, "basic_auth_users.\"a:b\"", 2),
                                MessageHas("':'")),
                          AllOf(ErrorAt(file_, "basic_auth_users.\"c\"", 4),
                                MessageHas("twice"))));
}

TEST_F(WebConfigTest, WrongShapes) {
  auto config = Load("tls_server_config: [a]\nbasic_auth_users: x\n");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error(),
              ElementsAre(AllOf(ErrorAt(file_, "tls_server_config", 1),
                                MessageHas("must be a map")),
                          AllOf(ErrorAt(file_, "basic_auth_users", 2),
                                MessageHas("must be a map"))));

  auto list = Load("- a\n");
  ASSERT_FALSE(list.ok());
  EXPECT_THAT(list.error(), ElementsAre(ErrorAt(file_, "", 1)));
}

TEST_F(WebConfigTest, SyntaxErrorHasALine) {
  auto config = Load("basic_auth_users:\n  a: [\n");
  ASSERT_FALSE(config.ok());
  ASSERT_THAT(config.error(), SizeIs(1));
  EXPECT_GT(config.error()[0].location.line, 0);
  EXPECT_THAT(config.error()[0].message, HasSubstr("YAML syntax error"));
}

TEST_F(WebConfigTest, UnreadableConfigFile) {
  auto config = LoadWebConfigFile(dir_.path() + "/absent.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error(),
              ElementsAre(AllOf(ErrorAt(dir_.path() + "/absent.yml", "", 0),
                                MessageHas("No such file or directory"))));
}

// ---------------------------------------------------------------------------
// CheckPassword

class CheckPasswordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded =
        LoadWebConfigString("basic_auth_users:\n  alice: '" + Bcrypt("right") +
                                "'\n  bob: '" + Bcrypt("bobs", "$2y$") + "'\n",
                            "web.yml");
    ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
    config_ = std::move(loaded.value());
    ASSERT_NE(config_.password_cache, nullptr);
  }

  WebConfig config_;
};

TEST_F(CheckPasswordTest, RightWrongAndUnknown) {
  EXPECT_TRUE(CheckPassword(config_, "alice", "right"));
  EXPECT_TRUE(CheckPassword(config_, "bob", "bobs"));  // $2y$ too
  EXPECT_FALSE(CheckPassword(config_, "alice", "wrong"));
  EXPECT_FALSE(CheckPassword(config_, "alice", ""));
  EXPECT_FALSE(CheckPassword(config_, "alice", "bobs"));
  EXPECT_FALSE(CheckPassword(config_, "carol", "right"));
  EXPECT_FALSE(CheckPassword(config_, "", "right"));
  EXPECT_FALSE(CheckPassword(config_, "Alice", "right"));
}

TEST_F(CheckPasswordTest, BytesAfterANulDoNotCount) {
  // crypt_r sees a C string: "right\0x" must not pass as "right", neither
  // before nor after "right" is cached.
  using namespace std::string_view_literals;
  EXPECT_FALSE(CheckPassword(config_, "alice", "right\0x"sv));
  EXPECT_TRUE(CheckPassword(config_, "alice", "right"));
  EXPECT_FALSE(CheckPassword(config_, "alice", "right\0x"sv));
}

TEST_F(CheckPasswordTest, CachesOnlySuccesses) {
  EXPECT_FALSE(CheckPassword(config_, "alice", "wrong"));
  EXPECT_FALSE(CheckPassword(config_, "carol", "x"));
  EXPECT_EQ(config_.password_cache->size(), 0u);
  EXPECT_TRUE(CheckPassword(config_, "alice", "right"));
  EXPECT_EQ(config_.password_cache->size(), 1u);
  // A cached success says nothing about other passwords or users.
  EXPECT_TRUE(CheckPassword(config_, "alice", "right"));
  EXPECT_FALSE(CheckPassword(config_, "alice", "righ"));
  EXPECT_FALSE(CheckPassword(config_, "alice", "right "));
  EXPECT_FALSE(CheckPassword(config_, "bob", "right"));
  EXPECT_EQ(config_.password_cache->size(), 1u);
}

// A wrong password that was tried before is refused without another bcrypt:
// a flood (or a Prometheus with a stale password) repeats the same one.
TEST_F(CheckPasswordTest, RepeatedFailuresAreAnsweredFromTheFailureCache) {
  ASSERT_NE(config_.failure_cache, nullptr);
  EXPECT_FALSE(CheckPassword(config_, "alice", "wrong"));
  const uint64_t hashes = PasswordHashCount();
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(CheckPassword(config_, "alice", "wrong"));
    EXPECT_FALSE(CheckPassword(config_, "carol", "wrong"));
  }
  EXPECT_EQ(PasswordHashCount(), hashes + 1);  // carol's first check only
  // The right password is not shadowed by the remembered failures.
  EXPECT_TRUE(CheckPassword(config_, "alice", "right"));
}

// At most one bcrypt at a time: many threads checking wrong passwords get
// one core's worth of hashing, never all of them.
TEST_F(CheckPasswordTest, OneHashAtATime) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 3; ++i) {
        EXPECT_FALSE(CheckPassword(
            config_, "alice",
            "wrong" + std::to_string(t) + "-" + std::to_string(i)));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(MaxConcurrentPasswordHashes(), 1);
}

TEST_F(CheckPasswordTest, CachedEntryIsBoundToTheStoredHash) {
  EXPECT_TRUE(CheckPassword(config_, "alice", "right"));
  // The same cache with a changed password for alice: the old password must
  // fail, not be answered from the cache.
  config_.basic_auth_users["alice"] = Bcrypt("new");
  EXPECT_FALSE(CheckPassword(config_, "alice", "right"));
  EXPECT_TRUE(CheckPassword(config_, "alice", "new"));
}

// A stored hash is compared whole: one with bytes after a valid hash (only
// a hand-built config can hold it; loading refuses it) never matches,
// although crypt_r reads only its setting part.
TEST_F(CheckPasswordTest, StoredHashIsComparedWhole) {
  config_.password_cache = nullptr;
  const std::string hash = Bcrypt("right");
  config_.basic_auth_users["alice"] = hash + "x";
  EXPECT_FALSE(CheckPassword(config_, "alice", "right"));
  config_.basic_auth_users["alice"] = hash;
  EXPECT_TRUE(CheckPassword(config_, "alice", "right"));
}

// An unknown user is checked against a dummy hash of the highest cost in
// use, so the time a refusal takes does not tell whether the user exists.
// Cost 10 against the other users' 4 is 64 times the work: the minimum of
// three runs each keeps a busy machine from blurring that.
// An unknown user's check is one bcrypt at the highest cost in use, the
// same work as a real user's: the time taken does not tell whether a user
// exists. Counted, not timed (no timed assertions in unit tests).
TEST_F(CheckPasswordTest, UnknownUsersCostAHashAtTheCostliestUsersCost) {
  config_.password_cache = nullptr;
  config_.failure_cache = nullptr;
  config_.basic_auth_users["carol"] = Bcrypt("carols", "$2b$", 10);
  EXPECT_EQ(UnknownUserHashCost(config_), 10);
  const uint64_t before = PasswordHashCount();
  EXPECT_FALSE(CheckPassword(config_, "mallory", "wrong"));
  EXPECT_EQ(PasswordHashCount(), before + 1);
  EXPECT_FALSE(CheckPassword(config_, "carol", "wrong"));
  EXPECT_EQ(PasswordHashCount(), before + 2);
}

TEST_F(CheckPasswordTest, WorksWithoutCache) {
  config_.password_cache = nullptr;
  EXPECT_TRUE(CheckPassword(config_, "alice", "right"));
  EXPECT_FALSE(CheckPassword(config_, "alice", "wrong"));
  EXPECT_FALSE(CheckPassword(config_, "carol", "right"));
}

TEST(PasswordCacheTest, EntriesExpire) {
  PasswordCache cache;
  PasswordCache::Clock::time_point now{};
  cache.SetClockForTest([&] { return now; });
  const std::string key = cache.Key("alice", "$2b$04$hash", "right");
  ASSERT_FALSE(key.empty());
  EXPECT_THAT(key, Not(HasSubstr("right")));
  EXPECT_FALSE(cache.Contains(key));
  cache.Insert(key);
  EXPECT_TRUE(cache.Contains(key));
  now += PasswordCache::kLifetime - std::chrono::seconds(1);
  EXPECT_TRUE(cache.Contains(key));
  now += std::chrono::seconds(1);
  EXPECT_FALSE(cache.Contains(key));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(PasswordCacheTest, KeysDependOnEveryPart) {
  PasswordCache cache;
  const std::string key = cache.Key("alice", "h", "pw");
  EXPECT_EQ(key, cache.Key("alice", "h", "pw"));
  EXPECT_NE(key, cache.Key("alice", "h", "pw2"));
  EXPECT_NE(key, cache.Key("alicf", "h", "pw"));
  EXPECT_NE(key, cache.Key("alice", "i", "pw"));
  // Another cache, another salt.
  PasswordCache other;
  EXPECT_NE(key, other.Key("alice", "h", "pw"));
}

TEST(PasswordCacheTest, IsBounded) {
  PasswordCache cache;
  PasswordCache::Clock::time_point now{};
  cache.SetClockForTest([&] { return now; });
  for (size_t i = 0; i < PasswordCache::kMaxEntries; ++i) {
    cache.Insert("key" + std::to_string(i));
    now += std::chrono::milliseconds(1);
  }
  EXPECT_EQ(cache.size(), PasswordCache::kMaxEntries);
  cache.Insert("one more");
  EXPECT_EQ(cache.size(), PasswordCache::kMaxEntries);
  // The oldest entry made room; the newest ones stay.
  EXPECT_FALSE(cache.Contains("key0"));
  EXPECT_TRUE(cache.Contains("key1"));
  EXPECT_TRUE(cache.Contains("one more"));

  // When full, expired entries go first, and only they: key1..key500 were
  // verified 60 s ago or earlier by now.
  now += PasswordCache::kLifetime - std::chrono::milliseconds(500);
  cache.Insert("fresh");
  EXPECT_EQ(cache.size(), 501u);
  EXPECT_FALSE(cache.Contains("key500"));
  EXPECT_TRUE(cache.Contains("key501"));
  EXPECT_TRUE(cache.Contains("fresh"));
}

}  // namespace
}  // namespace exporter
}  // namespace vrrp
