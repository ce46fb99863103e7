#include "conformance/scenario.h"

#include <charconv>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "fakes/fake_scheduler.h"
#include "fakes/fake_wire.h"
#include "vrrp/link_layer.h"
#include "vrrp/router.h"

namespace vrrp::testing {

namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

std::string Trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// "1s", "3609.375ms", "100cs", "500us", "7ns".
std::optional<Duration> ParseDur(const std::string& text) {
  size_t unit = text.find_first_not_of("0123456789.");
  if (unit == 0 || unit == std::string::npos) return std::nullopt;
  std::string num = text.substr(0, unit), u = text.substr(unit);
  long double scale;
  if (u == "s") {
    scale = 1e9L;
  } else if (u == "ms") {
    scale = 1e6L;
  } else if (u == "cs") {
    scale = 1e7L;
  } else if (u == "us") {
    scale = 1e3L;
  } else if (u == "ns") {
    scale = 1;
  } else {
    return std::nullopt;
  }
  // Exact decimal parse: integer and fraction digits separately.
  auto dot = num.find('.');
  std::string ip = num.substr(0, dot);
  std::string fp = dot == std::string::npos ? "" : num.substr(dot + 1);
  long double v = ip.empty() ? 0 : std::stold(ip);
  long double f = 0, div = 1;
  for (char c : fp) {
    f = f * 10 + (c - '0');
    div *= 10;
  }
  return Duration(static_cast<int64_t>((v + f / div) * scale + 0.5L));
}

using KeyValues = std::map<std::string, std::string>;

KeyValues ParseKeyValues(const std::vector<std::string>& words, size_t from) {
  KeyValues kv;
  for (size_t i = from; i < words.size(); ++i) {
    auto eq = words[i].find('=');
    if (eq == std::string::npos) {
      kv[words[i]] = "";
    } else {
      kv[words[i].substr(0, eq)] = words[i].substr(eq + 1);
    }
  }
  return kv;
}

struct ScenarioError {
  std::string message;
};

IpAddress Addr(const std::string& s) {
  auto a = IpAddress::Parse(s);
  if (!a) throw ScenarioError{"bad address '" + s + "'"};
  return *a;
}

int Int(const std::string& s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    throw ScenarioError{"bad number '" + s + "'"};
  }
  return v;
}

Duration Dur(const std::string& s) {
  auto d = ParseDur(s);
  if (!d) throw ScenarioError{"bad duration '" + s + "'"};
  return *d;
}

std::array<uint8_t, 8> AuthData(const std::string& pw) {
  std::array<uint8_t, 8> a{};
  for (size_t i = 0; i < pw.size() && i < 8; ++i) a[i] = pw[i];
  return a;
}

// `recv ... hex=`: the VRRP message exactly as written, so that a scenario
// can feed bytes our encoder would never produce (and does not share its
// bugs). Hex digits, optionally grouped with '_'.
std::vector<uint8_t> RawBytes(const KeyValues& kv) {
  for (const char* k :
       {"prio", "int", "vrid", "version", "vips", "auth", "form"}) {
    if (kv.count(k)) {
      throw ScenarioError{std::string("recv hex= takes no '") + k + "'"};
    }
  }
  std::string digits;
  for (char c : kv.at("hex")) {
    if (c != '_') digits += c;
  }
  if (digits.size() % 2 != 0) throw ScenarioError{"odd number of hex digits"};
  std::vector<uint8_t> out;
  for (size_t i = 0; i < digits.size(); i += 2) {
    uint8_t b = 0;
    auto [p, ec] =
        std::from_chars(digits.data() + i, digits.data() + i + 2, b, 16);
    if (ec != std::errc() || p != digits.data() + i + 2) {
      throw ScenarioError{"bad hex '" + digits.substr(i, 2) + "'"};
    }
    out.push_back(b);
  }
  return out;
}

// Collects every output of the instance under test as text.
class Recorder : public PacketIo,
                 public AddressManager,
                 public InstanceObserver {
 public:
  Recorder(FakeScheduler& s, Version v) : scheduler_(s), version_(v) {}

  std::optional<IpAddress> SourceAddress() const override {
    return has_source ? std::optional<IpAddress>(source) : std::nullopt;
  }
  void SendAdvertisement(const Advertisement& adv) override {
    Emit("send prio=" + std::to_string(adv.priority) +
         " int=" + FormatDuration(adv.max_adver_interval));
  }
  void Announce(std::span<const IpPrefix>) override { Emit("announce"); }
  void AddAddress(const std::string&, const IpPrefix& a) override {
    Emit("add " + a.ToString());
  }
  void RemoveAddress(const std::string&, const IpPrefix& a) override {
    Emit("remove " + a.ToString());
  }
  void OnTransition(const Instance&, const Transition& t) override {
    std::string line = "transition " + std::string(ToString(t.from)) + "->" +
                       std::string(ToString(t.to)) + " " +
                       std::string(ToString(t.reason));
    if (t.master_silence)
      line += " silence=" + FormatDuration(*t.master_silence);
    Emit(line);
    transitions.insert({version_, t.from, t.to, t.reason});
  }
  void OnReceiveError(const Instance&, ReceiveError e, const IpAddress&,
                      ReceiveErrorAction action) override {
    Emit("error " + std::string(ToString(e)) +
         (action == ReceiveErrorAction::kFollowed ? " followed" : ""));
  }
  void Emit(const std::string& what) {
    outputs.push_back(FormatDuration(scheduler_.Elapsed()) + " " + what);
  }

  IpAddress source;
  bool has_source = true;
  std::deque<std::string> outputs;
  std::set<std::tuple<Version, State, State, TransitionReason>> transitions;

 private:
  FakeScheduler& scheduler_;
  Version version_;
};

// The router's link layer in a scenario: one interface, eth0, whose state
// the script sets (`link`, `addr-del`) and whose addresses follow what the
// instance adds and removes; every instance's port is the Recorder.
class ScenarioLinkLayer : public LinkLayer {
 public:
  explicit ScenarioLinkLayer(Recorder& rec) : rec_(rec) {
    eth0_.name = "eth0";
    eth0_.ifindex = 2;
    eth0_.admin_up = eth0_.up = true;
  }
  void SetInputs(Inputs) override {}
  const InterfaceState& Interface(const std::string& name) override {
    if (name == "eth0") return eth0_;
    auto [it, fresh] = others_.try_emplace(name);
    it->second.name = name;
    return it->second;
  }
  void RereadAddresses(const std::string&, Family) override {}
  std::unique_ptr<InstancePort> OpenPort(
      std::shared_ptr<const InstanceConfig> config) override {
    return std::make_unique<Port>(*this, std::move(config));
  }
  VirtualMacStatus EnsureVirtualMac(const InstanceConfig&) override {
    return {};
  }
  void ReleaseVirtualMac(const InstanceConfig&) override {}
  void RemoveStrayAddress(const std::string&, const IpPrefix& a) override {
    rec_.Emit("stray " + a.ToString());
    Forget(a);
  }

  InterfaceState& eth0() { return eth0_; }
  void Forget(const IpPrefix& a) {
    std::erase_if(eth0_.of(a.address.family()),
                  [&](const InterfaceAddress& x) { return x.prefix == a; });
  }

 private:
  class Port : public InstancePort, public AddressManager {
   public:
    Port(ScenarioLinkLayer& link, std::shared_ptr<const InstanceConfig> c)
        : link_(link), config_(std::move(c)) {}
    std::optional<IpAddress> SourceAddress() const override {
      return link_.rec_.SourceAddress();
    }
    void SendAdvertisement(const Advertisement& adv) override {
      link_.rec_.SendAdvertisement(adv);
    }
    // `announce` for every address (becoming master, healing), `announce
    // A,B` for some (added by a reload, put back after a removal).
    void Announce(std::span<const IpPrefix> addresses) override {
      if (addresses.size() >= config_->virtual_addresses.size()) {
        link_.rec_.Emit("announce");
        return;
      }
      std::string list;
      for (const auto& a : addresses) {
        list += (list.empty() ? "" : ",") + a.ToString();
      }
      link_.rec_.Emit("announce " + list);
    }
    AddressManager& addresses() override { return *this; }
    void Reconfigure(std::shared_ptr<const InstanceConfig> c) override {
      config_ = std::move(c);
    }
    void AddAddress(const std::string& itf, const IpPrefix& a) override {
      link_.rec_.AddAddress(itf, a);
      InterfaceAddress entry;
      entry.ifindex = 2;
      entry.prefix = a;
      entry.secondary = true;
      entry.nodad = true;
      link_.eth0_.of(a.address.family()).push_back(entry);
    }
    void RemoveAddress(const std::string& itf, const IpPrefix& a) override {
      link_.rec_.RemoveAddress(itf, a);
      link_.Forget(a);
    }

   private:
    ScenarioLinkLayer& link_;
    std::shared_ptr<const InstanceConfig> config_;
  };

  Recorder& rec_;
  InterfaceState eth0_;
  std::map<std::string, InterfaceState> others_;
};

// A datagram on eth0, through the router's decoder and demultiplexer: what
// it refuses before any instance is output as `drop REASON`.
void Receive(Router& router, Recorder& rec, std::span<const uint8_t> bytes,
             const DatagramInfo& info) {
  auto before = router.receive_errors();
  router.OnDatagram("eth0", info.source.family(), bytes, info);
  const auto& after = router.receive_errors();
  auto it = after.find("eth0");
  if (it == after.end()) return;
  for (size_t e = 0; e < kReceiveErrorCount; ++e) {
    const uint64_t was = before.count("eth0") ? before["eth0"][e] : 0;
    for (uint64_t n = was; n < it->second[e]; ++n) {
      rec.Emit("drop " + std::string(ToString(static_cast<ReceiveError>(e))));
    }
  }
}

Config OneInstance(const InstanceConfig& instance) {
  Config c;
  c.instances = {instance};
  return c;
}

InstanceConfig BuildConfig(const KeyValues& kv, Version version,
                           IpAddress* source) {
  InstanceConfig c;
  c.name = "vr";
  c.interface = "eth0";
  c.version = version;
  for (const auto& [k, v] : kv) {
    if (k == "versions") {
      continue;
    } else if (k == "vrid") {
      c.vrid = static_cast<uint8_t>(Int(v));
    } else if (k == "priority") {
      c.priority = static_cast<uint8_t>(Int(v));
    } else if (k == "interval") {
      c.advert_interval = std::chrono::duration_cast<Centiseconds>(Dur(v));
    } else if (k == "vips") {
      for (const auto& p : Split(v, ',')) {
        auto prefix = IpPrefix::Parse(p);
        if (!prefix) throw ScenarioError{"bad prefix '" + p + "'"};
        c.virtual_addresses.push_back(*prefix);
      }
    } else if (k == "source") {
      *source = Addr(v);
    } else if (k == "preempt") {
      c.preempt = v == "true";
    } else if (k == "preempt_delay") {
      c.preempt_delay = Dur(v);
    } else if (k == "auth") {
      if (v.rfind("pass:", 0) == 0) {
        c.auth_type = AuthType::kSimplePassword;
        c.auth_password = v.substr(5);
      }
    } else if (k == "shutdown") {
      c.shutdown_mode =
          v == "strict" ? ShutdownMode::kStrict : ShutdownMode::kHitless;
    } else if (k == "unicast_peers") {
      c.unicast.emplace();
      for (const auto& p : Split(v, ',')) c.unicast->peers.push_back(Addr(p));
    } else if (k == "checksum") {
      c.checksum_form = v == "without-pseudo-header"
                            ? ChecksumForm::kWithoutPseudoHeader
                            : ChecksumForm::kWithPseudoHeader;
    } else {
      throw ScenarioError{"unknown config key '" + k + "'"};
    }
  }
  if (!c.virtual_addresses.empty()) {
    c.family = c.virtual_addresses.front().address.family();
  }
  return c;
}

}  // namespace

std::string FormatDuration(Duration d) {
  // Milliseconds with only the digits that matter: "3609.375ms", "0ms".
  const int64_t ns = d.count();
  const bool neg = ns < 0;
  const uint64_t a = neg ? -static_cast<uint64_t>(ns) : ns;
  std::string s = std::to_string(a / 1000000);
  uint64_t frac = a % 1000000;
  if (frac) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%06llu",
                  static_cast<unsigned long long>(frac));
    std::string f = buf;
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return (neg ? "-" : "") + s + "ms";
}

std::vector<Version> ScenarioVersions(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto words = Split(Trim(line), ' ');
    if (words.empty() || words[0] != "config") continue;
    auto kv = ParseKeyValues(words, 1);
    std::vector<Version> out;
    for (const auto& v :
         Split(kv.count("versions") ? kv["versions"] : "3", ',')) {
      out.push_back(v == "2" ? Version::kV2 : Version::kV3);
    }
    return out;
  }
  return {Version::kV3};
}

ScenarioResult RunScenario(const std::string& path, Version version) {
  ScenarioResult result;
  std::ifstream in(path);
  if (!in) {
    result.ok = false;
    result.failure = path + ": cannot open";
    return result;
  }
  FakeScheduler scheduler;
  Recorder rec(scheduler, version);
  ScenarioLinkLayer link(rec);
  std::unique_ptr<Router> router;
  Instance* instance = nullptr;
  InstanceConfig config;
  KeyValues config_keys;
  // The instance the script talks to: the router's (a reload may have
  // re-created it), or the last one while it releases.
  auto current = [&]() -> Instance* {
    if (router) {
      if (Instance* i = router->Find(config.name)) instance = i;
    }
    return instance;
  };
  int line_no = 0;
  auto fail = [&](const std::string& msg) {
    result.ok = false;
    result.failure = path + ":" + std::to_string(line_no) + " (v" +
                     std::string(ToString(version)) + "): " + msg;
  };
  auto require_no_pending = [&]() -> bool {
    if (rec.outputs.empty()) return true;
    std::string all;
    for (const auto& o : rec.outputs) all += "\n    > " + o;
    fail("unexpected output(s) not listed in the scenario:" + all);
    return false;
  };

  std::string raw;
  try {
    while (std::getline(in, raw)) {
      ++line_no;
      const std::string line = Trim(raw);
      if (line.empty() || line[0] == '#') continue;
      if (line[0] == '>') {
        const std::string want = Trim(line.substr(1));
        if (rec.outputs.empty()) {
          fail("expected '" + want + "' but nothing more was output");
          return result;
        }
        const std::string got = rec.outputs.front();
        rec.outputs.pop_front();
        if (got != want) {
          fail("expected '" + want + "'\n         got '" + got + "'");
          return result;
        }
        continue;
      }
      if (!require_no_pending()) return result;
      auto words = Split(line, ' ');
      const std::string& cmd = words[0];
      auto kv = ParseKeyValues(words, 1);
      if (cmd == "config") {
        config_keys = kv;
        config = BuildConfig(kv, version, &rec.source);
        router = std::make_unique<Router>(
            scheduler, link,
            Router::Options{.observer = &rec,
                            .log = {},
                            .on_group_transition = {},
                            .on_change = {},
                            .unix_now = [] { return 0.0; }});
        continue;
      }
      if (!router) throw ScenarioError{"'config' must come first"};
      if (cmd == "start") {
        if (instance) {
          // Another Startup event for the running instance.
          current()->Start();
          continue;
        }
        router->Start(OneInstance(config));
        instance = router->Find(config.name);
        continue;
      }
      if (cmd == "link") {
        // `link up|down` or `link IF up|down`: through the router, as a
        // netlink link event would come.
        const bool up = words.back() == "up";
        const std::string itf = words.size() > 2 ? words[1] : "eth0";
        if (itf != "eth0") throw ScenarioError{"only eth0 exists"};
        link.eth0().admin_up = link.eth0().up = up;
        router->OnLink(itf);
        continue;
      }
      if (cmd == "addr-del") {
        // Someone else deletes an address (`ip addr del`); its netlink
        // event reaches the router.
        if (words.size() != 3) throw ScenarioError{"addr-del IF PREFIX"};
        auto prefix = IpPrefix::Parse(words[2]);
        if (!prefix) throw ScenarioError{"bad prefix '" + words[2] + "'"};
        link.Forget(*prefix);
        router->OnAddresses(words[1]);
        continue;
      }
      if (cmd == "reload") {
        // The configuration line again, with these keys changed.
        for (const auto& [k, v] : kv) config_keys[k] = v;
        config = BuildConfig(config_keys, version, &rec.source);
        router->Reload(OneInstance(config));
        continue;
      }
      if (current() == nullptr) throw ScenarioError{"'start' must come first"};
      if (cmd == "shutdown") {
        instance->Shutdown([&rec] { rec.Emit("released"); });
      } else if (cmd == "advance") {
        if (words.size() != 2) throw ScenarioError{"advance DURATION"};
        scheduler.Advance(Dur(words[1]));
      } else if (cmd == "tracker") {
        instance->SetTrackerFault(words.size() > 1 && words[1] == "fault");
      } else if (cmd == "delta") {
        instance->SetPriorityDelta(Int(words.at(1)));
      } else if (cmd == "no-source" || cmd == "source") {
        rec.has_source = cmd == "source";
        instance->SourceAddressChanged();
      } else if (cmd == "late") {
        if (words.size() != 2) throw ScenarioError{"late DURATION"};
        scheduler.SetLateness(Dur(words[1]));
      } else if (cmd == "stall") {
        if (words.size() != 2) throw ScenarioError{"stall DURATION"};
        scheduler.Stall(Dur(words[1]));
      } else if (cmd == "recv" && kv.count("hex")) {
        const IpAddress from = Addr(kv.at("from"));
        const IpAddress group =
            kv.count("to") ? Addr(kv["to"]) : VrrpMulticastGroup(from.family());
        DatagramInfo info{
            from, group,
            static_cast<uint8_t>(kv.count("ttl") ? Int(kv["ttl"]) : 255)};
        Receive(*router, rec, RawBytes(kv), info);
      } else if (cmd == "recv") {
        Advertisement adv;
        adv.version = kv.count("version")
                          ? (kv["version"] == "2" ? Version::kV2 : Version::kV3)
                          : config.version;
        adv.vrid = static_cast<uint8_t>(kv.count("vrid") ? Int(kv["vrid"])
                                                         : config.vrid);
        adv.priority = static_cast<uint8_t>(Int(kv.at("prio")));
        adv.max_adver_interval =
            kv.count("int")
                ? std::chrono::duration_cast<Centiseconds>(Dur(kv["int"]))
                : config.advert_interval;
        if (kv.count("vips")) {
          for (const auto& p : Split(kv["vips"], ','))
            adv.addresses.push_back(Addr(p));
        } else {
          for (const auto& p : config.virtual_addresses) {
            adv.addresses.push_back(p.address);
          }
        }
        std::string auth = kv.count("auth") ? kv["auth"]
                           : config.auth_type == AuthType::kSimplePassword
                               ? "pass:" + config.auth_password
                               : "none";
        if (auth.rfind("pass:", 0) == 0) {
          adv.auth_type = AuthType::kSimplePassword;
          adv.auth_data = AuthData(auth.substr(5));
        }
        const IpAddress from = Addr(kv.at("from"));
        const ChecksumForm form =
            kv.count("form") && kv["form"] == "without-pseudo-header"
                ? ChecksumForm::kWithoutPseudoHeader
                : ChecksumForm::kWithPseudoHeader;
        const IpAddress group =
            kv.count("to") ? Addr(kv["to"]) : VrrpMulticastGroup(from.family());
        auto bytes = EncodeAdvertisement(adv, from, group, form);
        DatagramInfo info{
            from, group,
            static_cast<uint8_t>(kv.count("ttl") ? Int(kv["ttl"]) : 255)};
        Receive(*router, rec, bytes, info);
      } else if (cmd == "check") {
        const InstanceStatus s = instance->Status();
        const InstanceStats& counters = instance->stats();
        for (const auto& [k, v] : kv) {
          std::string got;
          if (k == "state") {
            got = ToString(s.state);
          } else if (k == "master") {
            got = s.master_address ? s.master_address->ToString() : "none";
          } else if (k == "master_prio") {
            got = std::to_string(s.master_priority);
          } else if (k == "eff_prio") {
            got = std::to_string(s.effective_priority);
          } else if (k == "master_int") {
            got = FormatDuration(s.master_advert_interval);
            if (got != FormatDuration(Dur(v))) {
              fail("check " + k + ": want " + v + " got " + got);
              return result;
            }
            continue;
          } else if (k == "received") {
            got = std::to_string(counters.advertisements_received);
          } else if (k == "sent") {
            got = std::to_string(counters.advertisements_sent);
          } else if (k == "prio0_received") {
            got = std::to_string(counters.priority_zero_received);
          } else if (k == "prio0_sent") {
            got = std::to_string(counters.priority_zero_sent);
          } else if (k == "become_master") {
            got = std::to_string(counters.become_master);
          } else if (k == "release_master") {
            got = std::to_string(counters.release_master);
          } else if (k == "announcements") {
            got = std::to_string(counters.announcements);
          } else if (k == "with_pseudo") {
            got = std::to_string(counters.received_with_pseudo_header);
          } else if (k == "without_pseudo") {
            got = std::to_string(counters.received_without_pseudo_header);
          } else if (k == "max_lateness") {
            got = FormatDuration(counters.max_advert_timer_lateness);
            if (got != FormatDuration(Dur(v))) {
              fail("check " + k + ": want " + v + " got " + got);
              return result;
            }
            continue;
          } else if (k == "releasing") {
            got = s.releasing ? "true" : "false";
          } else if (k.rfind("error.", 0) == 0) {
            bool found = false;
            for (size_t i = 0; i < kReceiveErrorCount; ++i) {
              auto e = static_cast<ReceiveError>(i);
              if (ToString(e) == k.substr(6)) {
                got = std::to_string(counters.errors(e));
                found = true;
              }
            }
            if (!found) throw ScenarioError{"unknown error '" + k + "'"};
          } else {
            throw ScenarioError{"unknown check '" + k + "'"};
          }
          if (got != v) {
            fail("check " + k + ": want " + v + " got " + got);
            return result;
          }
        }
      } else {
        throw ScenarioError{"unknown command '" + cmd + "'"};
      }
    }
  } catch (const ScenarioError& e) {
    fail(e.message);
    return result;
  } catch (const std::exception& e) {
    fail(std::string("malformed line: ") + e.what());
    return result;
  }
  if (!require_no_pending()) return result;
  result.transitions = rec.transitions;
  return result;
}

}  // namespace vrrp::testing
