#include "snmp/module.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "vrrp/config_loader.h"

namespace vrrp::snmp {
namespace {

std::string Where(const std::string& file, const YAML::Mark& m) {
  // yaml-cpp counts from 0; editors and the main config's errors from 1.
  return file + ":" + std::to_string(m.line >= 0 ? m.line + 1 : 0) + ":" +
         std::to_string(m.column >= 0 ? m.column + 1 : 0) + ": ";
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  void Error(const YAML::Node& at, const std::string& message) {
    errors_.push_back(Where(file_, at.Mark()) + message);
  }

  void ParseModule(const YAML::Node& key, const YAML::Node& body,
                   Modules& out) {
    Module m;
    m.name = key.as<std::string>();
    if (m.name.empty()) Error(key, "module name is empty");
    if (!body.IsMap()) {
      Error(body.IsNull() ? key : body, "module " + m.name + ": must be a map");
      return;
    }
    const size_t before = errors_.size();
    for (const auto& kv : body) {
      const YAML::Node& k = kv.first;
      const YAML::Node& v = kv.second;
      const std::string field = k.as<std::string>();
      if (!v.IsScalar()) {
        Error(v.IsNull() ? k : v, field + ": must be a scalar");
        continue;
      }
      const std::string s = v.as<std::string>();
      const std::string where = "modules." + m.name + "." + field;
      if (field == "version") {
        if (s == "2c" || s == "2") {
          m.version = SnmpVersion::kV2c;
        } else if (s == "3") {
          m.version = SnmpVersion::kV3;
        } else {
          Error(v, where + ": must be 2c or 3");
        }
      } else if (field == "community") {
        // The value stays out of the message: it is a secret.
        if (s.empty()) Error(v, where + ": must not be empty");
        m.community = s;
      } else if (field == "username") {
        m.username = s;
      } else if (field == "security_level") {
        const std::string l = Lower(s);
        if (l == "noauthnopriv") {
          m.security_level = SecurityLevel::kNoAuthNoPriv;
        } else if (l == "authnopriv") {
          m.security_level = SecurityLevel::kAuthNoPriv;
        } else if (l == "authpriv") {
          m.security_level = SecurityLevel::kAuthPriv;
        } else {
          Error(v, where + ": must be noAuthNoPriv, authNoPriv or authPriv");
        }
      } else if (field == "auth_protocol") {
        const std::string l = Lower(s);
        if (l == "md5") {
          m.auth_protocol = AuthProtocol::kMd5;
        } else if (l == "sha") {
          m.auth_protocol = AuthProtocol::kSha1;
        } else if (l == "sha-256" || l == "sha256") {
          m.auth_protocol = AuthProtocol::kSha256;
        } else if (l == "sha-512" || l == "sha512") {
          m.auth_protocol = AuthProtocol::kSha512;
        } else {
          Error(v, where + ": must be MD5, SHA, SHA-256 or SHA-512");
        }
      } else if (field == "auth_password") {
        m.auth_password = s;
      } else if (field == "priv_protocol") {
        const std::string l = Lower(s);
        if (l == "des") {
          m.priv_protocol = PrivProtocol::kDes;
        } else if (l == "aes" || l == "aes128") {
          m.priv_protocol = PrivProtocol::kAes128;
        } else {
          Error(v, where + ": must be AES or DES");
        }
      } else if (field == "priv_password") {
        m.priv_password = s;
      } else if (field == "context_name") {
        m.context_name = s;
      } else if (field == "timeout") {
        auto d = ParseDuration(s);
        if (!d.ok()) {
          Error(v, where + ": " + d.error());
        } else if (*d < std::chrono::milliseconds(10) ||
                   *d > std::chrono::seconds(60)) {
          Error(v, where + ": must be between 10ms and 60s");
        } else {
          m.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
        }
      } else if (field == "retries" || field == "max_repetitions") {
        int n = -1;
        try {
          n = v.as<int>();
        } catch (const YAML::Exception&) {
        }
        const bool retries = field == "retries";
        if (retries ? (n < 0 || n > 10) : (n < 1 || n > 1000)) {
          Error(v, where + (retries ? ": must be an integer from 0 to 10"
                                    : ": must be an integer from 1 to 1000"));
        } else if (retries) {
          m.retries = n;
        } else {
          m.bulk_repetitions = n;
        }
      } else {
        Error(k, where + ": unknown field");
      }
    }
    if (m.version == SnmpVersion::kV3) {
      const std::string w = "modules." + m.name + ": ";
      if (m.username.empty()) Error(key, w + "SNMPv3 needs a username");
      // RFC 3414 §11.2: passwords shorter than 8 octets are refused
      // (net-snmp's generate_Ku refuses them too).
      if (m.security_level != SecurityLevel::kNoAuthNoPriv &&
          m.auth_password.size() < 8) {
        Error(key, w + "auth_password must have at least 8 characters");
      }
      if (m.security_level == SecurityLevel::kAuthPriv &&
          m.priv_password.size() < 8) {
        Error(key, w + "priv_password must have at least 8 characters");
      }
    }
    if (errors_.size() == before) out[m.name] = std::move(m);
  }

  Result<Modules, std::vector<std::string>> Parse(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return Err(std::vector<std::string>{Where(file_, e.mark) + e.msg});
    }
    Modules out;
    if (!root.IsMap() || !root["modules"]) {
      errors_.push_back(file_ + ":1:1: expected a map with \"modules:\"");
      return Err(errors_);
    }
    for (const auto& kv : root) {
      if (kv.first.as<std::string>() != "modules") {
        Error(kv.first, kv.first.as<std::string>() + ": unknown field");
      }
    }
    const YAML::Node modules = root["modules"];
    if (!modules.IsMap()) {
      Error(modules, "modules: must be a map of module names");
      return Err(errors_);
    }
    for (const auto& kv : modules) ParseModule(kv.first, kv.second, out);
    if (!errors_.empty()) return Err(errors_);
    return out;
  }

 private:
  std::string file_;
  std::vector<std::string> errors_;
};

}  // namespace

std::string Module::Describe() const {
  std::ostringstream s;
  s << name << ": ";
  if (version == SnmpVersion::kV2c) {
    s << "SNMPv2c";
  } else {
    static const char* kLevels[] = {"noAuthNoPriv", "authNoPriv", "authPriv"};
    static const char* kAuth[] = {"MD5", "SHA", "SHA-256", "SHA-512"};
    static const char* kPriv[] = {"DES", "AES"};
    s << "SNMPv3 user " << username << " "
      << kLevels[static_cast<int>(security_level)];
    if (security_level != SecurityLevel::kNoAuthNoPriv) {
      s << " " << kAuth[static_cast<int>(auth_protocol)];
    }
    if (security_level == SecurityLevel::kAuthPriv) {
      s << "/" << kPriv[static_cast<int>(priv_protocol)];
    }
  }
  s << ", timeout " << timeout.count() << "ms x " << (retries + 1)
    << ", max_repetitions " << bulk_repetitions;
  return s.str();
}

Result<Modules, std::vector<std::string>> ParseModules(
    const std::string& text, const std::string& file_name) {
  return Parser(file_name).Parse(text);
}

Result<Modules, std::vector<std::string>> LoadModules(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Err(std::vector<std::string>{path + ": cannot be read"});
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseModules(ss.str(), path);
}

}  // namespace vrrp::snmp
