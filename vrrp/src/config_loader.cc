#include "vrrp/config_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "vrrp/file_read.h"
#include "vrrp/yaml_text.h"

namespace vrrp {

using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------------------
// Text helpers

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Join(std::span<const std::string_view> words,
                 std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += sep;
    out += words[i];
  }
  return out;
}

// Edit distance, for "did you mean" on unknown keys. Keys are short, so the
// quadratic table is fine.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string FamilyName(Family family) {
  return family == Family::kIpv4 ? "ipv4" : "ipv6";
}

// The kernel's own rule for interface names (dev_valid_name): what it would
// refuse can never match an interface, so say so now rather than at startup.
bool ValidInterfaceName(std::string_view name) {
  constexpr size_t kMaxInterfaceLength = 15;  // IFNAMSIZ - 1
  return !name.empty() && name.size() <= kMaxInterfaceLength && name != "." &&
         name != ".." && std::none_of(name.begin(), name.end(), [](char c) {
           return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' ||
                  c == '\r' || c == '\v' || c == '\f' || c == '\0';
         });
}

constexpr std::string_view kInterfaceNameRule =
    "must be a Linux interface name: 1..15 characters without '/', ':' or "
    "whitespace, got ";

// ---------------------------------------------------------------------------
// Durations

// Parses text as a whole non-negative decimal integer; nullopt on anything
// else, including overflow.
std::optional<int64_t> ParseInteger(std::string_view text) {
  if (text.empty() || !IsDigit(text.front())) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// a * b for non-negative values, nullopt on overflow (which would be UB).
std::optional<int64_t> CheckedMultiply(int64_t a, int64_t b) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) {
    return std::nullopt;
  }
  return a * b;
}

Result<Duration, std::string> ParseDurationText(std::string_view text) {
  const std::string got = ", got " + Quote(text);
  const std::string usage =
      "must be a duration such as 1s, 100ms or 1.5s (units ms, s, m; a bare "
      "number means seconds)";
  if (!text.empty() && text.front() == '-') {
    return Err("must not be negative" + got);
  }

  // Split "<int>.<frac><unit>".
  size_t i = 0;
  while (i < text.size() && IsDigit(text[i])) ++i;
  std::string_view int_part = text.substr(0, i);
  std::string_view frac_part;
  if (i < text.size() && text[i] == '.') {
    const size_t start = ++i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    frac_part = text.substr(start, i - start);
  }
  if (int_part.empty() && frac_part.empty()) return Err(usage + got);
  const std::string_view unit = text.substr(i);

  int64_t unit_ns = 0;
  if (unit.empty() || unit == "s") {
    unit_ns = Duration(1s).count();
  } else if (unit == "ms") {
    unit_ns = Duration(1ms).count();
  } else if (unit == "m") {
    unit_ns = Duration(1min).count();
  } else {
    const bool word = std::all_of(unit.begin(), unit.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
    if (!word) return Err(usage + got);
    return Err("has unknown unit " + Quote(unit) +
               " (allowed: ms, s, m; a bare number means seconds)" + got);
  }

  // value = digits / 10^k exactly; leading and trailing zeros carry no
  // information and would only make the integer overflow sooner.
  while (int_part.size() > 1 && int_part.front() == '0') {
    int_part.remove_prefix(1);
  }
  while (!frac_part.empty() && frac_part.back() == '0') {
    frac_part.remove_suffix(1);
  }
  const std::string digits = std::string(int_part) + std::string(frac_part);
  const auto mantissa = ParseInteger(digits.empty() ? "0" : digits);
  if (!mantissa) return Err("is too large" + got);
  // 10^18 is the largest power of ten in int64; a non-zero fraction with
  // more digits than that is certainly finer than a nanosecond.
  if (frac_part.size() > 18) return Err("is more precise than 1ns" + got);
  int64_t scale = 1;
  for (size_t k = 0; k < frac_part.size(); ++k) scale *= 10;

  // ns = mantissa * unit_ns / scale. Cancelling the common factor first keeps
  // "1.000000001m" (a mantissa of 10^9 times 60 s) inside int64.
  const int64_t common = std::gcd(unit_ns, scale);
  const auto numerator = CheckedMultiply(*mantissa, unit_ns / common);
  if (!numerator) return Err("is too large" + got);
  const int64_t denominator = scale / common;
  if (*numerator % denominator != 0) {
    return Err("is more precise than 1ns" + got);
  }
  return Duration(*numerator / denominator);
}

// ---------------------------------------------------------------------------
// The loader

template <typename T>
struct Choice {
  std::string_view text;
  T value;
};

constexpr Choice<Family> kFamilies[] = {{"ipv4", Family::kIpv4},
                                        {"ipv6", Family::kIpv6}};
constexpr Choice<ChecksumForm> kChecksumForms[] = {
    {"with-pseudo-header", ChecksumForm::kWithPseudoHeader},
    {"without-pseudo-header", ChecksumForm::kWithoutPseudoHeader}};
constexpr Choice<ShutdownMode> kShutdownModes[] = {
    {"hitless", ShutdownMode::kHitless}, {"strict", ShutdownMode::kStrict}};
constexpr Choice<AuthType> kAuthTypes[] = {{"none", AuthType::kNone},
                                           {"pass", AuthType::kSimplePassword}};

constexpr std::string_view kTopLevelKeys[] = {
    "instances", "script_user", "notify_fifo", "notify_socket",
    "webhooks",  "sync_groups", "trackers"};
constexpr std::string_view kNotifyKeys[] = {"master", "backup", "fault", "stop",
                                            "any"};
constexpr std::string_view kWebhookKeys[] = {"url", "timeout", "headers"};
constexpr std::string_view kSyncGroupKeys[] = {"name", "instances", "notify",
                                               "notify_timeout"};
constexpr size_t kMaxCommandArgs = 64;
constexpr Duration kMaxNotifyTimeout = 3600s;
constexpr Duration kMaxWebhookTimeout = 60s;
constexpr std::string_view kInstanceKeys[] = {"name",
                                              "interface",
                                              "vrid",
                                              "version",
                                              "family",
                                              "priority",
                                              "advert_interval",
                                              "virtual_ipaddresses",
                                              "preempt",
                                              "preempt_delay",
                                              "accept",
                                              "unicast",
                                              "authentication",
                                              "checksum",
                                              "shutdown",
                                              "announce",
                                              "virtual_mac",
                                              "virtual_mac_interface",
                                              "notify",
                                              "notify_timeout",

                                              "track",
                                              "peer_priorities"};
// Every key a tracker may have; which ones a type takes is kTrackerTypeKeys.
constexpr std::string_view kTrackerKeys[] = {
    "type",        "interval",   "timeout", "rise", "fall",
    "weight",      "command",    "user",    "url",  "expect_status",
    "expect_body", "tls_verify", "address", "port", "interface",
    "path",        "process",    "pidfile"};
constexpr std::string_view kTrackKeys[] = {"name", "weight"};
constexpr Choice<TrackerType> kTrackerTypes[] = {
    {"exec", TrackerType::kExec}, {"http", TrackerType::kHttp},
    {"tcp", TrackerType::kTcp},   {"interface", TrackerType::kInterface},
    {"file", TrackerType::kFile}, {"process", TrackerType::kProcess}};
// The keys of each type besides type, weight, rise and fall.
struct TrackerTypeKeys {
  TrackerType type;
  std::initializer_list<std::string_view> keys;
};
const TrackerTypeKeys kTrackerTypeKeys[] = {
    {TrackerType::kExec, {"interval", "timeout", "command", "user"}},
    {TrackerType::kHttp,
     {"interval", "timeout", "url", "expect_status", "expect_body",
      "tls_verify"}},
    {TrackerType::kTcp, {"interval", "timeout", "address", "port"}},
    {TrackerType::kInterface, {"interface"}},
    {TrackerType::kFile, {"interval", "path"}},
    {TrackerType::kProcess, {"interval", "process", "pidfile"}},
};
// Keepalived's limits: |weight| <= 253 (254 for track_file, whose value is
// multiplied by it).
constexpr int kMaxWeight = 253;
constexpr int kMaxFileWeight = 254;
// A priority that is not configured for the peers is assumed to be
// Keepalived's (and our) default, the usual backup.
constexpr int kAssumedPeerPriority = 100;
constexpr std::string_view kUnicastKeys[] = {"source", "peers"};
constexpr std::string_view kAuthenticationKeys[] = {"type", "password"};
constexpr std::string_view kAnnounceKeys[] = {"count", "interval",
                                              "second_burst_after", "refresh"};

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxVirtualAddresses = 255;
constexpr size_t kMaxPasswordLength = 8;      // RFC 3768 §5.3.10
constexpr Duration kMaxPreemptDelay = 1000s;  // Keepalived's limit
constexpr Centiseconds kMinV3Interval{1};
constexpr Centiseconds kMaxV3Interval{4095};  // 12 bits, RFC 5798 §5.2.7
constexpr std::chrono::seconds kMinV2Interval{1};
constexpr std::chrono::seconds kMaxV2Interval{255};  // 8 bits, RFC 3768

// One "key: value" of a YAML map.
struct Entry {
  YAML::Node key;
  YAML::Node value;

  // Where a problem with the value is: yaml-cpp gives an empty value the
  // mark of the next token (often the next line), so point at the key then.
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

std::string Path(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

std::string Index(const std::string& base, size_t index) {
  return base + "[" + std::to_string(index) + "]";
}

// An address parsed from the file, with where it was written.
struct PlacedAddress {
  IpPrefix prefix;
  std::string field;
  YAML::Mark mark;
};

// What the checks across instances need from one instance, kept even when
// other fields of the instance are wrong so one bad field hides nothing.
struct InstanceKeys {
  std::optional<std::string> name;
  YAML::Mark name_mark;
  std::optional<std::string> interface;
  YAML::Mark interface_mark;
  std::optional<uint8_t> vrid;
  YAML::Mark vrid_mark;
  std::optional<Family> family;
  // The virtual MAC macvlan's name, configured or derived from VRID and
  // family, and where to point at: virtual_mac_interface's value when it is
  // given, else the virtual_mac key.
  std::optional<std::string> vmac_interface;
  YAML::Mark vmac_mark;
  bool vmac_interface_configured = false;
  // track: entries as written, resolved once every tracker is known.
  struct PlacedTrack {
    std::string name;
    std::optional<int> weight;
    std::string field;
    YAML::Mark mark;
  };
  std::vector<PlacedTrack> track;
  // Which instance of Config::instances these keys belong to (-1: the
  // instance had errors).
  int config_index = -1;
};

// Sees the shape of a YAML stream without building it: yaml-cpp 0.7 loops
// forever, allocating, when YAML::LoadAll meets a stray top-level ',' (a file
// that is just ","): its parser reports an empty document at that token
// without consuming it, again and again (jbeder/yaml-cpp#1040, fixed upstream
// in 2024 by #1319). So count documents with an event handler that keeps
// nothing, stop when one starts where the previous did, and let YAML::Load
// (one document, no loop) build the tree.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override {
    starts.push_back(mark);
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

struct DocumentScan {
  std::optional<YAML::Mark> second_document;
  std::optional<YAML::Mark> stuck_at;  // the parser made no progress here
};

// Throws YAML::Exception on a syntax error, as YAML::Load would.
DocumentScan ScanDocuments(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  DocumentScan scan;
  while (parser.HandleNextDocument(counter)) {
    const std::vector<YAML::Mark>& starts = counter.starts;
    if (starts.size() >= 2 &&
        starts.back().pos <= starts[starts.size() - 2].pos) {
      scan.stuck_at = starts.back();
      break;
    }
    // Each further document consumes at least its "---", so the stream
    // ends; the cap only bounds the marks kept for a pathological file.
    if (starts.size() >= 2) scan.second_document = starts[1];
    if (starts.size() > 1000) break;
  }
  return scan;
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  Result<Config, std::vector<ConfigError>> Load(std::string_view yaml);

 private:
  void Error(const YAML::Mark& mark, std::string field, std::string message);
  std::vector<ConfigError> TakeErrors();
  SourceLocation Where(const YAML::Mark& mark) const;
  Fields ReadMap(const YAML::Node& map, const std::string& path,
                 std::span<const std::string_view> allowed);

  std::optional<int64_t> ReadInteger(const Entry& entry,
                                     const std::string& field, int64_t min,
                                     int64_t max, std::string_view why = {});
  std::optional<bool> ReadBool(const Entry& entry, const std::string& field);
  std::optional<std::string> ReadString(const Entry& entry,
                                        const std::string& field);
  std::optional<Duration> ReadDuration(const Entry& entry,
                                       const std::string& field);
  template <typename T, size_t N>
  std::optional<T> ReadChoice(const Entry& entry, const std::string& field,
                              const Choice<T> (&choices)[N]);
  std::optional<IpPrefix> ReadAddress(const YAML::Node& node,
                                      const YAML::Mark& mark,
                                      const std::string& field,
                                      bool allow_prefix);
  std::vector<PlacedAddress> ReadAddressList(const Entry& entry,
                                             const std::string& field,
                                             bool allow_prefix,
                                             std::string_view what);
  void CheckFamily(std::span<const PlacedAddress> addresses, Family family,
                   const std::string& family_reason);
  void CheckDuplicates(std::span<const PlacedAddress> addresses);

  std::optional<InstanceConfig> LoadInstance(const YAML::Node& node,
                                             size_t index, InstanceKeys* keys);
  void LoadUnicast(const Entry& entry, const std::string& field,
                   std::optional<Family> family, InstanceConfig* config);
  void LoadAnnounce(const Entry& entry, const std::string& field,
                    InstanceConfig* config);
  void LoadVirtualMac(const Fields& fields, const std::string& path,
                      std::optional<Family> family, InstanceConfig* config,
                      InstanceKeys* keys);
  void LoadAuthentication(const Entry& entry, const std::string& field,
                          std::optional<Version> version,
                          InstanceConfig* config);
  void CheckAcrossInstances(std::span<const InstanceKeys> keys);
  void LoadTrackers(const Entry& entry, Config* config);
  std::optional<TrackerConfig> LoadTracker(const Entry& entry,
                                           const std::string& field);
  void LoadTrackList(const Entry& entry, const std::string& field,
                     InstanceKeys* keys);
  void ResolveTracks(Config* config, std::span<InstanceKeys> keys);
  void WarnWeights(const Config& config);
  void Warning(const SourceLocation& where, std::string field,
               std::string message);

  // Notifications (notify_config.h).
  std::optional<Command> ReadCommand(const Entry& entry,
                                     const std::string& field);
  void LoadNotifyHooks(const Fields& fields, const std::string& path,
                       NotifyHooks* hooks);
  std::optional<std::string> ReadAbsolutePath(const Entry& entry,
                                              const std::string& field);
  void LoadWebhooks(const Entry& entry, NotificationConfig* config);
  void LoadSyncGroups(const Entry& entry, Config* config);
  bool ValidName(const std::string& name) const;

  std::string file_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigWarning> warnings_;
  // Tracker name -> where it is defined, for track: lists.
  std::map<std::string, YAML::Mark, std::less<>> tracker_marks_;
};

SourceLocation Loader::Where(const YAML::Mark& mark) const {
  // yaml-cpp counts from 0 and uses -1 for "no position".
  return SourceLocation{file_, mark.line >= 0 ? mark.line + 1 : 0,
                        mark.column >= 0 ? mark.column + 1 : 0};
}

std::vector<ConfigError> Loader::TakeErrors() {
  // File order, as a compiler reports: the checks run per topic, and the
  // checks across instances run last.
  std::stable_sort(errors_.begin(), errors_.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::pair(a.location.line, a.location.column) <
                            std::pair(b.location.line, b.location.column);
                   });
  return std::move(errors_);
}

void Loader::Error(const YAML::Mark& mark, std::string field,
                   std::string message) {
  errors_.push_back(
      ConfigError{Where(mark), std::move(field), std::move(message)});
}

Fields Loader::ReadMap(const YAML::Node& map, const std::string& path,
                       std::span<const std::string_view> allowed) {
  Fields fields;
  // Not `it->first`: yaml-cpp's operator-> returns a proxy that dies at the
  // end of the expression, leaving a dangling reference. The range-for keeps
  // each key/value pair alive for the whole iteration.
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
      // Unknown keys are errors, not ignored: a misspelt "preemt: false"
      // would otherwise silently keep the default.
      std::string message = "unknown key";
      auto best =
          std::min_element(allowed.begin(), allowed.end(), [&](auto a, auto b) {
            return EditDistance(name, a) < EditDistance(name, b);
          });
      if (best != allowed.end() && EditDistance(name, *best) <= 2) {
        message += "; did you mean \"" + std::string(*best) + "\"?";
      } else {
        message += "; allowed here: " + Join(allowed, ", ");
      }
      Error(key.Mark(), field, message);
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

std::optional<int64_t> Loader::ReadInteger(const Entry& entry,
                                           const std::string& field,
                                           int64_t min, int64_t max,
                                           std::string_view why) {
  std::optional<int64_t> value;
  if (entry.value.IsScalar()) value = ParseInteger(entry.value.Scalar());
  if (value && *value >= min && *value <= max) return value;
  Error(entry.mark(), field,
        "must be an integer " + std::to_string(min) + ".." +
            std::to_string(max) + std::string(why) + ", got " +
            Describe(entry.value));
  return std::nullopt;
}

std::optional<bool> Loader::ReadBool(const Entry& entry,
                                     const std::string& field) {
  if (entry.value.IsScalar()) {
    // YAML 1.2 booleans only: "yes"/"no"/"on" are strings there, and a key
    // that means different things under YAML 1.1 and 1.2 is a trap.
    const std::string& text = entry.value.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
  }
  Error(entry.mark(), field,
        "must be true or false, got " + Describe(entry.value));
  return std::nullopt;
}

std::optional<std::string> Loader::ReadString(const Entry& entry,
                                              const std::string& field) {
  if (entry.value.IsScalar()) return entry.value.Scalar();
  Error(entry.mark(), field, "must be a string, got " + Describe(entry.value));
  return std::nullopt;
}

std::optional<Duration> Loader::ReadDuration(const Entry& entry,
                                             const std::string& field) {
  if (!entry.value.IsScalar()) {
    Error(entry.mark(), field,
          "must be a duration such as 1s, 100ms or 1.5s, got " +
              Describe(entry.value));
    return std::nullopt;
  }
  auto parsed = ParseDurationText(entry.value.Scalar());
  if (!parsed.ok()) {
    Error(entry.mark(), field, parsed.error());
    return std::nullopt;
  }
  return *parsed;
}

template <typename T, size_t N>
std::optional<T> Loader::ReadChoice(const Entry& entry,
                                    const std::string& field,
                                    const Choice<T> (&choices)[N]) {
  if (entry.value.IsScalar()) {
    for (const Choice<T>& choice : choices) {
      if (entry.value.Scalar() == choice.text) return choice.value;
    }
  }
  std::vector<std::string_view> names;
  for (const Choice<T>& choice : choices) names.push_back(choice.text);
  Error(entry.mark(), field,
        "must be " + Join(names, " or ") + ", got " + Describe(entry.value));
  return std::nullopt;
}

std::optional<IpPrefix> Loader::ReadAddress(const YAML::Node& node,
                                            const YAML::Mark& mark,
                                            const std::string& field,
                                            bool allow_prefix) {
  const std::string expected =
      allow_prefix
          ? "must be an IP address or address/prefix-length (e.g. "
            "198.51.100.10/24 or 2001:db8::10/64), got "
          : "must be an IP address (e.g. 192.0.2.1 or 2001:db8::1), got ";
  if (!node.IsScalar()) {
    Error(mark, field, expected + Describe(node));
    return std::nullopt;
  }
  const std::string& text = node.Scalar();
  std::optional<IpPrefix> prefix;
  if (allow_prefix) {
    prefix = IpPrefix::Parse(text);
  } else if (auto address = IpAddress::Parse(text)) {
    prefix =
        IpPrefix{*address, static_cast<uint8_t>(address->is_v4() ? 32 : 128)};
  }
  if (!prefix) {
    Error(mark, field, expected + Quote(text));
    return std::nullopt;
  }
  if (prefix->address.is_unspecified() || prefix->address.is_multicast()) {
    Error(mark, field,
          "must be a unicast address, got " + Quote(text) + " (" +
              (prefix->address.is_multicast() ? "multicast" : "unspecified") +
              ")");
    return std::nullopt;
  }
  return prefix;
}

std::vector<PlacedAddress> Loader::ReadAddressList(const Entry& entry,
                                                   const std::string& field,
                                                   bool allow_prefix,
                                                   std::string_view what) {
  std::vector<PlacedAddress> out;
  if (!entry.value.IsSequence()) {
    Error(entry.mark(), field,
          "must be a list of " + std::string(what) + ", got " +
              Describe(entry.value));
    return out;
  }
  if (entry.value.size() == 0) {
    Error(entry.mark(), field,
          "must list at least one of the " + std::string(what));
    return out;
  }
  size_t index = 0;
  for (const YAML::Node& item : entry.value) {
    const std::string item_field = Index(field, index++);
    // An empty "- " item has the mark of the next token; use the list's.
    const YAML::Mark mark = item.IsNull() ? entry.mark() : item.Mark();
    if (auto prefix = ReadAddress(item, mark, item_field, allow_prefix)) {
      out.push_back(PlacedAddress{*prefix, item_field, mark});
    }
  }
  return out;
}

void Loader::CheckFamily(std::span<const PlacedAddress> addresses,
                         Family family, const std::string& family_reason) {
  for (const PlacedAddress& a : addresses) {
    if (a.prefix.address.family() == family) continue;
    Error(a.mark, a.field,
          a.prefix.address.ToString() + " is " +
              FamilyName(a.prefix.address.family()) + ", but the instance is " +
              FamilyName(family) + " (" + family_reason +
              "); use one instance per address family");
  }
}

void Loader::CheckDuplicates(std::span<const PlacedAddress> addresses) {
  for (size_t i = 0; i < addresses.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      // The same address with another prefix length is still the same
      // address on the wire.
      if (addresses[i].prefix.address != addresses[j].prefix.address) continue;
      Error(addresses[i].mark, addresses[i].field,
            addresses[i].prefix.address.ToString() +
                " is listed twice (first as " + addresses[j].field +
                " at line " + std::to_string(Where(addresses[j].mark).line) +
                ")");
      break;
    }
  }
}

std::optional<InstanceConfig> Loader::LoadInstance(const YAML::Node& node,
                                                   size_t index,
                                                   InstanceKeys* keys) {
  const std::string path = Index("instances", index);
  if (!node.IsMap()) {
    Error(node.Mark(), path,
          "must be a map of instance settings (name:, interface:, vrid:, "
          "virtual_ipaddresses:, ...), got " +
              Describe(node));
    return std::nullopt;
  }
  const size_t errors_before = errors_.size();
  const Fields fields = ReadMap(node, path, kInstanceKeys);
  InstanceConfig config;
  config.location = Where(node.Mark());

  auto required = [&](std::string_view key,
                      std::string_view what) -> const Entry* {
    const Entry* entry = Find(fields, key);
    if (entry == nullptr) {
      Error(node.Mark(), Path(path, key),
            "is required (" + std::string(what) + ")");
    }
    return entry;
  };

  // Identity: name, interface, VRID.
  if (const Entry* e = required("name", "a unique name for the instance")) {
    const std::string field = Path(path, "name");
    if (auto name = ReadString(*e, field)) {
      const bool valid = !name->empty() && name->size() <= kMaxNameLength &&
                         std::all_of(name->begin(), name->end(), [](char c) {
                           return (c >= 'a' && c <= 'z') ||
                                  (c >= 'A' && c <= 'Z') || IsDigit(c) ||
                                  c == '_' || c == '.' || c == '-';
                         });
      if (valid) {
        config.name = *name;
        keys->name = *name;
        keys->name_mark = e->mark();
      } else {
        Error(e->mark(), field,
              "must be 1..64 characters of A-Z, a-z, 0-9, '_', '.', '-' "
              "(it becomes a metric label), got " +
                  Quote(*name));
      }
    }
  }
  if (const Entry* e = required("interface", "the network interface")) {
    const std::string field = Path(path, "interface");
    if (auto name = ReadString(*e, field)) {
      if (ValidInterfaceName(*name)) {
        config.interface = *name;
        keys->interface = *name;
        keys->interface_mark = e->mark();
      } else {
        Error(e->mark(), field, std::string(kInterfaceNameRule) + Quote(*name));
      }
    }
  }
  if (const Entry* e = required("vrid", "the virtual router ID, 1..255")) {
    if (auto vrid = ReadInteger(*e, Path(path, "vrid"), 1, 255)) {
      config.vrid = static_cast<uint8_t>(*vrid);
      keys->vrid = config.vrid;
      keys->vrid_mark = e->mark();
    }
  }

  // Version, then the family, which the addresses may decide.
  std::optional<Version> version = Version::kV3;
  const Entry* version_entry = Find(fields, "version");
  if (version_entry != nullptr) {
    const YAML::Node& value = version_entry->value;
    const std::string text = value.IsScalar() ? value.Scalar() : "";
    if (text == "2" || text == "3") {
      version = text == "2" ? Version::kV2 : Version::kV3;
    } else {
      version.reset();
      Error(version_entry->mark(), Path(path, "version"),
            "must be 2 (VRRPv2, RFC 3768) or 3 (VRRPv3, RFC 5798), got " +
                Describe(value));
    }
  }
  if (version) config.version = *version;

  std::optional<Family> family;
  std::string family_reason;
  const Entry* family_entry = Find(fields, "family");
  if (family_entry != nullptr) {
    family = ReadChoice(*family_entry, Path(path, "family"), kFamilies);
    family_reason =
        "family: at line " + std::to_string(Where(family_entry->mark()).line);
  }

  std::vector<PlacedAddress> vips;
  if (const Entry* e = required("virtual_ipaddresses",
                                "a list of 1..255 virtual addresses")) {
    const std::string field = Path(path, "virtual_ipaddresses");
    vips = ReadAddressList(*e, field, /*allow_prefix=*/true, "addresses");
    if (e->value.IsSequence() && e->value.size() > kMaxVirtualAddresses) {
      Error(e->mark(), field,
            "lists " + std::to_string(e->value.size()) +
                " addresses; at most 255 fit in an advertisement (8-bit "
                "count, RFC 5798 §5.2.5)");
    }
  }
  std::span<const PlacedAddress> vips_to_check = vips;
  if (family_entry == nullptr && !vips.empty()) {
    // No family: given, so the first address sets it and the rest must match.
    family = vips.front().prefix.address.family();
    family_reason = "set by its first address, " + vips.front().field;
    vips_to_check = vips_to_check.subspan(1);
  }
  if (family) {
    config.family = *family;
    keys->family = *family;
    CheckFamily(vips_to_check, *family, family_reason);
  }
  CheckDuplicates(vips);
  for (const PlacedAddress& vip : vips) {
    config.virtual_addresses.push_back(vip.prefix);
  }

  if (version == Version::kV2 && family == Family::kIpv6) {
    Error(version_entry->mark(), Path(path, "version"),
          "VRRPv2 is IPv4-only (RFC 3768), but the instance is ipv6 (" +
              family_reason + "); use version: 3 for IPv6");
  }

  if (const Entry* e = Find(fields, "priority")) {
    if (auto priority = ReadInteger(
            *e, Path(path, "priority"), 1, 255,
            " (255 means the address owner; 0 is reserved for a leaving "
            "master, RFC 5798 §5.2.4)")) {
      config.priority = static_cast<uint8_t>(*priority);
    }
  }

  if (const Entry* e = Find(fields, "advert_interval")) {
    const std::string field = Path(path, "advert_interval");
    if (auto interval = ReadDuration(*e, field); interval && version) {
      const std::string got = ", got " + Describe(e->value);
      if (*version == Version::kV3) {
        // RFC 5798 §5.2.7: a 12-bit count of centiseconds.
        if (*interval % Centiseconds(1) != Duration::zero() ||
            *interval < kMinV3Interval || *interval > kMaxV3Interval) {
          Error(e->mark(), field,
                "must be a multiple of 10ms in 10ms..40.95s for VRRPv3 "
                "(12-bit centiseconds, RFC 5798 §5.2.7)" +
                    got);
        } else {
          config.advert_interval =
              std::chrono::duration_cast<Centiseconds>(*interval);
        }
      } else {
        // RFC 3768 §5.3.7: an 8-bit count of seconds.
        if (*interval % 1s != Duration::zero() || *interval < kMinV2Interval ||
            *interval > kMaxV2Interval) {
          Error(e->mark(), field,
                "must be whole seconds 1s..255s for VRRPv2 (RFC 3768 "
                "§5.3.7)" +
                    got);
        } else {
          config.advert_interval =
              std::chrono::duration_cast<Centiseconds>(*interval);
        }
      }
    }
  }

  // Preemption.
  const Entry* preempt_entry = Find(fields, "preempt");
  if (preempt_entry != nullptr) {
    if (auto preempt = ReadBool(*preempt_entry, Path(path, "preempt"))) {
      config.preempt = *preempt;
    }
  }
  if (const Entry* e = Find(fields, "preempt_delay")) {
    const std::string field = Path(path, "preempt_delay");
    if (auto delay = ReadDuration(*e, field)) {
      if (*delay > kMaxPreemptDelay) {
        Error(e->mark(), field,
              "must be 0s..1000s (Keepalived's limit), got " +
                  Describe(e->value));
      } else {
        config.preempt_delay = *delay;
      }
    }
    if (preempt_entry != nullptr && !config.preempt &&
        config.preempt_delay > Duration::zero()) {
      // A delay before a preemption that never happens is a contradiction,
      // most likely a half-finished edit. 0s, the default spelled out, is
      // not.
      Error(e->mark(), field,
            "has no effect with preempt: false (line " +
                std::to_string(Where(preempt_entry->mark()).line) +
                "); remove one of them");
    }
  }
  if (const Entry* e = Find(fields, "accept")) {
    if (auto accept = ReadBool(*e, Path(path, "accept"))) {
      config.accept = *accept;
    }
  }

  if (const Entry* e = Find(fields, "unicast")) {
    LoadUnicast(*e, Path(path, "unicast"), family, &config);
  }
  if (const Entry* e = Find(fields, "authentication")) {
    LoadAuthentication(*e, Path(path, "authentication"), version, &config);
  }

  if (const Entry* e = Find(fields, "checksum")) {
    const std::string field = Path(path, "checksum");
    auto form = ReadChoice(*e, field, kChecksumForms);
    if (version == Version::kV2 || family == Family::kIpv6) {
      // VRRPv2 has no pseudo-header at all and IPv6 always has one: the
      // choice exists only for VRRPv3 over IPv4.
      Error(e->key.Mark(), field,
            "applies only to VRRPv3 over IPv4, but the instance is " +
                (version == Version::kV2 ? std::string("VRRPv2")
                                         : std::string("ipv6")) +
                "; remove it");
    } else if (form) {
      config.checksum_form = *form;
    }
  }
  if (const Entry* e = Find(fields, "shutdown")) {
    if (auto mode = ReadChoice(*e, Path(path, "shutdown"), kShutdownModes)) {
      config.shutdown_mode = *mode;
    }
  }
  if (const Entry* e = Find(fields, "announce")) {
    LoadAnnounce(*e, Path(path, "announce"), &config);
  }
  LoadVirtualMac(fields, path, family, &config, keys);
  if (const Entry* e = Find(fields, "track")) {
    LoadTrackList(*e, Path(path, "track"), keys);
  }
  if (const Entry* e = Find(fields, "peer_priorities")) {
    const std::string field = Path(path, "peer_priorities");
    if (!e->value.IsSequence() || e->value.size() == 0) {
      Error(e->mark(), field,
            "must be a list of the other routers' priorities (1..255), got " +
                Describe(e->value));
    } else {
      size_t i = 0;
      for (const YAML::Node& item : e->value) {
        const Entry placed{e->key, item};
        if (auto p = ReadInteger(placed, Index(field, i++), 1, 255)) {
          config.peer_priorities.push_back(static_cast<uint8_t>(*p));
        }
      }
    }
  }
  NotifyHooks hooks;
  LoadNotifyHooks(fields, path, &hooks);
  config.notify = std::move(hooks);

  if (errors_.size() != errors_before) return std::nullopt;
  return config;
}

void Loader::LoadAnnounce(const Entry& entry, const std::string& field,
                          InstanceConfig* config) {
  if (!entry.value.IsMap()) {
    Error(entry.mark(), field,
          "must be a map of count, interval, second_burst_after, refresh, "
          "got " +
              Describe(entry.value));
    return;
  }
  const Fields fields = ReadMap(entry.value, field, kAnnounceKeys);
  AnnounceConfig& a = config->announce;
  if (const Entry* e = Find(fields, "count")) {
    if (auto n = ReadInteger(*e, Path(field, "count"), 1, 100, "")) {
      a.count = static_cast<uint32_t>(*n);
    }
  }
  // Each duration with its range: a burst spread over more than 10 s, a
  // second burst later than 10 min or a refresh rarer than a day is no
  // longer what the setting is for.
  struct Limit {
    const char* key;
    Duration* out;
    Duration max;
    const char* what;
  };
  const Limit limits[] = {
      {"interval", &a.interval, std::chrono::seconds(10),
       "0s..10s (between the announcements of one burst)"},
      {"second_burst_after", &a.second_burst_after, std::chrono::minutes(10),
       "0s..10m (0s: no second burst)"},
      {"refresh", &a.refresh, std::chrono::hours(24),
       "0s..24h (0s: no periodic refresh)"},
  };
  for (const Limit& l : limits) {
    const Entry* e = Find(fields, l.key);
    if (e == nullptr) continue;
    const std::string f = Path(field, l.key);
    if (auto d = ReadDuration(*e, f)) {
      if (*d > l.max) {
        Error(e->mark(), f,
              std::string("must be ") + l.what + ", got " + Describe(e->value));
      } else {
        *l.out = *d;
      }
    }
  }
}

void Loader::LoadVirtualMac(const Fields& fields, const std::string& path,
                            std::optional<Family> family,
                            InstanceConfig* config, InstanceKeys* keys) {
  const Entry* on_entry = Find(fields, "virtual_mac");
  std::optional<bool> on = false;
  if (on_entry != nullptr) {
    on = ReadBool(*on_entry, Path(path, "virtual_mac"));
    if (on) config->virtual_mac = *on;
  }
  std::optional<std::string> name;
  const Entry* name_entry = Find(fields, "virtual_mac_interface");
  if (name_entry != nullptr) {
    const std::string field = Path(path, "virtual_mac_interface");
    name = ReadString(*name_entry, field);
    if (name && !ValidInterfaceName(*name)) {
      // The kernel would refuse to create it (dev_valid_name).
      Error(name_entry->mark(), field,
            std::string(kInterfaceNameRule) + Quote(*name));
      name.reset();
    } else if (name && on == false) {
      // A name for a macvlan that is never created is a contradiction, most
      // likely a half-finished edit (as preempt_delay with preempt: false).
      Error(name_entry->key.Mark(), field,
            "has no effect without virtual_mac: true" +
                (on_entry != nullptr
                     ? " (line " +
                           std::to_string(Where(on_entry->mark()).line) + ")"
                     : std::string()) +
                "; set virtual_mac: true or remove it");
      name.reset();
    }
  }
  if (!config->virtual_mac) return;
  if (name) {
    keys->vmac_interface_configured = true;
    keys->vmac_mark = name_entry->mark();
  } else if (name_entry == nullptr && family) {
    // Keepalived's default names (vrrp.VRID; vrrp6.VRID for an IPv6
    // router, whose virtual MAC differs, RFC 5798 §7.3), so both routers of
    // a family can have one on the same interface.
    name = (*family == Family::kIpv4 ? "vrrp." : "vrrp6.") +
           std::to_string(config->vrid);
    keys->vmac_mark = on_entry->mark();
  }
  if (!name) return;
  config->virtual_mac_interface = *name;
  // The VRID may be wrong (reported already); a default name built from it
  // is then meaningless, so compare nothing across instances.
  if (config->vrid != 0) keys->vmac_interface = *name;
}

void Loader::LoadUnicast(const Entry& entry, const std::string& field,
                         std::optional<Family> family, InstanceConfig* config) {
  if (!entry.value.IsMap()) {
    Error(entry.mark(), field,
          "must be a map with peers: (and optionally source:), got " +
              Describe(entry.value));
    return;
  }
  const Fields fields = ReadMap(entry.value, field, kUnicastKeys);
  UnicastConfig unicast;
  if (const Entry* e = Find(fields, "source")) {
    const std::string source_field = Path(field, "source");
    if (auto source = ReadAddress(e->value, e->mark(), source_field,
                                  /*allow_prefix=*/false)) {
      unicast.source = source->address;
      if (family) {
        const PlacedAddress placed{*source, source_field, e->mark()};
        CheckFamily(std::span(&placed, 1), *family,
                    "the family of its virtual addresses");
      }
    }
  }
  const Entry* peers_entry = Find(fields, "peers");
  if (peers_entry == nullptr) {
    Error(entry.mark(), Path(field, "peers"),
          "is required with unicast: (the addresses to send advertisements "
          "to)");
  } else {
    const std::string peers_field = Path(field, "peers");
    std::vector<PlacedAddress> peers = ReadAddressList(
        *peers_entry, peers_field, /*allow_prefix=*/false, "peer addresses");
    if (family) {
      CheckFamily(peers, *family, "the family of its virtual addresses");
    }
    CheckDuplicates(peers);
    for (const PlacedAddress& peer : peers) {
      unicast.peers.push_back(peer.prefix.address);
    }
  }
  config->unicast = std::move(unicast);
}

void Loader::LoadAuthentication(const Entry& entry, const std::string& field,
                                std::optional<Version> version,
                                InstanceConfig* config) {
  if (version == Version::kV3) {
    Error(entry.key.Mark(), field,
          "is VRRPv2-only (RFC 3768 §5.3.6); VRRPv3 removed authentication "
          "(RFC 5798 §9). Set version: 2 or remove it");
  }
  if (!entry.value.IsMap()) {
    Error(entry.mark(), field,
          "must be a map with type: (none or pass) and password:, got " +
              Describe(entry.value));
    return;
  }
  const Fields fields = ReadMap(entry.value, field, kAuthenticationKeys);
  std::optional<AuthType> type;
  if (const Entry* e = Find(fields, "type")) {
    type = ReadChoice(*e, Path(field, "type"), kAuthTypes);
  } else {
    Error(entry.mark(), Path(field, "type"), "is required (none or pass)");
  }
  const Entry* password_entry = Find(fields, "password");
  const std::string password_field = Path(field, "password");
  std::optional<std::string> password;
  if (password_entry != nullptr) {
    password = ReadString(*password_entry, password_field);
    if (password &&
        (password->empty() || password->size() > kMaxPasswordLength)) {
      Error(password_entry->mark(), password_field,
            "must be 1..8 bytes (RFC 3768 §5.3.10), got " +
                std::to_string(password->size()) + " bytes");
      password.reset();
    }
  }
  if (type == AuthType::kSimplePassword && password_entry == nullptr) {
    Error(entry.mark(), password_field, "is required with type: pass");
  }
  if (type == AuthType::kNone && password_entry != nullptr) {
    Error(password_entry->key.Mark(), password_field,
          "is only used with type: pass; remove it or set type: pass");
  }
  if (type && version == Version::kV2) {
    config->auth_type = *type;
    if (*type == AuthType::kSimplePassword && password) {
      config->auth_password = *password;
    }
  }
}

void Loader::CheckAcrossInstances(std::span<const InstanceKeys> keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    const InstanceKeys& a = keys[i];
    for (size_t j = 0; j < i; ++j) {
      const InstanceKeys& b = keys[j];
      if (a.name && b.name && *a.name == *b.name) {
        Error(a.name_mark, Index("instances", i) + ".name",
              "name " + Quote(*a.name) + " is already used by " +
                  Index("instances", j) + " at line " +
                  std::to_string(Where(b.name_mark).line) +
                  "; names must be unique");
        break;
      }
    }
    for (size_t j = 0; j < i; ++j) {
      const InstanceKeys& b = keys[j];
      // RFC 5798 §7.3: the VRID and family pick the virtual MAC, so two
      // routers with the same pair on one link would fight over it. Another
      // interface or the other family is a different virtual router.
      if (a.vrid && b.vrid && a.interface && b.interface && a.family &&
          b.family && *a.vrid == *b.vrid && *a.interface == *b.interface &&
          *a.family == *b.family) {
        Error(a.vrid_mark, Index("instances", i) + ".vrid",
              "VRID " + std::to_string(*a.vrid) + " on " + *a.interface + " (" +
                  FamilyName(*a.family) + ") is already used by " +
                  Index("instances", j) +
                  (b.name ? " (" + Quote(*b.name) + ")" : std::string()) +
                  " at line " + std::to_string(Where(b.vrid_mark).line) +
                  "; VRIDs must be unique per interface and family");
        break;
      }
    }
    if (!a.vmac_interface) continue;
    // The virtual-MAC macvlan is created (or adopted) and deleted by its
    // instance alone, so its name must belong to nobody else: neither to
    // another instance's macvlan nor to any instance's own interface,
    // which it would otherwise try to adopt or delete.
    const std::string field =
        Index("instances", i) + (a.vmac_interface_configured
                                     ? ".virtual_mac_interface"
                                     : ".virtual_mac");
    const std::string hint =
        a.vmac_interface_configured
            ? std::string()
            : " (" + Quote(*a.vmac_interface) +
                  " is the default name; set virtual_mac_interface to a "
                  "name of its own)";
    bool reported = false;
    for (size_t j = 0; j < i && !reported; ++j) {
      const InstanceKeys& b = keys[j];
      if (!b.vmac_interface || *b.vmac_interface != *a.vmac_interface) {
        continue;
      }
      Error(a.vmac_mark, field,
            "virtual MAC interface " + Quote(*a.vmac_interface) +
                " is already used by " + Index("instances", j) +
                (b.name ? " (" + Quote(*b.name) + ")" : std::string()) +
                " at line " + std::to_string(Where(b.vmac_mark).line) +
                "; each instance needs its own" + hint);
      reported = true;
    }
    for (size_t j = 0; j < keys.size() && !reported; ++j) {
      const InstanceKeys& b = keys[j];
      if (!b.interface || *b.interface != *a.vmac_interface) continue;
      Error(a.vmac_mark, field,
            "virtual MAC interface " + Quote(*a.vmac_interface) +
                " is the interface of " +
                (j == i ? std::string("this instance")
                        : Index("instances", j) +
                              (b.name ? " (" + Quote(*b.name) + ")"
                                      : std::string())) +
                " at line " + std::to_string(Where(b.interface_mark).line) +
                "; the macvlan needs a name of its own" + hint);
      reported = true;
    }
  }
}

// ---------------------------------------------------------------------------
// Trackers (README "Trackers")

void Loader::Warning(const SourceLocation& where, std::string field,
                     std::string message) {
  warnings_.push_back(
      ConfigWarning{where, std::move(field), std::move(message)});
}

void Loader::LoadTrackers(const Entry& entry, Config* config) {
  if (entry.value.IsNull()) return;
  if (!entry.value.IsMap()) {
    Error(entry.mark(), "trackers",
          "must be a map of tracker name -> settings (type: exec, http, tcp, "
          "interface, file or process), got " +
              Describe(entry.value));
    return;
  }
  for (const auto& pair : entry.value) {
    const YAML::Node key = pair.first;
    if (!key.IsScalar()) {
      Error(key.Mark(), "trackers",
            "keys must be tracker names, got " + Describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const bool valid = !name.empty() && name.size() <= kMaxNameLength &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') ||
                                (c >= 'A' && c <= 'Z') || IsDigit(c) ||
                                c == '_' || c == '.' || c == '-';
                       });
    const std::string field = "trackers." + (valid ? name : Quote(name));
    if (!valid) {
      Error(key.Mark(), field,
            "a tracker name must be 1..64 characters of A-Z, a-z, 0-9, '_', "
            "'.', '-' (it becomes a metric label), got " +
                Quote(name));
      continue;
    }
    if (auto it = tracker_marks_.find(name); it != tracker_marks_.end()) {
      Error(key.Mark(), field,
            "is defined twice (first at line " +
                std::to_string(Where(it->second).line) + ")");
      continue;
    }
    tracker_marks_.emplace(name, key.Mark());
    if (auto tracker = LoadTracker(Entry{key, pair.second}, field)) {
      tracker->name = name;
      config->trackers.push_back(std::move(*tracker));
    }
  }
}

std::optional<TrackerConfig> Loader::LoadTracker(const Entry& entry,
                                                 const std::string& path) {
  if (!entry.value.IsMap()) {
    Error(entry.mark(), path,
          "must be a map with type: and the type's settings, got " +
              Describe(entry.value));
    return std::nullopt;
  }
  const size_t errors_before = errors_.size();
  const Fields fields = ReadMap(entry.value, path, kTrackerKeys);
  TrackerConfig t;
  t.location = Where(entry.key.Mark());
  const Entry* type_entry = Find(fields, "type");
  if (type_entry == nullptr) {
    Error(entry.mark(), Path(path, "type"),
          "is required (exec, http, tcp, interface, file or process)");
    return std::nullopt;
  }
  auto type = ReadChoice(*type_entry, Path(path, "type"), kTrackerTypes);
  if (!type) return std::nullopt;
  t.type = *type;

  // Keys of another type are errors that name the type they belong to.
  const TrackerTypeKeys* own = nullptr;
  for (const auto& k : kTrackerTypeKeys) {
    if (k.type == t.type) own = &k;
  }
  for (const auto& [key, e] : fields) {
    if (key == "type" || key == "weight" || key == "rise" || key == "fall") {
      continue;
    }
    if (std::find(own->keys.begin(), own->keys.end(), key) != own->keys.end()) {
      continue;
    }
    std::vector<std::string_view> owners;
    for (const auto& k : kTrackerTypeKeys) {
      if (std::find(k.keys.begin(), k.keys.end(), key) != k.keys.end()) {
        owners.push_back(ToString(k.type));
      }
    }
    std::string message =
        "does not apply to type: " + std::string(ToString(t.type)) +
        " (it is for " + Join(owners, ", ") + ")";
    if (t.type == TrackerType::kInterface &&
        (key == "interval" || key == "timeout")) {
      message =
          "does not apply to type: interface: it follows the kernel's link "
          "events as they come, without polling";
    } else if (t.type == TrackerType::kFile && key == "timeout") {
      message = "does not apply to type: file (reading a file has no timeout)";
    }
    Error(e.key.Mark(), Path(path, key), message);
  }

  auto required = [&](std::string_view key,
                      std::string_view what) -> const Entry* {
    const Entry* e = Find(fields, key);
    if (e == nullptr) {
      Error(entry.mark(), Path(path, key),
            "is required for type: " + std::string(ToString(t.type)) + " (" +
                std::string(what) + ")");
    }
    return e;
  };

  if (const Entry* e = Find(fields, "interval")) {
    const std::string field = Path(path, "interval");
    if (auto d = ReadDuration(*e, field)) {
      if (*d < 10ms || *d > 1h) {
        Error(e->mark(), field, "must be 10ms..1h, got " + Describe(e->value));
      } else {
        t.interval = *d;
      }
    }
  }
  t.timeout = std::min<Duration>(t.timeout, t.interval);
  if (const Entry* e = Find(fields, "timeout")) {
    const std::string field = Path(path, "timeout");
    if (auto d = ReadDuration(*e, field)) {
      if (*d < 1ms) {
        Error(e->mark(), field,
              "must be at least 1ms, got " + Describe(e->value));
      } else if (*d > t.interval) {
        // Checks never overlap, so a longer timeout would quietly lower the
        // check rate below the interval.
        Error(e->mark(), field,
              "must not exceed interval (" +
                  std::to_string(
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          t.interval)
                          .count()) +
                  " ms): checks never overlap, so a longer one would delay "
                  "the next; got " +
                  Describe(e->value));
      } else {
        t.timeout = *d;
      }
    }
  }
  for (const char* key : {"rise", "fall"}) {
    if (const Entry* e = Find(fields, key)) {
      if (auto n = ReadInteger(*e, Path(path, key), 1, 100,
                               " (consecutive results to change state)")) {
        (std::string_view(key) == "rise" ? t.rise : t.fall) =
            static_cast<int>(*n);
      }
    }
  }
  if (const Entry* e = Find(fields, "weight")) {
    const int max = t.type == TrackerType::kFile ? kMaxFileWeight : kMaxWeight;
    if (auto w = ReadInteger(*e, Path(path, "weight"), 0, max)) {
      t.weight = static_cast<int>(*w);
    } else if (e->value.IsScalar() && !e->value.Scalar().empty() &&
               e->value.Scalar()[0] == '-') {
      // ReadInteger takes non-negative numbers only; accept -max..-1 here
      // and replace its error, which said 0..max.
      auto n = ParseInteger(e->value.Scalar().substr(1));
      if (n && *n >= 1 && *n <= max) {
        errors_.pop_back();
        t.weight = -static_cast<int>(*n);
      } else {
        errors_.back().message = "must be an integer -" + std::to_string(max) +
                                 ".." + std::to_string(max) +
                                 " (0: Fault when down), got " +
                                 Describe(e->value);
      }
    } else {
      errors_.back().message = "must be an integer -" + std::to_string(max) +
                               ".." + std::to_string(max) +
                               " (0: Fault when down), got " +
                               Describe(e->value);
    }
  }

  switch (t.type) {
    case TrackerType::kExec: {
      if (const Entry* e = required("command",
                                    "the program and its "
                                    "arguments, as a list")) {
        const std::string field = Path(path, "command");
        if (e->value.IsScalar()) {
          Error(e->mark(), field,
                "must be a list: [program, arg, ...]; it runs without a "
                "shell, so a string would be one program name with spaces. "
                "Got " +
                    Describe(e->value));
        } else if (!e->value.IsSequence() || e->value.size() == 0) {
          Error(e->mark(), field,
                "must be a non-empty list [program, arg, ...], got " +
                    Describe(e->value));
        } else {
          size_t i = 0;
          for (const YAML::Node& item : e->value) {
            const std::string item_field = Index(field, i++);
            if (!item.IsScalar()) {
              Error(item.IsNull() ? e->mark() : item.Mark(), item_field,
                    "must be a string, got " + Describe(item));
              continue;
            }
            if (item.Scalar().find('\0') != std::string::npos) {
              Error(item.Mark(), item_field, "must not contain a NUL byte");
              continue;
            }
            t.command.push_back(item.Scalar());
          }
          if (!t.command.empty() && t.command[0].rfind('/', 0) != 0) {
            // execve(2) without a PATH search: the path says what runs, and
            // script security checks that very file.
            Error(e->value[0].Mark(), Index(field, 0),
                  "must be an absolute path (there is no PATH search), got " +
                      Quote(t.command[0]));
          }
        }
      }
      if (const Entry* e = Find(fields, "user")) {
        if (auto u = ReadString(*e, Path(path, "user"))) {
          if (u->empty()) {
            Error(e->mark(), Path(path, "user"), "must not be empty");
          } else {
            t.user = *u;
          }
        }
      }
      break;
    }
    case TrackerType::kHttp: {
      if (const Entry* e = required("url", "http://... or https://...")) {
        if (auto url = ReadString(*e, Path(path, "url"))) {
          if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
            Error(e->mark(), Path(path, "url"),
                  "must start with http:// or https://, got " + Quote(*url));
          } else {
            t.url = *url;
          }
        }
      }
      if (const Entry* e = Find(fields, "expect_status")) {
        if (auto n = ReadInteger(*e, Path(path, "expect_status"), 100, 599)) {
          t.expect_status = static_cast<int>(*n);
        }
      }
      if (const Entry* e = Find(fields, "expect_body")) {
        if (auto b = ReadString(*e, Path(path, "expect_body"))) {
          t.expect_body = *b;
        }
      }
      if (const Entry* e = Find(fields, "tls_verify")) {
        if (auto v = ReadBool(*e, Path(path, "tls_verify"))) {
          t.tls_verify = *v;
          if (!t.url.empty() && t.url.rfind("https://", 0) != 0) {
            Error(e->key.Mark(), Path(path, "tls_verify"),
                  "applies only to an https:// url; remove it");
          }
        }
      }
      break;
    }
    case TrackerType::kTcp: {
      if (const Entry* e = required("address",
                                    "the IP address to connect "
                                    "to")) {
        if (auto a = ReadAddress(e->value, e->mark(), Path(path, "address"),
                                 /*allow_prefix=*/false)) {
          t.address = a->address;
        }
      }
      if (const Entry* e = required("port", "1..65535")) {
        if (auto n = ReadInteger(*e, Path(path, "port"), 1, 65535)) {
          t.port = static_cast<uint16_t>(*n);
        }
      }
      break;
    }
    case TrackerType::kInterface: {
      if (const Entry* e = required("interface", "the interface to watch")) {
        if (auto name = ReadString(*e, Path(path, "interface"))) {
          if (ValidInterfaceName(*name)) {
            t.interface = *name;
          } else {
            Error(e->mark(), Path(path, "interface"),
                  std::string(kInterfaceNameRule) + Quote(*name));
          }
        }
      }
      break;
    }
    case TrackerType::kFile: {
      if (const Entry* e = required("path", "an absolute file path")) {
        if (auto p = ReadString(*e, Path(path, "path"))) {
          if (p->empty() || (*p)[0] != '/') {
            Error(e->mark(), Path(path, "path"),
                  "must be an absolute path, got " + Quote(*p));
          } else {
            t.path = *p;
          }
        }
      }
      break;
    }
    case TrackerType::kProcess: {
      const Entry* name = Find(fields, "process");
      const Entry* pidfile = Find(fields, "pidfile");
      if ((name == nullptr) == (pidfile == nullptr)) {
        Error(entry.mark(), path,
              "type: process needs exactly one of process: (a name) and "
              "pidfile: (a file holding the pid)");
      }
      if (name != nullptr) {
        if (auto n = ReadString(*name, Path(path, "process"))) {
          if (n->empty() || n->find('/') != std::string::npos) {
            Error(name->mark(), Path(path, "process"),
                  "must be a program name without '/' (matched against the "
                  "process name and the base name of argv[0]), got " +
                      Quote(*n));
          } else {
            t.process = *n;
          }
        }
      }
      if (pidfile != nullptr) {
        if (auto p = ReadString(*pidfile, Path(path, "pidfile"))) {
          if (p->empty() || (*p)[0] != '/') {
            Error(pidfile->mark(), Path(path, "pidfile"),
                  "must be an absolute path, got " + Quote(*p));
          } else {
            t.pidfile = *p;
          }
        }
      }
      break;
    }
  }
  if (errors_.size() != errors_before) return std::nullopt;
  return t;
}

void Loader::LoadTrackList(const Entry& entry, const std::string& field,
                           InstanceKeys* keys) {
  if (!entry.value.IsSequence()) {
    Error(entry.mark(), field,
          "must be a list of tracker names or {name:, weight:} maps, got " +
              Describe(entry.value));
    return;
  }
  size_t i = 0;
  for (const YAML::Node& item : entry.value) {
    const std::string item_field = Index(field, i++);
    InstanceKeys::PlacedTrack placed;
    placed.field = item_field;
    placed.mark = item.IsNull() ? entry.mark() : item.Mark();
    if (item.IsScalar()) {
      placed.name = item.Scalar();
    } else if (item.IsMap()) {
      const Fields fields = ReadMap(item, item_field, kTrackKeys);
      const Entry* name = Find(fields, "name");
      if (name == nullptr) {
        Error(placed.mark, Path(item_field, "name"),
              "is required (the tracker's name under trackers:)");
        continue;
      }
      auto n = ReadString(*name, Path(item_field, "name"));
      if (!n) continue;
      placed.name = *n;
      placed.mark = name->mark();
      if (const Entry* w = Find(fields, "weight")) {
        // -254..254; which range applies depends on the tracker's type,
        // checked in ResolveTracks.
        std::optional<int64_t> value;
        if (w->value.IsScalar()) {
          const std::string& text = w->value.Scalar();
          if (!text.empty() && text[0] == '-') {
            if (auto n2 = ParseInteger(text.substr(1))) value = -*n2;
          } else {
            value = ParseInteger(text);
          }
        }
        if (!value || *value < -kMaxFileWeight || *value > kMaxFileWeight) {
          Error(w->mark(), Path(item_field, "weight"),
                "must be an integer -253..253 (-254..254 for a file tracker; "
                "0: Fault when down), got " +
                    Describe(w->value));
          continue;
        }
        placed.weight = static_cast<int>(*value);
      }
    } else {
      Error(placed.mark, item_field,
            "must be a tracker name or a {name:, weight:} map, got " +
                Describe(item));
      continue;
    }
    for (const auto& other : keys->track) {
      if (other.name == placed.name) {
        Error(placed.mark, item_field,
              "tracker " + Quote(placed.name) + " is listed twice (first as " +
                  other.field + ")");
        placed.name.clear();
        break;
      }
    }
    if (!placed.name.empty()) keys->track.push_back(std::move(placed));
  }
}

void Loader::ResolveTracks(Config* config, std::span<InstanceKeys> keys) {
  std::map<std::string_view, const TrackerConfig*> by_name;
  for (const TrackerConfig& t : config->trackers) by_name[t.name] = &t;
  for (InstanceKeys& k : keys) {
    for (const auto& placed : k.track) {
      auto it = by_name.find(placed.name);
      if (it == by_name.end()) {
        if (tracker_marks_.count(placed.name)) continue;  // had errors
        std::string message =
            "no tracker named " + Quote(placed.name) + " under trackers:";
        std::string_view best;
        size_t best_distance = 3;
        for (const auto& [name, mark] : tracker_marks_) {
          const size_t d = EditDistance(placed.name, name);
          if (d < best_distance) {
            best = name;
            best_distance = d;
          }
        }
        if (!best.empty())
          message += "; did you mean \"" + std::string(best) + "\"?";
        Error(placed.mark, placed.field, message);
        continue;
      }
      const TrackerConfig& t = *it->second;
      const int weight = placed.weight.value_or(t.weight);
      if (t.type != TrackerType::kFile &&
          (weight > kMaxWeight || weight < -kMaxWeight)) {
        Error(placed.mark, placed.field + ".weight",
              "must be -253..253 for a " + std::string(ToString(t.type)) +
                  " tracker (254 is for file trackers), got " +
                  std::to_string(weight));
        continue;
      }
      if (k.config_index < 0) continue;
      TrackRef ref;
      ref.tracker = t.name;
      ref.weight = weight;
      ref.location = Where(placed.mark);
      config->instances[static_cast<size_t>(k.config_index)].track.push_back(
          std::move(ref));
    }
  }
}

// A weight that cannot change which router wins is the Keepalived mistake
// users trip over most (master 150, backup 100, weight -20: the failing
// master stays master at 130). The rule: a weight w of an instance with
// priority P can change the election only if, for some peer priority Q,
// P and P + w (clamped to 1..254) lie strictly on opposite sides of Q, or
// one of them equals Q while the other does not (then the address
// tie-break, RFC 5798 §6.4.3, decides, which is not something to rely on:
// we ask for a strict crossing). The peers are peer_priorities: when given,
// else one peer at the default priority 100 is assumed (unless P is 100,
// when nothing can be said). Weights are judged one at a time; several
// failing together add up, which the message says. File trackers are
// skipped (value x weight has no fixed size).
void Loader::WarnWeights(const Config& config) {
  std::map<std::string_view, TrackerType> types;
  for (const TrackerConfig& t : config.trackers) types[t.name] = t.type;
  for (const InstanceConfig& ic : config.instances) {
    for (size_t r = 0; r < ic.track.size(); ++r) {
      const TrackRef& ref = ic.track[r];
      if (ref.weight == 0 || types[ref.tracker] == TrackerType::kFile) {
        continue;
      }
      const std::string field =
          "instance " + ic.name + ": track " + ref.tracker;
      if (ic.is_owner()) {
        Warning(ref.location, field,
                "weight " + std::to_string(ref.weight) +
                    " has no effect: the address owner (priority 255) always "
                    "advertises 255 (RFC 5798 §5.2.4); use weight 0 to put it "
                    "in Fault instead");
        continue;
      }
      std::vector<int> peers(ic.peer_priorities.begin(),
                             ic.peer_priorities.end());
      const bool assumed = peers.empty();
      if (assumed) {
        if (ic.priority == kAssumedPeerPriority) continue;
        peers.push_back(kAssumedPeerPriority);
      }
      const int p = ic.priority;
      const int moved = std::clamp(p + ref.weight, 1, 254);
      bool can_change = false;
      for (int q : peers) {
        // Strictly on opposite sides of q.
        if ((p > q && moved < q) || (p < q && moved > q) ||
            (p == q && moved != q)) {
          can_change = true;
        }
      }
      if (can_change) continue;
      // The weight that would cross the nearest peer on its side.
      std::string needed;
      if (ref.weight < 0) {
        int nearest_below = 0;
        for (int q : peers) {
          if (q < p) nearest_below = std::max(nearest_below, q);
        }
        needed = nearest_below > 1
                     ? "a weight of at most " +
                           std::to_string(nearest_below - 1 - p) +
                           " would put it below " +
                           std::to_string(nearest_below)
                     : "no negative weight can (it is not above any peer)";
      } else {
        int nearest_above = 256;
        for (int q : peers) {
          if (q >= p) nearest_above = std::min(nearest_above, q);
        }
        needed = nearest_above < 254
                     ? "a weight of at least " +
                           std::to_string(nearest_above + 1 - p) +
                           " would put it above " +
                           std::to_string(nearest_above)
                     : "no positive weight can (it is not below any peer "
                       "that a priority up to 254 could pass)";
      }
      std::string peer_list;
      for (int q : peers) {
        peer_list += (peer_list.empty() ? "" : ", ") + std::to_string(q);
      }
      Warning(ref.location, field,
              "weight " + std::to_string(ref.weight) +
                  " cannot change the election: priority " + std::to_string(p) +
                  " becomes " + std::to_string(moved) +
                  (ref.weight < 0 ? " when the tracker fails"
                                  : " when the tracker succeeds") +
                  ", on the same side of every peer priority (" + peer_list +
                  (assumed ? ", assumed: Keepalived's default; list the real "
                             "ones in peer_priorities"
                           : "") +
                  "); " + needed +
                  ", or use weight 0 to put the instance in Fault");
    }
  }
}

Result<Config, std::vector<ConfigError>> Loader::Load(std::string_view yaml) {
  const std::string text(yaml);
  YAML::Node root;
  try {
    const DocumentScan scan = ScanDocuments(text);
    if (scan.stuck_at) {
      const YAML::Mark& mark = *scan.stuck_at;
      const bool comma = mark.pos >= 0 &&
                         static_cast<size_t>(mark.pos) < text.size() &&
                         text[static_cast<size_t>(mark.pos)] == ',';
      Error(mark, "",
            comma ? "YAML syntax error: ',' outside a [list] or {map}"
                  : "YAML syntax error: unexpected token");
      return Err(TakeErrors());
    }
    if (scan.second_document) {
      Error(*scan.second_document, "",
            "only one YAML document is allowed; remove the second \"---\"");
    }
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // ParserException and DeepRecursion carry where the parser stopped.
    Error(e.mark, "", "YAML syntax error: " + e.msg);
    return Err(TakeErrors());
  } catch (const std::exception& e) {
    Error(YAML::Mark::null_mark(), "",
          std::string("cannot parse the file: ") + e.what());
    return Err(TakeErrors());
  }

  Config config;
  config.file = file_;
  if (root.IsNull()) {
    Error(YAML::Mark::null_mark(), "instances",
          "is required, but the file is empty (write \"instances: []\" for "
          "no virtual routers)");
    return Err(TakeErrors());
  }
  if (!root.IsMap()) {
    Error(root.Mark(), "",
          "the top level must be a map with the key instances: (and "
          "optionally trackers:, script_user:, notify_fifo:, ...), got " +
              Describe(root));
    return Err(TakeErrors());
  }
  const Fields fields = ReadMap(root, "", kTopLevelKeys);
  if (const Entry* e = Find(fields, "trackers")) LoadTrackers(*e, &config);
  const Entry* instances = Find(fields, "instances");
  std::vector<InstanceKeys> keys;
  if (instances == nullptr) {
    Error(root.Mark(), "instances",
          "is required (write \"instances: []\" for no virtual routers)");
  } else if (instances->value.IsSequence()) {
    // At their final size: grown by doubling, the old and the new buffer of
    // instances (~760 bytes each) were alive together at the moment the
    // whole YAML tree was too, the daemon's heap peak, which RSS keeps for
    // good (issue 3's memory per instance).
    config.instances.reserve(instances->value.size());
    keys.reserve(instances->value.size());
    size_t index = 0;
    for (const YAML::Node& node : instances->value) {
      InstanceKeys& instance_keys = keys.emplace_back();
      if (auto instance = LoadInstance(node, index, &instance_keys)) {
        instance_keys.config_index = static_cast<int>(config.instances.size());
        config.instances.push_back(std::move(*instance));
      }
      ++index;
    }
  } else if (!instances->value.IsNull()) {
    // A null "instances:" (every entry commented out) counts as empty.
    Error(instances->mark(), "instances",
          "must be a list of instances, got " + Describe(instances->value));
  }
  CheckAcrossInstances(keys);
  ResolveTracks(&config, keys);

  if (const Entry* e = Find(fields, "script_user")) {
    auto user = ReadString(*e, "script_user");
    if (user && !user->empty()) {
      config.script_user = *user;
      config.script_user_location = Where(e->mark());
    } else if (user) {
      Error(e->mark(), "script_user", "must be a user name, got \"\"");
    }
  }
  if (const Entry* e = Find(fields, "notify_fifo")) {
    config.notifications.fifo = ReadAbsolutePath(*e, "notify_fifo");
  }
  if (const Entry* e = Find(fields, "notify_socket")) {
    config.notifications.socket = ReadAbsolutePath(*e, "notify_socket");
  }
  if (config.notifications.fifo && config.notifications.socket &&
      *config.notifications.fifo == *config.notifications.socket) {
    Error(Find(fields, "notify_socket")->mark(), "notify_socket",
          "is the same path as notify_fifo");
  }
  if (const Entry* e = Find(fields, "webhooks")) {
    LoadWebhooks(*e, &config.notifications);
  }
  if (const Entry* e = Find(fields, "sync_groups")) {
    LoadSyncGroups(*e, &config);
  }

  if (!errors_.empty()) return Err(TakeErrors());
  WarnWeights(config);
  std::stable_sort(warnings_.begin(), warnings_.end(),
                   [](const ConfigWarning& a, const ConfigWarning& b) {
                     return std::pair(a.location.line, a.location.column) <
                            std::pair(b.location.line, b.location.column);
                   });
  config.warnings = std::move(warnings_);
  return config;
}

bool Loader::ValidName(const std::string& name) const {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  IsDigit(c) || c == '_' || c == '.' || c == '-';
         });
}

std::optional<std::string> Loader::ReadAbsolutePath(const Entry& entry,
                                                    const std::string& field) {
  auto path = ReadString(entry, field);
  if (!path) return std::nullopt;
  if (path->empty() || (*path)[0] != '/' ||
      path->find('\0') != std::string::npos) {
    Error(entry.mark(), field, "must be an absolute path, got " + Quote(*path));
    return std::nullopt;
  }
  return path;
}

// A command is a list (argv) or a single string naming the program alone:
// a string is never split on spaces, so there is no quoting to get wrong.
std::optional<Command> Loader::ReadCommand(const Entry& entry,
                                           const std::string& field) {
  Command command;
  command.location = Where(entry.mark());
  if (entry.value.IsScalar()) {
    command.argv.push_back(entry.value.Scalar());
  } else if (entry.value.IsSequence() && entry.value.size() > 0 &&
             entry.value.size() <= kMaxCommandArgs) {
    for (const YAML::Node& arg : entry.value) {
      if (!arg.IsScalar()) {
        Error(arg.Mark(), field,
              "arguments must be strings, got " + Describe(arg));
        return std::nullopt;
      }
      command.argv.push_back(arg.Scalar());
    }
  } else {
    Error(entry.mark(), field,
          "must be a program path or a list [program, arg, ...] of 1.." +
              std::to_string(kMaxCommandArgs) + " strings, got " +
              Describe(entry.value));
    return std::nullopt;
  }
  for (const std::string& arg : command.argv) {
    if (arg.find('\0') != std::string::npos) {
      Error(entry.mark(), field, "arguments cannot contain NUL bytes");
      return std::nullopt;
    }
  }
  if (command.argv[0].empty() || command.argv[0][0] != '/') {
    Error(entry.mark(), field,
          "the program must be an absolute path (there is no PATH search and "
          "no shell), got " +
              Quote(command.argv[0]));
    return std::nullopt;
  }
  return command;
}

void Loader::LoadNotifyHooks(const Fields& fields, const std::string& path,
                             NotifyHooks* hooks) {
  if (const Entry* e = Find(fields, "notify")) {
    const std::string field = Path(path, "notify");
    if (!e->value.IsMap()) {
      Error(e->mark(), field,
            "must be a map of hooks (master:, backup:, fault:, stop:, any:), "
            "got " +
                Describe(e->value));
    } else {
      const Fields hook_fields = ReadMap(e->value, field, kNotifyKeys);
      std::pair<std::string_view, std::optional<Command>*> slots[] = {
          {"master", &hooks->master},
          {"backup", &hooks->backup},
          {"fault", &hooks->fault},
          {"stop", &hooks->stop},
          {"any", &hooks->any}};
      for (auto& [key, slot] : slots) {
        if (const Entry* h = Find(hook_fields, key)) {
          *slot = ReadCommand(*h, Path(field, key));
        }
      }
    }
  }
  if (const Entry* e = Find(fields, "notify_timeout")) {
    const std::string field = Path(path, "notify_timeout");
    if (auto d = ReadDuration(*e, field)) {
      if (*d <= Duration::zero() || *d > kMaxNotifyTimeout) {
        Error(e->mark(), field,
              "must be more than 0 and at most 1h, got " +
                  Quote(e->value.Scalar()));
      } else {
        hooks->timeout = *d;
      }
    }
  }
}

void Loader::LoadWebhooks(const Entry& entry, NotificationConfig* config) {
  if (entry.value.IsNull()) return;
  if (!entry.value.IsSequence()) {
    Error(entry.mark(), "webhooks",
          "must be a list of {url:, timeout:, headers:}, got " +
              Describe(entry.value));
    return;
  }
  size_t index = 0;
  for (const YAML::Node& node : entry.value) {
    const std::string path = Index("webhooks", index++);
    if (!node.IsMap()) {
      Error(node.Mark(), path,
            "must be a map {url:, timeout:, headers:}, got " + Describe(node));
      continue;
    }
    const Fields fields = ReadMap(node, path, kWebhookKeys);
    WebhookConfig hook;
    hook.location = Where(node.Mark());
    bool ok = true;
    if (const Entry* e = Find(fields, "url")) {
      auto url = ReadString(*e, Path(path, "url"));
      const bool scheme =
          url && (url->starts_with("http://") || url->starts_with("https://"));
      const bool clean =
          url && std::all_of(url->begin(), url->end(),
                             [](char c) { return c > ' ' && c < 0x7f; });
      if (scheme && clean && url->size() <= 2048) {
        hook.url = *url;
      } else {
        ok = false;
        if (url) {
          Error(e->mark(), Path(path, "url"),
                "must be an http:// or https:// URL without spaces, got " +
                    Quote(*url));
        }
      }
    } else {
      ok = false;
      Error(node.Mark(), Path(path, "url"), "is required");
    }
    if (const Entry* e = Find(fields, "timeout")) {
      if (auto d = ReadDuration(*e, Path(path, "timeout"))) {
        if (*d <= Duration::zero() || *d > kMaxWebhookTimeout) {
          ok = false;
          Error(e->mark(), Path(path, "timeout"),
                "must be more than 0 and at most 60s, got " +
                    Quote(e->value.Scalar()));
        } else {
          hook.timeout = *d;
        }
      } else {
        ok = false;
      }
    }
    if (const Entry* e = Find(fields, "headers")) {
      const std::string field = Path(path, "headers");
      if (!e->value.IsMap()) {
        ok = false;
        Error(e->mark(), field,
              "must be a map of header names to values, got " +
                  Describe(e->value));
      } else {
        for (const auto& pair : e->value) {
          const YAML::Node key = pair.first;
          const YAML::Node value = pair.second;
          // RFC 9110 §5.1 field names are tokens; values must not be able
          // to inject another header line.
          const bool name_ok =
              key.IsScalar() && !key.Scalar().empty() &&
              std::all_of(key.Scalar().begin(), key.Scalar().end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       IsDigit(c) ||
                       std::string_view("!#$%&'*+-.^_`|~").find(c) !=
                           std::string_view::npos;
              });
          const bool value_ok =
              value.IsScalar() &&
              std::all_of(value.Scalar().begin(), value.Scalar().end(),
                          [](char c) { return c != '\r' && c != '\n' && c; });
          if (!name_ok || !value_ok) {
            ok = false;
            Error(key.Mark(), field,
                  "each header must be NAME: value (a token name, a value "
                  "without line breaks), got " +
                      Describe(key));
            continue;
          }
          hook.headers.emplace_back(key.Scalar(), value.Scalar());
        }
      }
    }
    if (ok) config->webhooks.push_back(std::move(hook));
  }
}

void Loader::LoadSyncGroups(const Entry& entry, Config* config) {
  if (entry.value.IsNull()) return;
  if (!entry.value.IsSequence()) {
    Error(entry.mark(), "sync_groups",
          "must be a list of {name:, instances:, notify:}, got " +
              Describe(entry.value));
    return;
  }
  // instance name -> the group that already claimed it
  std::map<std::string, std::string> member_of;
  std::map<std::string, int> group_lines;
  size_t index = 0;
  for (const YAML::Node& node : entry.value) {
    const std::string path = Index("sync_groups", index++);
    if (!node.IsMap()) {
      Error(
          node.Mark(), path,
          "must be a map {name:, instances:, notify:}, got " + Describe(node));
      continue;
    }
    const size_t errors_before = errors_.size();
    const Fields fields = ReadMap(node, path, kSyncGroupKeys);
    SyncGroupConfig group;
    group.location = Where(node.Mark());
    if (const Entry* e = Find(fields, "name")) {
      auto name = ReadString(*e, Path(path, "name"));
      if (name && ValidName(*name)) {
        group.name = *name;
        if (auto [it, fresh] =
                group_lines.emplace(*name, Where(e->mark()).line);
            !fresh) {
          Error(e->mark(), Path(path, "name"),
                "is already used by the sync group at line " +
                    std::to_string(it->second));
        }
      } else if (name) {
        Error(e->mark(), Path(path, "name"),
              "must be 1..64 characters of A-Z, a-z, 0-9, '_', '.', '-', "
              "got " +
                  Quote(*name));
      }
    } else {
      Error(node.Mark(), Path(path, "name"), "is required");
    }
    if (const Entry* e = Find(fields, "instances")) {
      const std::string field = Path(path, "instances");
      if (!e->value.IsSequence() || e->value.size() < 2) {
        Error(e->mark(), field,
              "must be a list of at least 2 instance names (a group of one "
              "has nothing to synchronise), got " +
                  Describe(e->value));
      } else {
        for (const YAML::Node& member : e->value) {
          if (!member.IsScalar()) {
            Error(member.Mark(), field,
                  "must list instance names, got " + Describe(member));
            continue;
          }
          const std::string& name = member.Scalar();
          const bool known = std::any_of(
              config->instances.begin(), config->instances.end(),
              [&](const InstanceConfig& i) { return i.name == name; });
          if (!known) {
            Error(member.Mark(), field, "names no instance: " + Quote(name));
            continue;
          }
          if (auto [it, fresh] = member_of.emplace(name, group.name); !fresh) {
            Error(member.Mark(), field,
                  Quote(name) + " is already in sync group " +
                      Quote(it->second) +
                      " (an instance can be in one group only)");
            continue;
          }
          group.instances.push_back(name);
        }
      }
    } else {
      Error(node.Mark(), Path(path, "instances"), "is required");
    }
    LoadNotifyHooks(fields, path, &group.notify);
    if (errors_.size() == errors_before) {
      config->sync_groups.push_back(std::move(group));
    }
  }
}

}  // namespace

std::string ConfigError::ToString() const {
  std::string out = location.file.empty() ? "<config>" : location.file;
  if (location.line > 0) {
    out += ":" + std::to_string(location.line);
    if (location.column > 0) out += ":" + std::to_string(location.column);
  }
  out += ": ";
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

Result<Duration, std::string> ParseDuration(std::string_view text) {
  return ParseDurationText(text);
}

Result<Config, std::vector<ConfigError>> LoadConfigString(
    std::string_view yaml, const std::string& file_name) {
  try {
    return Loader(file_name).Load(yaml);
  } catch (const std::exception& e) {
    // Only allocation failure can get here; the loader must still not throw.
    return Err(std::vector<ConfigError>{ConfigError{
        SourceLocation{file_name, 0, 0}, "",
        std::string("cannot load the configuration: ") + e.what()}});
  }
}

Result<Config, std::vector<ConfigError>> LoadConfigFile(
    const std::string& path) {
  // A configuration larger than this is a mistake (a log file, a disk image),
  // and reading it whole would only waste memory.
  constexpr size_t kMaxFileSize = 16 << 20;
  auto fail = [&](int error) {
    return Err(std::vector<ConfigError>{ConfigError{
        SourceLocation{path, 0, 0}, "",
        "cannot read the configuration file: " + FileReadErrorText(error)}});
  };
  auto text = ReadSmallFile(path, kMaxFileSize);
  if (!text.ok()) return fail(text.error());
  return LoadConfigString(text.value(), path);
}

}  // namespace vrrp
